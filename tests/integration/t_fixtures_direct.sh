#!/bin/bash
# t_fixtures_direct.sh — self-test of the fixtures, with no tunnel: vsftpd,
# pure-ftpd and proftpd (each on 127.0.0.1 and on ::1) against every
# client x mode x op that clients.sh supports, 0 B / 1 B / 1 MiB down and
# up, compared by sha256; the data commands each session really sent, read
# from the servers' command logs; and a private sshd carrying a plain TCP
# stream with `ssh -L`. This is the baseline the tunnel tests build on: a
# cell that fails here is the fixture's or the client's problem, not the
# tunnel's. Cells that cannot work even directly are listed by
# tt_ftp_known_broken (clients.sh) and reported as skipped with the reason.
#
# TT_DIRECT_SERVERS (default: all six) and TT_DIRECT_CLIENTS (default:
# every client) narrow the run. Each server's matrix runs in its own worker
# process, all at once (TT_DIRECT_JOBS at a time, default 6).

. "$(dirname "$0")/lib.sh"
tt_init fixtures_direct

SERVERS=${TT_DIRECT_SERVERS:-"vsftpd pureftpd proftpd vsftpd6 pureftpd6 proftpd6"}
CLIENTS=${TT_DIRECT_CLIENTS:-$TT_FTP_CLIENTS}
JOBS=${TT_DIRECT_JOBS:-6}
SIZES="f0 f1 f1m" # 0 B, 1 B, 1 MiB
t0=$EPOCHREALTIME

# ---- servers -------------------------------------------------------------

start_server() { # NAME: name -> fixture call (the prefix is NAME in upper case)
	case $1 in
	vsftpd) tt_vsftpd "" 127.0.0.1 VSFTPD ;;
	pureftpd) tt_pureftpd "" 127.0.0.1 PUREFTPD ;;
	proftpd) tt_proftpd "" 127.0.0.1 PROFTPD ;;
	vsftpd6) tt_vsftpd "" ::1 VSFTPD6 ;;
	pureftpd6) tt_pureftpd "" ::1 PUREFTPD6 ;;
	proftpd6) tt_proftpd "" ::1 PROFTPD6 ;;
	*) return 1 ;;
	esac
}

for s in $SERVERS; do
	if start_server "$s"; then
		tt_pass "$s ($FTP_NAME) greets on $FTP_HOST:$FTP_PORT, passive ports $FTP_PASV_MIN-$FTP_PASV_MAX"
	else
		tt_die "$s did not start"
	fi
	# pub/: f0 f1 f1m, and m/ (for mget) with the same and two more.
	tt_mkfile "$FTP_PUB/f0" 0
	tt_mkfile "$FTP_PUB/f1" 1
	tt_mkfile "$FTP_PUB/f1m" 1M
	mkdir -p "$FTP_PUB/m"
	cp "$FTP_PUB/f0" "$FTP_PUB/f1" "$FTP_PUB/f1m" "$FTP_PUB/m/"
	tt_mkfile "$FTP_PUB/m/m3" 3K
	tt_mkfile "$FTP_PUB/m/m4" 64K
	chmod -R a+rX "$FTP_PUB"
done
tt_mkfile "$T/src/f0" 0
tt_mkfile "$T/src/f1" 1
tt_mkfile "$T/src/f1m" 1M

dups=$(sort "$T/.ports" | uniq -d | head -3)
tt_check "tt_free_port / tt_free_range never hand out a port twice" [ -z "$dups" ]
# pure-ftpd's bind mount lives in its own mount namespace only.
tt_check "pure-ftpd's bind mount on ~ftp is invisible to the host" \
	[ -z "$(findmnt -n "$(getent passwd ftp | cut -d: -f6)" 2>/dev/null)" ]

# ---- one cell -------------------------------------------------------------

# A worker writes one result a line to its file: "ok|LABEL|DETAIL",
# "fail|LABEL|DETAIL", "skip|LABEL|REASON", "known|LABEL|REASON" or
# "wire|SERVER CLIENT MODE|OP: COMMANDS"; the main shell replays them.
res() { printf '%s|%s|%s\n' "$1" "$2" "$3" >>"$RES"; }

# cell SERVER CLIENT MODE OP: OP for every size, one result. The data
# commands the server logged must all be MODE's (a client that silently
# falls back to another mode fails here).
cell() {
	local s=$1 c=$2 m=$3 op=$4 P host port pub up name out bad="" f rc wire dt t1
	P=$(echo "$s" | tr a-z A-Z)
	host=${P}_HOST port=${P}_PORT pub=${P}_PUB up=${P}_UPLOAD_DIR name=${P}_NAME
	host=${!host} port=${!port} pub=${!pub} up=${!up} name=${!name}
	local label="$s $c $m $op"
	if ! tt_ftp_supports "$c" "$m" "$op" "$host"; then
		res skip "$label" "$TT_FTP_WHY"
		return
	fi
	if tt_ftp_known_broken "$name" "$c" "$m" "$op" "$host"; then
		res known "$label" "$TT_FTP_WHY"
		return
	fi
	out="$T/out/$s/$c-$m"
	mkdir -p "$out"
	t1=$EPOCHREALTIME
	tt_wire_mark "$P"
	case $op in
	get)
		for f in $SIZES; do
			tt_ftp "$c" "$m" get "$host" "$port" "pub/$f" "$out/$f"
			rc=$?
			[ "$rc" -eq 0 ] || { bad="$bad $f:exit=$rc"; continue; }
			tt_cmp "$pub/$f" "$out/$f" || bad="$bad $f:differs"
		done
		;;
	put)
		for f in $SIZES; do
			tt_ftp "$c" "$m" put "$host" "$port" "upload/$c-$m-$f" "$T/src/$f"
			rc=$?
			[ "$rc" -eq 0 ] || { bad="$bad $f:exit=$rc"; continue; }
			tt_cmp "$T/src/$f" "$up/$c-$m-$f" || bad="$bad $f:differs"
		done
		;;
	ls)
		tt_ftp "$c" "$m" ls "$host" "$port" pub "$out/ls"
		rc=$?
		if [ "$rc" -ne 0 ]; then
			bad=" exit=$rc"
		else
			for f in $SIZES; do grep -q "$f" "$out/ls" || bad="$bad $f:not-listed"; done
		fi
		;;
	mget)
		tt_ftp "$c" "$m" mget "$host" "$port" pub/m "$out/m"
		rc=$?
		[ "$rc" -eq 0 ] || bad=" exit=$rc"
		for f in "$pub"/m/*; do
			tt_cmp "$f" "$out/m/$(basename "$f")" || bad="$bad $(basename "$f"):differs"
		done
		;;
	esac
	wire=$(tt_wire "$P")
	if [ -n "$wire" ]; then
		tt_wire_only "$P" "$m" || bad="$bad wire:[$wire],want:$(tt_ftp_mode_cmd "$m")"
		res wire "$s $c $m" "$op: $wire"
	fi
	dt=$(awk -v a="$t1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2fs", b - a }')
	if [ -z "$bad" ]; then
		res ok "$label" "${wire:+[$wire] }$dt"
	else
		res fail "$label" "${bad# } $dt (log: $TT_FTP_LOG)"
	fi
}

# worker SERVER: the whole matrix for SERVER (runs in a subshell).
worker() {
	local s=$1 P host c m op
	# Only this worker's clients are its to stop; the servers are the
	# main shell's.
	TT_KILL=()
	trap - EXIT
	trap 'for e in "${TT_KILL[@]}"; do kill -TERM -- "$e" 2>/dev/null; done; exit 143' TERM INT
	RES="$T/results.$s"
	P=$(echo "$s" | tr a-z A-Z)
	host=${P}_HOST
	for c in $CLIENTS; do
		for m in $TT_FTP_MODES; do
			# A mode the client cannot do at all: one line for its ops.
			if ! tt_ftp_supports "$c" "$m" get "${!host}"; then
				res skip "$s $c $m (every op)" "$TT_FTP_WHY"
				continue
			fi
			for op in $TT_FTP_OPS; do
				cell "$s" "$c" "$m" "$op"
			done
		done
	done
	exit 0
}

running=()
for s in $SERVERS; do
	: >"$T/results.$s"
	(worker "$s") &
	tt_track $!
	running+=($!)
	if [ ${#running[@]} -ge "$JOBS" ]; then
		wait "${running[0]}"
		tt_untrack "${running[0]}"
		running=("${running[@]:1}")
	fi
done
for p in "${running[@]}"; do
	wait "$p"
	tt_untrack "$p"
done

declare -A WIRE=()
KNOWN=()
FAILED=()
for s in $SERVERS; do
	while IFS='|' read -r kind label detail; do
		case $kind in
		ok) tt_pass "$label $detail" ;;
		fail)
			tt_fail "$label: $detail"
			FAILED+=("$label: $detail")
			;;
		skip) tt_skip "$label: $detail" ;;
		known)
			tt_skip "$label: fails even directly: $detail"
			KNOWN+=("$label: $detail")
			;;
		wire) WIRE[$label]="${WIRE[$label]:+${WIRE[$label]}; }$detail" ;;
		esac
	done <"$T/results.$s"
done
t_matrix=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

# ---- sshd: ssh -L carries a plain TCP stream ------------------------------

if tt_sshd; then
	tt_pass "sshd accepts a key login on 127.0.0.1:$SSHD_PORT and [::1]:$SSHD_PORT"
else
	tt_die "sshd did not start"
fi
cfg=$(tt_ssh_config)
for h in 127.0.0.1 ::1 localhost tt-sshd; do
	tt_check "ssh -F ssh_config $h: host key known, key login" \
		timeout 20 ssh -F "$cfg" "$h" true
done
tt_check "known_hosts has [127.0.0.1]:$SSHD_PORT for ssh-keygen -F" \
	tt_quiet ssh-keygen -F "[127.0.0.1]:$SSHD_PORT" -f "$SSH_KNOWN_HOSTS"
tt_check "sshd_config passes sshd -t" tt_quiet "$TT_SSHD_BIN" -t -f "$SSHD_CONFIG"

eport=$(tt_free_port)
tt_spawn -g -o "$T/logs/echo.log" socat "TCP-LISTEN:$eport,bind=127.0.0.1,reuseaddr,fork" EXEC:cat
tt_wait_port "$eport" || tt_fail "echo server on $eport"
for lh in 127.0.0.1 ::1; do
	lport=$(tt_free_port)
	tt_spawn -o "$T/logs/ssh-L-$lport.log" ssh -F "$cfg" -N -o ExitOnForwardFailure=yes \
		-L "$(tt_urlhost "$lh"):$lport:127.0.0.1:$eport" tt-sshd
	fwd=$TT_PID
	if ! tt_wait_port "$lport"; then
		tt_fail "ssh -L on $lh:$lport"
		continue
	fi
	socat -t 10 -T 20 - "TCP:$(tt_urlhost "$lh"):$lport" <"$T/src/f1m" >"$T/out-echo-$lport"
	tt_same "$T/src/f1m" "$T/out-echo-$lport" "ssh -L $lh:$lport -> sshd -> echo server: 1 MiB back intact"
	tt_kill "$fwd"
done
tt_check "sshd logged the key logins" grep -q "Accepted publickey for root" "$SSHD_LOG"

# ---- summary --------------------------------------------------------------

echo "# data commands on the wire per (server, client, mode), from the server's log:"
for k in $(printf '%s\n' "${!WIRE[@]}" | sort | tr ' ' '|'); do
	k=${k//|/ }
	printf '#   %-24s %s\n' "$k" "${WIRE[$k]}"
done
if [ ${#KNOWN[@]} -gt 0 ]; then
	echo "# cells that cannot work even directly (tt_ftp_known_broken):"
	printf '#   %s\n' "${KNOWN[@]}"
fi
if [ ${#FAILED[@]} -gt 0 ]; then
	echo "# cells that failed:"
	printf '#   %s\n' "${FAILED[@]}"
fi
echo "# matrix ${t_matrix} s, total $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
tt_done
