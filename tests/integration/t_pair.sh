#!/bin/bash
# t_pair.sh — the daemon's private loopback pair (security issue 14,
# finding 7). For a CONNECT the daemon listens on an ephemeral loopback
# port, connects to it and accepts; another local user who connects to
# that listener first must not get the daemon's end of the FTP control
# connection. The window is microseconds, so the daemon runs under strace
# with every connect() delayed by 0.4 s: a thief (another uid) watching
# /proc/net/tcp connects in between. It must read nothing (the daemon
# closes its connection), and the client's download must go through.
# All of it in a network namespace of its own (NS_CLI; the servers in
# NS_SRV): the thief connects to every new root listener it sees, and
# must see no other test's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init pair
PY=$TT_PYTHON
command -v strace >/dev/null || { echo "t_pair: no strace"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "t_pair: needs root (a second user)"; exit 77; }

THIEF="ftt-pair-$$"
_pair_exit() {
	local rc=$?
	if id -u "$THIEF" >/dev/null 2>&1; then
		pkill -KILL -U "$(id -u "$THIEF")" 2>/dev/null
		userdel "$THIEF" >/dev/null 2>&1 || userdel -f "$THIEF" >/dev/null 2>&1
	fi
	(exit "$rc")
	_tt_exit
}
trap '_pair_exit' EXIT
useradd -M -U -d /nonexistent -s /usr/sbin/nologin "$THIEF" || tt_die "useradd $THIEF"

tt_netns_topology || tt_die "namespaces"
tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "sshd"
tt_vsftpd "$NS_SRV" "$SRV_IP" || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/f" 100K
chmod -R a+rX "$VSFTPD_PUB"
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock"
mkdir -p "$T/run" && chmod 700 "$T/run"

# LeakSanitizer cannot run under ptrace: in the sanitized build, this one
# daemon goes without it (ASan's other checks stay).
ip netns exec "$NS_CLI" env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -qq -o /dev/null -e trace=connect -e inject=connect:delay_enter=400000 \
	"$TT_BUILD/ftp-tunneld" -vv --ready-fd 3 3>"$T/ready" >"$T/logs/daemon.log" 2>&1 &
tt_track "$!"
tt_log_add "ftp-tunneld" "$T/logs/daemon.log"
tt_wait_until 100 grep -q READY "$T/ready" || tt_die "daemon not ready"

ip netns exec "$NS_CLI" setpriv --reuid="$THIEF" --regid="$THIEF" --clear-groups "$PY" \
	"$TT_LIB_DIR/helpers/pair_thief.py" 8 >"$T/thief.out" 2>&1 &
tpid=$!
tt_track "$tpid"
tt_wait_until 50 grep -q watching "$T/thief.out" || tt_die "thief"

WRAP="$TT_BUILD/ftp-tunnel-wrap --via $SSH_USER@$SRV_IP:$SSHD_PORT --ports $VSFTPD_PORT -i $SSH_KEY -o UserKnownHostsFile=$SSH_KNOWN_HOSTS -o StrictHostKeyChecking=yes"
export FTP_TUNNELD="$TT_BUILD/ftp-tunneld" FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
ip netns exec "$NS_CLI" $WRAP curl -sS --max-time 30 -o "$T/got" "ftp://$SRV_IP:$VSFTPD_PORT/pub/f" >"$T/curl.log" 2>&1
wait "$tpid"
out=$(paste -sd' ' "$T/thief.out")
tt_check "finding 7: the thief read nothing of the FTP session ($out)" \
	tt_quiet bash -c "! grep -q \"read b'220\" '$T/thief.out'"
tt_check "finding 7: the thief did reach the daemon's private listener: the daemon logged it" \
	grep -q "loopback pair: refused a connection" "$T/logs/daemon.log"
tt_same "$VSFTPD_PUB/f" "$T/got" "the client's download went through ($(head -c 200 "$T/curl.log"))"
ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1

tt_done
