#!/bin/bash
# t_shim_system.sh — system-wide use: the shim in /etc/ld.so.preload and a
# route in /etc/ftp-tunnel/config, for every process. The test never
# touches the machine's /etc: it runs its programs in a private mount
# namespace where a copy of /etc is mounted over /etc, on a client host
# whose firewall lets only SSH out. A routed curl goes through the daemon
# (started on demand); programs that match no route run as without it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init shim_system
tt_netns_topology firewall || tt_die "namespaces"
tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "sshd"
tt_vsftpd "$NS_SRV" "$SRV_IP" || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/f" 2M

# The private /etc.
cp -a /etc "$T/etc" 2>/dev/null
echo "$TT_BUILD/libftptunnel.so" >"$T/etc/ld.so.preload"
mkdir -p "$T/etc/ftp-tunnel"
cat >"$T/etc/ftp-tunnel/config" <<CONF
# Route the FTP server's address through its SSH server.
Route $SRV_IP:$VSFTPD_PORT
    Via $SSH_USER@$SRV_IP
    IdentityFile $SSH_KEY
    UserKnownHostsFile $SSH_KNOWN_HOSTS
CONF
chmod 644 "$T/etc/ftp-tunnel/config"
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock" FTP_TUNNELD="$TT_BUILD/ftp-tunneld"
unset FTP_TUNNEL_CONFIG # the files, not the environment
mkdir -p "$T/run" && chmod 700 "$T/run"
# A user's own file must not shadow /etc's here.
export HOME="$T/home"

# sys CMD...: run CMD in the client host with the private /etc.
sys() {
	ip netns exec "$NS_CLI" unshare --mount --propagation private \
		sh -c 'mount --bind "$0" /etc && exec "$@"' "$T/etc" "$@"
}

tt_check "the private /etc preloads the shim" \
	eval 'sys sh -c "grep -q libftptunnel /proc/self/maps"'
tt_netns_drops_reset
sys curl -sS --max-time 30 -o "$T/got" "ftp://$SRV_IP:$VSFTPD_PORT/pub/f"
tt_same "$VSFTPD_PUB/f" "$T/got" "a routed curl, tunneled by /etc's route"
sys curl -sS --max-time 30 -P - -T "$VSFTPD_PUB/f" "ftp://$SRV_IP:$VSFTPD_PORT/upload/up"
tt_same "$VSFTPD_PUB/f" "$VSFTPD_UPLOAD_DIR/up" "a routed active upload"
tt_check "nothing but SSH left the client host ($(tt_netns_drops) drops)" \
	[ "$(tt_netns_drops)" -eq 0 ]
dp=$(ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" status 2>/dev/null | awk '/^pid:/ {print $2}')
tt_check "the daemon was started on demand (pid $dp)" [ -n "$dp" ]
[ -n "$dp" ] && tt_track "$dp"

# Unrouted programs: the same output as without the shim.
lp=$(tt_free_port)
tt_spawn -n "$NS_CLI" socat "TCP-LISTEN:$lp,bind=127.0.0.1,reuseaddr,fork" SYSTEM:'echo hello'
tt_wait_port "$lp" "$NS_CLI"
a=$(sys bash -c "exec 3<>/dev/tcp/127.0.0.1/$lp; cat <&3")
b=$(ip netns exec "$NS_CLI" bash -c "exec 3<>/dev/tcp/127.0.0.1/$lp; cat <&3")
tt_check "bash to an unrouted port: same as without the shim ($a)" [ "$a" = "$b" -a "$a" = hello ]
a=$(sys python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); print(s.recv(10).decode().strip())' "$lp")
tt_check "python3 to an unrouted port: same ($a)" [ "$a" = hello ]
a=$(sys sh -c 'echo $((6*7))')
tt_check "a program with no socket at all: unchanged ($a)" [ "$a" = 42 ]

# The same route for one command, without the system files: the
# wrapper's -F.
export FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
rm -f "$T/got.F"
ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel-wrap" -F "$T/etc/ftp-tunnel/config" \
	curl -sS --max-time 30 -o "$T/got.F" "ftp://$SRV_IP:$VSFTPD_PORT/pub/f"
tt_same "$VSFTPD_PUB/f" "$T/got.F" "ftp-tunnel-wrap -F CONFIG: routed by its Route"

ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
tt_done
