#!/bin/bash
# t_shim_clients.sh — the transparent mode end to end: unmodified FTP
# clients under `ftp-tunnel-wrap --via` on a client host whose firewall
# lets only SSH out, against the FTP server's own address on the server
# host. The daemon is started on demand by the shim. Every client in every
# mode it can use, downloads and uploads by sha256; a non-blocking, a
# threaded and a forking client; fail-closed with no daemon and with sshd
# down; another uid cannot use the daemon's socket.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init shim_clients
[ -x "$TT_BUILD/libftptunnel.so" ] && [ -x "$TT_BUILD/ftp-tunnel-wrap" ] &&
	[ -x "$TT_BUILD/ftp-tunneld" ] || tt_die "build first (make)"

tt_netns_topology firewall || tt_die "namespaces"
tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "sshd"
tt_vsftpd "$NS_SRV" "$SRV_IP" || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/f" 3M
tt_mkfile "$T/up" 2M

export FTP_TUNNEL_SOCKET="$T/run/daemon.sock"
export FTP_TUNNELD="$TT_BUILD/ftp-tunneld"
export FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
mkdir -p "$T/run" && chmod 700 "$T/run"
# Connections=1: the check below counts one login for every client.
WRAP="$TT_BUILD/ftp-tunnel-wrap --via $SSH_USER@$SRV_IP --ports $VSFTPD_PORT -i $SSH_KEY -o UserKnownHostsFile=$SSH_KNOWN_HOSTS -o StrictHostKeyChecking=yes -o Connections=1"

# The daemon the shim starts is detached from us: find it by its socket
# and register it for cleanup.
track_daemon() {
	ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" status >"$T/status" 2>&1
	DPID=$(cat "$T/status" |
		awk '/^pid:/ {print $2}')
	[ -n "$DPID" ] && tt_track "$DPID"
	[ -n "$DPID" ] || tt_log "status: $(cat "$T/status")"
}

# Nothing but SSH may leave the client host: the firewall counts the rest.
tt_netns_drops_reset
if ip netns exec "$NS_CLI" curl -s --max-time 3 "ftp://$SRV_IP:$VSFTPD_PORT/" >/dev/null; then
	tt_fail "control case: the FTP server is reachable directly"
else
	tt_pass "control case: no direct way to the FTP server ($(tt_netns_drops) packets dropped)"
fi
tt_netns_drops_reset

TT_FTP_WRAP=$WRAP
first=1
for c in curl lftp tnftp inetutils wget ftplib; do
	for m in pasv epsv port eprt; do
		for op in get put; do
			ft_transfer shim "$NS_CLI" "$c" "$m" "$op" "$SRV_IP" \
				"$VSFTPD_PORT" "$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR" || continue
			if [ "$first" = 1 ]; then
				first=0
				track_daemon
				tt_check "the shim started one daemon (pid $DPID)" [ -n "$DPID" ] || cat "$T/status"
			fi
		done
	done
done
tt_check "nothing but SSH left the client host ($(tt_netns_drops) drops)" \
	[ "$(tt_netns_drops)" -eq 0 ]
tt_check "one SSH connection for all of them" \
	[ "$(grep -c 'Accepted publickey' "$SSHD_LOG")" -le 2 ]

# A port nothing listens on at the far end: the program gets the errno a
# direct connect would have given, through the tunnel.
closed=$(tt_free_port "$NS_SRV")
out=$(ip netns exec "$NS_CLI" $TT_BUILD/ftp-tunnel-wrap --via "$SSH_USER@$SRV_IP" --ports "$closed" \
	-i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" \
	/usr/bin/python3 -c '
import errno, socket, sys
s = socket.socket()
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))' "$SRV_IP" "$closed" 2>/dev/null)
tt_check "a closed far port: ECONNREFUSED, as a direct connect ($out)" [ "$out" = ECONNREFUSED ]

# Event-driven, threaded and forking programs.
NB="$TT_BUILD/tests/nbclient -u anonymous -p x"
run_nb() { # label nbclient-args...
	local label=$1 out
	shift
	out=$(ip netns exec "$NS_CLI" $WRAP $NB "$@" 2>&1)
	if [ $? -eq 0 ]; then tt_pass "$label"; else tt_fail "$label: $out"; fi
}
run_nb "non-blocking client (epoll, EPSV)" -m epsv "$SRV_IP" "$VSFTPD_PORT" pub/f "$T/nb"
tt_same "$VSFTPD_PUB/f" "$T/nb" "non-blocking client: file"
run_nb "non-blocking client (PASV, uses the 227 address)" -m pasv -A "$SRV_IP" "$VSFTPD_PORT" pub/f "$T/nb2"
tt_same "$VSFTPD_PUB/f" "$T/nb2" "non-blocking PASV client: file"
run_nb "4 threads at once" -t 4 "$SRV_IP" "$VSFTPD_PORT" pub/f "$T/th"
for i in 0 1 2 3; do tt_same "$VSFTPD_PUB/f" "$T/th.$i" "thread $i: file"; done
run_nb "a session shared across fork()" -f "$SRV_IP" "$VSFTPD_PORT" pub/f "$T/fk"
tt_same "$VSFTPD_PUB/f" "$T/fk.child" "forked child: file"
tt_same "$VSFTPD_PUB/f" "$T/fk.parent" "forked parent: file"

# Another uid cannot use the daemon's socket.
thief="ftt-th$$"
useradd -M -s /usr/sbin/nologin "$thief" 2>/dev/null
trap_user() { userdel "$thief" 2>/dev/null; }
out=$(setpriv --reuid="$thief" --regid=nogroup --clear-groups \
	/usr/bin/python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("refused:", e.strerror); sys.exit(0)
s.sendall(struct.pack("!I", 11) + b"FTPT1 PING\n")
print("answered:", s.recv(100))' "$FTP_TUNNEL_SOCKET" 2>&1)
trap_user
tt_check "another uid cannot use the daemon socket ($out)" \
	eval '[ "${out#refused}" != "$out" ]'

# Fail closed: no daemon and none can be started.
ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" stop >/dev/null
for i in $(seq 30); do _tt_alive "$DPID" || break; sleep 0.1; done
tt_netns_drops_reset
start=$(date +%s%N)
# The shim alone (as with LD_PRELOAD in a batch job), not the wrapper,
# which would refuse to start the command.
err=$(ip netns exec "$NS_CLI" env FTP_TUNNELD=/nonexistent \
	LD_PRELOAD="$FTP_TUNNEL_SHIM" FTP_TUNNEL_VIA="$SSH_USER@$SRV_IP" \
	FTP_TUNNEL_PORTS="$VSFTPD_PORT" curl -sS --max-time 20 \
	"ftp://$SRV_IP:$VSFTPD_PORT/pub/f" -o /dev/null 2>&1)
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
tt_check "no daemon: curl fails (exit $rc) in ${ms} ms" test "$rc" -ne 0 -a "$ms" -lt 5000
tt_check "no daemon: nothing left for the FTP server ($(tt_netns_drops) drops)" \
	[ "$(tt_netns_drops)" -eq 0 ]
tt_check "no daemon: one line says why ($err)" \
	eval 'echo "$err" | grep -q "not made in clear text"'

# Fail closed: sshd down. The shim starts a daemon, which cannot connect.
tt_kill "$SSHD_PID"
tt_netns_drops_reset
start=$(date +%s%N)
err=$(ip netns exec "$NS_CLI" $WRAP curl -sS --max-time 30 \
	"ftp://$SRV_IP:$VSFTPD_PORT/pub/f" -o /dev/null 2>&1)
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
track_daemon
tt_check "sshd down: curl fails (exit $rc) in ${ms} ms" test "$rc" -ne 0 -a "$ms" -lt 10000
tt_check "sshd down: one line says why ($err)" \
	eval 'echo "$err" | grep -q "not made in clear text"'
# The firewall drops the SYNs to the dead sshd's port 22? No: 22 is
# allowed. Anything else would be a leak.
tt_check "sshd down: nothing but SSH left ($(tt_netns_drops) drops)" \
	[ "$(tt_netns_drops)" -eq 0 ]
ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
tt_done
