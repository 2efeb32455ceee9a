#!/bin/bash
# t_soak.sh — many FTP sessions at once over one SSH connection: SESSIONS
# concurrent curl sessions of TRANSFERS downloads each (half passive, half
# active; files from 1 B to 1 MiB), ROUNDS times, through one
# ftp-tunnel -L ftp/. Every file must arrive sha256-equal, and ftp-tunnel's
# descriptors and memory must not grow from one round to the next (after
# the first, which warms its buffers up).
#   TT_SOAK_SESSIONS (default 20), TT_SOAK_TRANSFERS (5), TT_SOAK_ROUNDS (3);
#   `make soak` runs 100 x 20 x 3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init soak
SESSIONS=${TT_SOAK_SESSIONS:-20}
TRANSFERS=${TT_SOAK_TRANSFERS:-5}
ROUNDS=${TT_SOAK_ROUNDS:-3}

tt_sshd || tt_die "sshd"
# Passive ports for every session's listener and for those a finished
# transfer still holds: with 100 ports for 100 sessions vsftpd sometimes
# found none free and ended a session ("500 OOPS: vsf_sysutil_bind"; the
# EPSV or PASV missing its reply in vsftpd's log), 1 to 3 files of 6000.
TT_VSFTPD_PASV_PORTS=$((SESSIONS * 4 > 100 ? SESSIONS * 4 : 100)) tt_vsftpd || tt_die "vsftpd"
sizes=(1 100 4096 65536 300000 1048576 7 33333)
for i in $(seq "$TRANSFERS"); do
	head -c "${sizes[$(((i - 1) % ${#sizes[@]}))]}" /dev/urandom >"$VSFTPD_PUB/f$i"
done
chmod -R a+rX "$VSFTPD_PUB"
LP=$(tt_free_port)
ft_tunnel -L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" "$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel"

fds() { ls "/proc/$FT_PID/fd" | wc -l; }
round() { # n: every session at once; prints the number of bad files
	local r=$1 s pids=() bad=0 out mode
	for s in $(seq "$SESSIONS"); do
		out="$T/r$r/s$s"
		mkdir -p "$out"
		mode=()
		[ $((s % 2)) = 0 ] && mode=(-P -)
		curl -sS --max-time 300 "${mode[@]}" -o "$out/f#1" \
			"ftp://127.0.0.1:$LP/pub/f[1-$TRANSFERS]" >"$out.log" 2>&1 &
		pids+=($!)
	done
	for s in "${pids[@]}"; do wait "$s" || bad=$((bad + 1000)); done
	for s in $(seq "$SESSIONS"); do
		for i in $(seq "$TRANSFERS"); do
			cmp -s "$VSFTPD_PUB/f$i" "$T/r$r/s$s/f$i" || {
				bad=$((bad + 1))
				echo "round $r session $s: f$i differs ($(stat -c %s "$T/r$r/s$s/f$i" 2>&1))" >>"$T/logs/bad.txt"
				cp "$s.log" "$T/logs/" 2>/dev/null
				cp "$T/r$r/s$s.log" "$T/logs/r$r-s$s.log" 2>/dev/null
			}
		done
	done
	rm -rf "$T/r$r"
	echo "$bad"
}

declare -a RSS FDS
for r in $(seq "$ROUNDS"); do
	t0=$(date +%s%N)
	bad=$(round "$r")
	ms=$((($(date +%s%N) - t0) / 1000000))
	sleep 1 # channels closing after the last 226
	RSS[$r]=$(ft_rss_kb "$FT_PID")
	FDS[$r]=$(fds)
	tt_check "round $r: $SESSIONS sessions x $TRANSFERS files, all equal, in $ms ms (bad: $bad; RSS ${RSS[$r]} KiB, $((FDS[$r])) fds)" \
		[ "$bad" = 0 ]
done
for r in $(seq 2 "$ROUNDS"); do
	tt_check "round $r: descriptors back to round 1's (${FDS[1]} -> ${FDS[$r]})" \
		[ "${FDS[$r]}" -le "${FDS[1]}" ]
	tt_check "round $r: memory not growing (${RSS[1]} -> ${RSS[$r]} KiB; slack 10% + 1 MiB)" \
		[ "${RSS[$r]}" -le $((RSS[1] + RSS[1] / 10 + 1024)) ]
done
tt_check "ftp-tunnel still running" _tt_alive "$FT_PID"
[ -s "$T/logs/bad.txt" ] && sed 's/^/# /' "$T/logs/bad.txt" | head -20

tt_done
