#!/bin/bash
# t_faults.sh — faults in the middle of a transfer, through `ftp-tunnel -L
# ftp/` and through the daemon (ftp-tunnel-wrap --via): the session's sshd
# killed, the FTP server's session killed, the FTP client killed, the
# daemon stopped (`ftp-tunnel stop`), the SSH server unreachable (its
# link taken down, then up again).
#
# Topology: the client side (curl, ftp-tunnel, the daemon) in NS_CLI,
# whose firewall lets only SSH to SRV_IP:22 out; sshd and vsftpd in
# NS_SRV. Each download is rate limited (curl --limit-rate) to last about
# 4 s, and the fault comes once 1 MiB has arrived. Asserted for each: curl
# exits with an error, within FAULT_MAX seconds of the fault (measured);
# nothing but SSH left the client host (firewall drop counters, and
# vsftpd never saw a connection from CLI_IP); ftp-tunnel (when its SSH
# connection lived) and the daemon survive, same pid, with their
# descriptors back where they were; the next transfer arrives
# sha256-equal, after a new SSH connection where the old one was lost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init faults
FAULT_MAX=${FAULT_MAX:-30}
RATE=4M

tt_netns_topology firewall || tt_die "namespaces"
tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "sshd"
# The server sends at twice the client's pace at most: unbounded, it may
# have written the whole file into the socket buffers and the channel
# window (and said 226) before the fault, which then faults nothing.
TT_VSFTPD_EXTRA="anon_max_rate=8388608" tt_vsftpd "$NS_SRV" "$SRV_IP" || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/big" 16M
chmod -R a+rX "$VSFTPD_PUB"
BIG=$(stat -c %s "$VSFTPD_PUB/big")
KEEPALIVE=(-o ServerAliveInterval=1 -o ServerAliveCountMax=3)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# kids PID: PID's children (one level).
kids() { pgrep -P "$1" 2>/dev/null; }
# desc PID: every descendant of PID.
desc() {
	local c
	for c in $(kids "$1"); do
		echo "$c"
		desc "$c"
	done
}
killall_of() { # PID...: SIGKILL each (our own processes, by pid)
	local p
	for p in "$@"; do kill -KILL "$p" 2>/dev/null; done
}

# get_start URL [PREFIX...]: curl in NS_CLI downloads URL into $T/got at
# RATE in the background (CURL_PID: the process started), and returns
# once 1 MiB has arrived.
get_start() {
	local url=$1
	shift
	rm -f "$T/got"
	ip netns exec "$NS_CLI" "$@" curl -sS --limit-rate "$RATE" --max-time 90 \
		-o "$T/got" "$url" >"$T/curl.log" 2>&1 &
	CURL_PID=$!
	tt_wait_until 100 eval '[ "$(size_of "$T/got")" -ge 1048576 ]' ||
		{ tt_fail "$CASE: the transfer did not start: $(cat "$T/curl.log")"; return 1; }
}
# get_wait: wait for that curl (up to FAULT_MAX + 10 s), counted from
# FAULT_T0. Sets CURL_RC and CURL_SECS.
get_wait() {
	local i
	for ((i = 0; i < (FAULT_MAX + 10) * 10; i++)); do
		_tt_alive "$CURL_PID" || break
		sleep 0.1
	done
	CURL_SECS=$(since "$FAULT_T0")
	if _tt_alive "$CURL_PID"; then
		kill -KILL "$CURL_PID"
		wait "$CURL_PID" 2>/dev/null
		CURL_RC=hung
	else
		wait "$CURL_PID"
		CURL_RC=$?
	fi
}
# fault_assert: curl failed in time, nothing went out in clear text.
fault_assert() {
	local got
	got=$(size_of "$T/got")
	if [ "$CURL_RC" != hung ] && [ "$CURL_RC" -ne 0 ] &&
		awk -v s="$CURL_SECS" -v m="$FAULT_MAX" 'BEGIN { exit !(s < m) }'; then
		tt_pass "$CASE: curl failed (exit $CURL_RC) ${CURL_SECS}s after the fault, $got of $BIG B: $(tail -1 "$T/curl.log")"
	else
		tt_fail "$CASE: curl exit $CURL_RC after ${CURL_SECS}s (want an error within ${FAULT_MAX}s): $(tail -1 "$T/curl.log")"
	fi
	clear_text_check
}
clear_text_check() {
	tt_check "$CASE: nothing but SSH left the client host ($(tt_netns_drops) drops)" \
		[ "$(tt_netns_drops)" -eq 0 ]
}
# next_get LABEL URL [PREFIX...]: an unlimited transfer, sha256-compared.
next_get() {
	local label=$1 url=$2
	shift 2
	rm -f "$T/next"
	ip netns exec "$NS_CLI" "$@" curl -sS --max-time 60 -o "$T/next" "$url" >"$T/next.log" 2>&1
	local rc=$?
	if [ "$rc" = 0 ] && tt_cmp "$VSFTPD_PUB/big" "$T/next"; then
		tt_pass "$label (sha256 equal)"
	else
		tt_fail "$label: curl exit $rc: $(tail -2 "$T/next.log")"
	fi
}
# fds_back PID BASE: PID's descriptors return to BASE (+1) within 5 s.
fds_at_most() { [ "$(nfds "$1")" -le "$2" ]; }
fds_back() {
	tt_wait_until 50 fds_at_most "$1" $(($2 + 1))
	tt_check "$CASE: descriptors back to $(nfds "$1") (before: $2)" [ "$(nfds "$1")" -le $(($2 + 1)) ]
}
# sshd_sessions: the sshd processes serving connections (the listener's
# descendants); only one SSH client is connected at a time here.
sshd_sessions() { desc "$SSHD_PID"; }
ftp_sessions() { desc "$VSFTPD_PID"; }

tt_netns_drops_reset
if ip netns exec "$NS_CLI" curl -s --max-time 3 "ftp://$SRV_IP:$VSFTPD_PORT/" >/dev/null; then
	tt_fail "control case: the FTP server is reachable from the client host directly"
else
	tt_pass "control case: the FTP server is not reachable directly ($(tt_netns_drops) packets dropped)"
fi
tt_netns_drops_reset

# ======================= ftp-tunnel -L ftp/ ==================================

LP=$(tt_free_port "$NS_CLI")
LURL="ftp://127.0.0.1:$LP/pub/big"
lstart() {
	# One that failed to end is stopped first (its port is wanted).
	[ -n "${FT_PID:-}" ] && _tt_alive "$FT_PID" && tt_kill "$FT_PID"
	ft_tunnel -n "$NS_CLI" "${KEEPALIVE[@]}" -L "ftp/$LP:$SRV_IP:$VSFTPD_PORT" \
		"$SSH_USER@$SRV_IP" || tt_die "ftp-tunnel"
}
lstart
next_get "-L: a first transfer" "$LURL"
FT_FDS=$(nfds "$FT_PID")

CASE="-L: FTP client killed"
get_start "$LURL" && {
	FAULT_T0=$(now)
	kill -KILL "$CURL_PID"
	wait "$CURL_PID" 2>/dev/null
	tt_check "$CASE: ftp-tunnel still running" _tt_alive "$FT_PID"
	fds_back "$FT_PID" "$FT_FDS"
	# Idle past three keepalive intervals: what the server still sent
	# for the dead transfer must not block the keepalive replies.
	sleep 5
	tt_check "$CASE: ftp-tunnel still running 5 s later (keepalives answered)" \
		_tt_alive "$FT_PID"
	clear_text_check
	next_get "$CASE: the next transfer" "$LURL"
}

CASE="-L: FTP server's session killed"
get_start "$LURL" && {
	FAULT_T0=$(now)
	killall_of $(ftp_sessions)
	get_wait
	fault_assert
	tt_check "$CASE: ftp-tunnel still running" _tt_alive "$FT_PID"
	fds_back "$FT_PID" "$FT_FDS"
	next_get "$CASE: the next transfer" "$LURL"
}

# Losing its SSH connection ends a foreground ftp-tunnel (as ssh -L): it
# must say so and exit at once, and a new one works.
CASE="-L: the session's sshd killed"
get_start "$LURL" && {
	FAULT_T0=$(now)
	killall_of $(sshd_sessions)
	get_wait
	fault_assert
	tt_wait_until 100 eval '! _tt_alive "$FT_PID"'
	tt_check "$CASE: ftp-tunnel ended with the SSH connection ($(tail -1 "$FT_LOG"))" \
		eval '! _tt_alive "$FT_PID"'
	lstart
	next_get "$CASE: a new ftp-tunnel, the next transfer" "$LURL"
}

CASE="-L: sshd unreachable (link down)"
get_start "$LURL" && {
	FAULT_T0=$(now)
	ip -n "$NS_CLI" link set v-cli down
	get_wait
	fault_assert
	tt_wait_until 150 eval '! _tt_alive "$FT_PID"'
	tt_check "$CASE: ftp-tunnel gave up on the silent server ($(grep -o 'Timeout.*' "$FT_LOG" | tail -1))" \
		eval '! _tt_alive "$FT_PID"'
	ip -n "$NS_CLI" link set v-cli up
	tt_wait_until 50 ip netns exec "$NS_CLI" bash -c "exec 3<>/dev/tcp/$SRV_IP/22" 2>/dev/null
	lstart
	next_get "$CASE: link up, a new ftp-tunnel, the next transfer" "$LURL"
}
tt_kill "$FT_PID"

# ======================= the daemon (ftp-tunnel-wrap) ========================

export FTP_TUNNEL_SOCKET="$T/run/daemon.sock"
export FTP_TUNNELD="$TT_BUILD/ftp-tunneld"
export FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
mkdir -p "$T/run" && chmod 700 "$T/run"
WRAP=("$TT_BUILD/ftp-tunnel-wrap" --via "$SSH_USER@$SRV_IP" --ports "$VSFTPD_PORT"
	-i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -o StrictHostKeyChecking=yes
	"${KEEPALIVE[@]}")
DURL="ftp://$SRV_IP:$VSFTPD_PORT/pub/big"
daemon_pid() {
	ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" status 2>/dev/null | awk '/^pid:/ {print $2}'
}
next_get "daemon: a first transfer (the shim starts the daemon)" "$DURL" "${WRAP[@]}"
DPID=$(daemon_pid)
[ -n "$DPID" ] && tt_track "$DPID"
tt_check "daemon: running (pid $DPID)" [ -n "$DPID" ]
D_FDS=$(nfds "$DPID")
# the daemon survived: same pid, still answering.
d_same() { tt_check "$CASE: the daemon survived (pid $(daemon_pid))" [ "$(daemon_pid)" = "$DPID" ]; }

CASE="daemon: FTP client killed"
get_start "$DURL" "${WRAP[@]}" && {
	FAULT_T0=$(now)
	# The wrapper execs the command: kill whatever runs curl.
	killall_of $(desc "$CURL_PID") "$CURL_PID"
	wait "$CURL_PID" 2>/dev/null
	d_same
	fds_back "$DPID" "$D_FDS"
	clear_text_check
	next_get "$CASE: the next transfer" "$DURL" "${WRAP[@]}"
}

CASE="daemon: FTP server's session killed"
get_start "$DURL" "${WRAP[@]}" && {
	FAULT_T0=$(now)
	killall_of $(ftp_sessions)
	get_wait
	fault_assert
	d_same
	fds_back "$DPID" "$D_FDS"
	next_get "$CASE: the next transfer" "$DURL" "${WRAP[@]}"
}

CASE="daemon: the session's sshd killed"
get_start "$DURL" "${WRAP[@]}" && {
	FAULT_T0=$(now)
	killall_of $(sshd_sessions)
	get_wait
	fault_assert
	d_same
	next_get "$CASE: the next transfer, on a new SSH connection" "$DURL" "${WRAP[@]}"
	d_same
}

CASE="daemon: sshd unreachable (link down)"
rss0=$(ft_rss_kb "$DPID")
get_start "$DURL" "${WRAP[@]}" && {
	FAULT_T0=$(now)
	ip -n "$NS_CLI" link set v-cli down
	get_wait
	fault_assert
	d_same
	# While the link is down, a new request fails closed.
	ip netns exec "$NS_CLI" "${WRAP[@]}" curl -sS --max-time 20 -o /dev/null "$DURL" >"$T/down.log" 2>&1
	rc=$?
	tt_check "$CASE: a request while it is down fails (exit $rc): $(tail -1 "$T/down.log")" [ "$rc" -ne 0 ]
	ip -n "$NS_CLI" link set v-cli up
	tt_wait_until 50 ip netns exec "$NS_CLI" bash -c "exec 3<>/dev/tcp/$SRV_IP/22" 2>/dev/null
	next_get "$CASE: link up, the next transfer" "$DURL" "${WRAP[@]}"
	d_same
	# A lost session costs no memory: VmRSS is back near where it was
	# with one session before (slack: 1 MiB). (The libssh2 leak fixed
	# in ssh.c showed in ftp-tunnel under LeakSanitizer; this daemon
	# run did not hit it, so this check alone would not catch it.)
	rss1=$(ft_rss_kb "$DPID")
	tt_check "$CASE: the daemon's VmRSS $rss1 KiB (before: $rss0 KiB)" [ "$rss1" -le $((rss0 + 1024)) ]
}

CASE="daemon: ftp-tunnel stop while a client runs"
get_start "$DURL" "${WRAP[@]}" && {
	FAULT_T0=$(now)
	ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
	get_wait
	fault_assert
	tt_wait_until 50 eval '! _tt_alive "$DPID"'
	tt_check "$CASE: the daemon is gone" eval '! _tt_alive "$DPID"'
	next_get "$CASE: the next transfer starts a new daemon" "$DURL" "${WRAP[@]}"
	d2=$(daemon_pid)
	[ -n "$d2" ] && tt_track "$d2"
	ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
}

CASE="overall"
clear_text_check
tt_check "vsftpd never saw a connection from the client host ($CLI_IP)" \
	tt_quiet bash -c "! grep -q 'Client \"$CLI_IP\"' '$VSFTPD_LOG'"
tt_done
