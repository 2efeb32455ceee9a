#!/bin/bash
# t_ipc_stall.sh — a slow IPC client does not hold up ftp-tunneld: while
# connections that sent half a request and stall keep arriving (every
# 0.2 s, helpers/ipc_staller.py), another client's STATUS is answered in
# under 0.5 s, and a transfer through a tunnel the daemon holds
# (ftp-tunnel -f) runs as fast as without them; the daemon drops each
# staller after its 2 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init ipc_stall
tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/f" 64M
chmod -R a+rX "$VSFTPD_PUB"

FT=$TT_BUILD/ftp-tunnel
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock" FTP_TUNNELD="$TT_BUILD/ftp-tunneld"
mkdir -p "$T/run" && chmod 700 "$T/run"
LP=$(tt_free_port)
out=$("$FT" -f -i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" \
	-o StrictHostKeyChecking=yes -o BatchMode=yes -p "$SSHD_PORT" \
	-L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" "$SSH_USER@127.0.0.1" 2>&1) ||
	tt_die "ftp-tunnel -f: $out"
dp=$("$FT" status 2>/dev/null | awk '/^pid:/ {print $2}')
[ -n "$dp" ] && tt_track "$dp"

ms() { echo $(($(date +%s%N) / 1000000)); }

# A transfer through the held tunnel (sha256 checked); its time in ms in
# $took.
transfer() { # label
	local t0
	rm -f "$T/got"
	t0=$(ms)
	curl -sS --max-time 20 -o "$T/got" "ftp://127.0.0.1:$LP/pub/f" >"$T/logs/curl-$1.log" 2>&1
	took=$(($(ms) - t0))
	tt_same "$VSFTPD_PUB/f" "$T/got" "$1: 64 MiB through the held tunnel in $took ms"
}
transfer alone
base=$took

python3 "$TT_LIB_DIR/helpers/ipc_staller.py" "$FTP_TUNNEL_SOCKET" 60 >"$T/staller.out" 2>&1 &
STALLER=$!
tt_track "$STALLER"
sleep 0.5

transfer "with stallers"
busy=$took
tt_check "the held tunnel's transfer was not held up ($busy ms, alone $base ms)" \
	[ "$busy" -lt $((base * 2 + 1000)) ]

# STATUS from another client, five times while stallers keep coming.
worst=0
for i in 1 2 3 4 5; do
	t0=$(ms)
	"$FT" status >"$T/status.$i" 2>&1
	t=$(($(ms) - t0))
	[ "$t" -gt "$worst" ] && worst=$t
	sleep 0.3
done
tt_check "STATUS answered in under 500 ms while stallers hold their connections (worst $worst ms)" \
	[ "$worst" -lt 500 ]
tt_check "and its answer lists the held tunnel" grep -q "$LP" "$T/status.5"

# Each staller is closed 2 s after its connect: wait for a few.
tt_wait_until 100 eval '[ "$(grep -c "closed after" "$T/staller.out")" -ge 5 ]'
kill "$STALLER"
wait "$STALLER" 2>/dev/null
tt_untrack "$STALLER"
n=$(grep -c "closed after" "$T/staller.out")
tt_log "stallers closed by the daemon: $n; $(head -3 "$T/staller.out" | tr '\n' ' ')"
tt_check "the daemon closed the stalled connections ($n)" [ "$n" -ge 5 ]
tt_check "the daemon is still there" _tt_alive "$dp"
"$FT" stop >/dev/null 2>&1
tt_done
