#!/bin/bash
# t_shim_config.sh — the shim's routes from the configuration file, as for
# LD_PRELOAD in a batch job or /etc/ld.so.preload: LD_PRELOAD and
# FTP_TUNNEL_CONFIG only, no FTP_TUNNEL_VIA, no wrapper; the daemon
# (build/ftp-tunneld) started on demand by the shim.
#  1. a route by network (CIDR) with IdentityFile and UserKnownHostsFile:
#     curl, lftp and ftplib download and upload in every mode they have,
#     on a client host whose firewall lets only SSH out;
#  2. a route by host name, the name resolving only in the client's own
#     mount namespace (a private /etc/hosts bind-mounted there: the host's
#     file is untouched): real clients; each resolver hook
#     (getaddrinfo, gethostbyname, gethostbyname2, gethostbyname_r,
#     gethostbyname2_r) records the name itself; the address without the
#     name is not routed;
#  3. FtpHost: the program connects to an address the SSH server does not
#     know (192.0.2.21), the FTP server listens only on the SSH server's
#     loopback; without FtpHost the same route fails closed;
#  4. a malformed file: connections to port 21 (and to the ports its
#     patterns name) fail with EINVAL and one line naming file:line, once
#     per process; other connections are untouched; no daemon;
#  5. no configuration, no environment: python3, curl and bash behave as
#     without the shim, no daemon is started, nothing of the shim's is
#     opened but the configuration files it looks for;
#  6. what the shim asks the daemon (the stand-in helpers/fakedaemon.py
#     logs each CONNECT): via, ftphost, name, the options with ~/ expanded
#     from the password database's home (not $HOME), the IPv4-mapped case,
#     FTP_TUNNEL_VIA taking precedence, a route's own SSH server never
#     routed; the user's file found through getpwuid with HOME unset.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init shim_config

SHIM=$TT_BUILD/libftptunnel.so
FAKE=$TT_LIB_DIR/helpers/fakedaemon.py
for f in "$SHIM" "$TT_BUILD/ftp-tunneld" "$TT_BUILD/ftp-tunnel"; do
	[ -f "$f" ] || tt_skip_all "$f is not built (make)"
done
PY=$TT_PYTHON

# Nothing from the caller's environment, and never the user's real daemon.
unset FTP_TUNNEL_VIA FTP_TUNNEL_OPTIONS FTP_TUNNEL_PORTS FTP_TUNNEL_DEBUG \
	FTP_TUNNEL_CONFIG FTP_TUNNEL_SHIM LD_PRELOAD
export FTP_TUNNELD=$TT_BUILD/ftp-tunneld
export FTP_TUNNEL_SOCKET=$T/run/daemon.sock
mkdir -m 700 "$T/run"

tt_netns_topology firewall || tt_die "namespaces"
tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "sshd"
tt_vsftpd "$NS_SRV" "$SRV_IP" || tt_die "vsftpd"
# An FTP server that only the SSH server's own loopback reaches.
tt_vsftpd "$NS_SRV" 127.0.0.1 LOFTP || tt_die "vsftpd on loopback"
tt_mkfile "$VSFTPD_PUB/f" 3M
tt_mkfile "$LOFTP_PUB/f" 1M
tt_mkfile "$T/up" 2M
SUBNET=10.200.$NS_X.0/24
SSHOPTS="    IdentityFile $SSH_KEY
    UserKnownHostsFile $SSH_KNOWN_HOSTS
    StrictHostKeyChecking yes
    BatchMode yes"

# conf FILE: the configuration file from stdin, as a user would have it.
conf() {
	cat >"$1"
	chmod 644 "$1"
}

# A private /etc/hosts for one command: `$T/withhosts CMD...` runs CMD in
# a mount namespace of its own where $T/hosts is /etc/hosts.
cat >"$T/hosts" <<EOF
127.0.0.1 localhost
::1 localhost ip6-localhost
$SRV_IP ftp.shimcfg.test
203.0.113.7 fake.shimcfg.test
EOF
cat >"$T/withhosts" <<EOF
#!/bin/sh
exec unshare --mount --propagation private sh -c 'mount --bind "\$0" /etc/hosts && exec "\$@"' "$T/hosts" "\$@"
EOF
chmod 755 "$T/withhosts"
hosts_sum=$(sha256sum </etc/hosts)

# The daemon the shim starts is detached from us: find it by its socket
# and register it for cleanup.
DAEMONS=()
track_daemon() {
	local pid
	pid=$(ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" status 2>/dev/null |
		awk '/^pid:/ {print $2}')
	if [ -n "$pid" ]; then
		case " ${DAEMONS[*]} " in *" $pid "*) ;; *) DAEMONS+=("$pid") && tt_track "$pid" ;; esac
	fi
	[ -n "$pid" ]
}

# transfers LABEL CONF HOST PORT PUB UPLOAD CLIENTS [WRAP]: get and put
# with each client in each mode it has, through the shim with CONF.
transfers() {
	local label=$1 cfg=$2 host=$3 port=$4 pub=$5 upload=$6 clients=$7
	local wrap=${8:-} c m op
	TT_FTP_WRAP="$wrap env LD_PRELOAD=$SHIM FTP_TUNNEL_CONFIG=$cfg"
	for c in $clients; do
		for m in pasv epsv port eprt; do
			for op in get put; do
				ft_transfer "$label" "$NS_CLI" "$c" "$m" "$op" "$host" \
					"$port" "$pub" "$upload"
			done
		done
	done
	TT_FTP_WRAP=""
}

# Nothing but SSH may leave the client host.
tt_netns_drops_reset
if ip netns exec "$NS_CLI" curl -s --max-time 3 "ftp://$SRV_IP:$VSFTPD_PORT/" >/dev/null; then
	tt_fail "control case: the FTP server is reachable directly"
else
	tt_pass "control case: no direct way to the FTP server ($(tt_netns_drops) packets dropped)"
fi
tt_netns_drops_reset

# ------------------------------------------------------------ 1. by network
echo "# 1. a route by network"
conf "$T/by-net.conf" <<EOF
# The FTP servers of the test network, through its SSH server.
Route $SUBNET:$VSFTPD_PORT 192.0.2.99    # and one that is not there
    Via $SSH_USER@$SRV_IP:22
$SSHOPTS
EOF
transfers net "$T/by-net.conf" "$SRV_IP" "$VSFTPD_PORT" "$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR" "curl lftp ftplib"
tt_check "the shim started the daemon" track_daemon
tt_check "nothing but SSH left the client host ($(tt_netns_drops) drops)" \
	[ "$(tt_netns_drops)" -eq 0 ]
tt_check "one SSH connection for all of them" \
	[ "$(grep -c 'Accepted publickey' "$SSHD_LOG")" -le 2 ]

# ------------------------------------------------------------ 2. by name
echo "# 2. a route by host name"
tt_check "the name resolves in the private mount namespace only" \
	bash -c "[ \"\$(ip netns exec $NS_CLI $T/withhosts getent hosts ftp.shimcfg.test | awk '{print \$1}')\" = $SRV_IP ] &&
		! getent hosts ftp.shimcfg.test >/dev/null"
conf "$T/by-name.conf" <<EOF
Profile somewhere         # another part of the configuration: not a route
    Port 2222
    LocalForward ftp/2121 127.0.0.1:21
Route FTP.shimcfg.test:$VSFTPD_PORT
    Via = $SSH_USER@$SRV_IP
$SSHOPTS
EOF
transfers name "$T/by-name.conf" ftp.shimcfg.test "$VSFTPD_PORT" "$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR" \
	"curl lftp ftplib" "$T/withhosts"
tt_check "the host's /etc/hosts is untouched" [ "$(sha256sum </etc/hosts)" = "$hosts_sum" ]

# Each resolver hook records the name itself (FTP_TUNNEL_DEBUG says so;
# "myself" would be the shim's own fallback look-up). The routed control
# connection gets the server's greeting through SSH.
cat >"$T/resolve.py" <<'EOF'
import ctypes, socket, sys
how, name, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
libc = ctypes.CDLL(None)
class hostent(ctypes.Structure):
    _fields_ = [("h_name", ctypes.c_char_p),
                ("h_aliases", ctypes.POINTER(ctypes.c_char_p)),
                ("h_addrtype", ctypes.c_int), ("h_length", ctypes.c_int),
                ("h_addr_list", ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte)))]
HP = ctypes.POINTER(hostent)
for f in ("gethostbyname", "gethostbyname2"):
    getattr(libc, f).restype = HP
n = name.encode()
if how == "getaddrinfo":
    addr = socket.getaddrinfo(name, port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
else:
    if how == "gethostbyname":
        he = libc.gethostbyname(n)
    elif how == "gethostbyname2":
        he = libc.gethostbyname2(n, socket.AF_INET)
    else:
        ret, res, err = hostent(), HP(), ctypes.c_int()
        buf = ctypes.create_string_buffer(8192)
        if how == "gethostbyname_r":
            rc = libc.gethostbyname_r(n, ctypes.byref(ret), buf, 8192, ctypes.byref(res), ctypes.byref(err))
        else:
            rc = libc.gethostbyname2_r(n, socket.AF_INET, ctypes.byref(ret), buf, 8192, ctypes.byref(res), ctypes.byref(err))
        he = res if rc == 0 else HP()
    if not he:
        print("no address"); sys.exit(1)
    addr = ".".join(str(b) for b in he.contents.h_addr_list[0][:4])
s = socket.socket()
s.settimeout(20)
s.connect((addr, port))
print(how, addr, s.recv(100).decode().split("\r")[0][:3], s.getpeername()[0])
EOF
for how in getaddrinfo gethostbyname gethostbyname2 gethostbyname_r gethostbyname2_r; do
	out=$(ip netns exec "$NS_CLI" "$T/withhosts" env LD_PRELOAD="$SHIM" \
		FTP_TUNNEL_CONFIG="$T/by-name.conf" FTP_TUNNEL_DEBUG=1 \
		"$PY" "$T/resolve.py" "$how" ftp.shimcfg.test "$VSFTPD_PORT" 2>"$T/resolve.err")
	if [ "$out" = "$how $SRV_IP 220 $SRV_IP" ] &&
		grep -q "): recorded$" "$T/resolve.err" &&
		! grep -q "myself" "$T/resolve.err" &&
		grep -q "control connection to $SRV_IP:$VSFTPD_PORT = ftp.shimcfg.test through" "$T/resolve.err"; then
		tt_pass "$how: recorded, the connection went through SSH (220)"
	else
		tt_fail "$how: \"$out\"; $(tr '\n' '|' <"$T/resolve.err")"
	fi
done

# The address alone, the name not resolving: the name route does not
# cover it (the shim's own look-up of the name fails), so the connection
# is made directly, and the firewall drops it.
tt_netns_drops_reset
ip netns exec "$NS_CLI" env LD_PRELOAD="$SHIM" FTP_TUNNEL_CONFIG="$T/by-name.conf" \
	curl -s --max-time 3 "ftp://$SRV_IP:$VSFTPD_PORT/pub/f" -o /dev/null 2>"$T/stderr"
rc=$?
tt_check "the address without the name is not routed: direct, dropped (curl exit $rc, $(tt_netns_drops) drops)" \
	[ "$rc" -ne 0 -a "$(tt_netns_drops)" -gt 0 ]
tt_check "... and the shim said nothing" [ ! -s "$T/stderr" ]
tt_netns_drops_reset

# ------------------------------------------------------------ 3. FtpHost
echo "# 3. FtpHost"
conf "$T/ftphost.conf" <<EOF
Route 192.0.2.21:$LOFTP_PORT      # only this client calls it that
    Via $SSH_USER@$SRV_IP
    FtpHost 127.0.0.1              # the SSH server's own loopback
$SSHOPTS
EOF
transfers ftphost "$T/ftphost.conf" 192.0.2.21 "$LOFTP_PORT" "$LOFTP_PUB" "$LOFTP_UPLOAD_DIR" "curl ftplib"
tt_check "the FTP server saw the SSH server's loopback as its client" \
	grep -q 'Client "127.0.0.1"' "$LOFTP_LOG"
tt_check "nothing but SSH left the client host ($(tt_netns_drops) drops)" \
	[ "$(tt_netns_drops)" -eq 0 ]
conf "$T/noftphost.conf" <<EOF
Route 192.0.2.21:$LOFTP_PORT
    Via $SSH_USER@$SRV_IP
$SSHOPTS
EOF
start=$(date +%s%N)
ip netns exec "$NS_CLI" env LD_PRELOAD="$SHIM" FTP_TUNNEL_CONFIG="$T/noftphost.conf" \
	curl -sS --max-time 20 "ftp://192.0.2.21:$LOFTP_PORT/pub/f" -o /dev/null 2>"$T/stderr"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
tt_check "without FtpHost the SSH server cannot reach 192.0.2.21: curl fails (exit $rc, $ms ms)" \
	[ "$rc" -ne 0 ]
tt_check "... with the shim's line ($(head -c 200 "$T/stderr"))" \
	grep -q "^ftp-tunnel: .*(connection to 192.0.2.21:$LOFTP_PORT not made in clear text)$" "$T/stderr"
tt_check "... and nothing but SSH left ($(tt_netns_drops) drops)" [ "$(tt_netns_drops)" -eq 0 ]
track_daemon
ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1

# ------------------------------------------------------------ 4. malformed
echo "# 4. a malformed file"
export FTP_TUNNEL_SOCKET=$T/run-bad/daemon.sock
cat >"$T/conn.py" <<'EOF'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
times = int(sys.argv[3]) if len(sys.argv) > 3 else 1
for _ in range(times):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.settimeout(5)
    try:
        s.connect((host, port))
        print("ok", s.getpeername()[0], s.getpeername()[1])
    except OSError as e:
        print("err", e.errno)
    s.close()
EOF
tt_hits_listener "$NS_CLI" 21
OTHER=$(tt_free_port "$NS_CLI")
tt_hits_listener "$NS_CLI" "$OTHER"
conf "$T/bad.conf" <<EOF
# a typo on line 4
Route $SUBNET:$VSFTPD_PORT
    Via $SSH_USER@$SRV_IP
    IdentityFle $SSH_KEY
EOF
out=$(ip netns exec "$NS_CLI" env LD_PRELOAD="$SHIM" FTP_TUNNEL_CONFIG="$T/bad.conf" \
	"$PY" "$T/conn.py" 127.0.0.1 21 2 2>"$T/stderr")
tt_check "port 21: connect() fails with EINVAL, twice ($(echo $out))" [ "$out" = $'err 22\nerr 22' ]
tt_check "... one line for the process: $(head -c 300 "$T/stderr")" [ "$(wc -l <"$T/stderr")" = 1 ]
tt_check "... naming file:line and what is wrong" \
	grep -q "^ftp-tunnel: $T/bad.conf:4: unknown keyword \"IdentityFle\" .*(connection to 127.0.0.1:21 not made in clear text)$" "$T/stderr"
tt_check "... and the listener on port 21 saw nothing" [ "$(tt_hits 21)" = 0 ]
tt_netns_drops_reset
ip netns exec "$NS_CLI" env LD_PRELOAD="$SHIM" FTP_TUNNEL_CONFIG="$T/bad.conf" \
	curl -sS --max-time 10 "ftp://$SRV_IP:$VSFTPD_PORT/pub/f" -o /dev/null 2>"$T/stderr"
rc=$?
tt_check "the port its Route names is refused too: curl exit 7 ($rc)" [ "$rc" = 7 ]
tt_check "... with the line" grep -q "^ftp-tunnel: $T/bad.conf:4: " "$T/stderr"
tt_check "... no packet left ($(tt_netns_drops) drops)" [ "$(tt_netns_drops)" -eq 0 ]
out=$(ip netns exec "$NS_CLI" env LD_PRELOAD="$SHIM" FTP_TUNNEL_CONFIG="$T/bad.conf" \
	"$PY" "$T/conn.py" 127.0.0.1 "$OTHER" 2>"$T/stderr")
tt_check "another port: python3 connects ($out), silently" \
	[ "$out" = "ok 127.0.0.1 $OTHER" -a ! -s "$T/stderr" ]
ip netns exec "$NS_CLI" env LD_PRELOAD="$SHIM" FTP_TUNNEL_CONFIG="$T/bad.conf" \
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$OTHER && echo connected" >"$T/out" 2>"$T/stderr"
tt_check "another port: bash /dev/tcp connects, silently" \
	[ "$(cat "$T/out")" = connected -a ! -s "$T/stderr" ]
tt_check "another port: the listener saw both" tt_wait_until 30 [ "$(tt_hits "$OTHER")" -ge 2 ]
conf "$T/bad2.conf" <<EOF
Route ftp.example.com
EOF
out=$(ip netns exec "$NS_CLI" env LD_PRELOAD="$SHIM" FTP_TUNNEL_CONFIG="$T/bad2.conf" \
	"$PY" "$T/conn.py" 127.0.0.1 21 2>"$T/stderr")
tt_check "a Route without Via: EINVAL, the line says so ($(cat "$T/stderr"))" \
	bash -c "[ '$out' = 'err 22' ] && grep -q '^ftp-tunnel: $T/bad2.conf:1: Route has no Via' '$T/stderr'"
chmod 666 "$T/bad2.conf"
printf 'Route 192.0.2.1\n Via h\n' >"$T/bad2.conf"
out=$(ip netns exec "$NS_CLI" env LD_PRELOAD="$SHIM" FTP_TUNNEL_CONFIG="$T/bad2.conf" \
	"$PY" "$T/conn.py" 127.0.0.1 21 2>"$T/stderr")
tt_check "a file others may write: EINVAL ($(cat "$T/stderr"))" \
	bash -c "[ '$out' = 'err 22' ] && grep -q '^ftp-tunnel: $T/bad2.conf: bad owner or permissions' '$T/stderr'"
tt_check "the listener on port 21 still saw nothing" [ "$(tt_hits 21)" = 0 ]
tt_check "no daemon was started (no socket directory)" [ ! -e "$T/run-bad" ]

# ------------------------------------------------------------ 5. nothing
echo "# 5. no configuration, no environment"
export FTP_TUNNEL_SOCKET=$T/run-none/daemon.sock
home=$(getent passwd "$(id -u)" | cut -d: -f6)
sys_files=""
for f in "$home/.config/ftp-tunnel/config" /etc/ftp-tunnel/config; do
	[ -e "$f" ] && sys_files="$sys_files $f"
done
# same LABEL NS CMD...: CMD's output and status are the same with the
# shim (and the environment) as without.
same() {
	local label=$1 ns=$2 a b ra rb
	shift 2
	a=$(ip netns exec "$ns" "$@" 2>&1)
	ra=$?
	b=$(ip netns exec "$ns" env LD_PRELOAD="$SHIM" $SHIM_ENV "$@" 2>&1)
	rb=$?
	if [ "$a" = "$b" ] && [ "$ra" = "$rb" ]; then
		tt_pass "$label: the same with the shim (exit $ra)"
	else
		tt_fail "$label: without: \"$a\" ($ra); with: \"$b\" ($rb)"
	fi
}
script="echo \$((6 * 7)); exec 3<>/dev/tcp/127.0.0.1/21 && echo connected; exec 3>&-; exit 3"
CLOSED=$(tt_free_port "$NS_CLI")
for SHIM_ENV in "FTP_TUNNEL_CONFIG=$T/ftp-tunnel-missing.conf" ""; do
	if [ -z "$SHIM_ENV" ] && [ -n "$sys_files" ]; then
		tt_skip "no FTP_TUNNEL_CONFIG: this machine has$sys_files"
		continue
	fi
	what=${SHIM_ENV:-no FTP_TUNNEL_CONFIG}
	before=$(tt_hits 21)
	same "$what: bash -c" "$NS_CLI" bash -c "$script"
	same "$what: python3 to port 21" "$NS_CLI" "$PY" "$T/conn.py" 127.0.0.1 21
	same "$what: python3 to a closed port" "$NS_CLI" "$PY" "$T/conn.py" 127.0.0.1 "$CLOSED"
	same "$what: python3 to ::1" "$NS_CLI" "$PY" "$T/conn.py" ::1 "$CLOSED"
	tt_check "$what: port 21 reached directly, 4 times" \
		tt_wait_until 30 [ "$(tt_hits 21)" -ge $((before + 4)) ]
	rm -f "$T/c1" "$T/c2"
	ip netns exec "$NS_SRV" curl -sS -o "$T/c1" "ftp://$SRV_IP:$VSFTPD_PORT/pub/f"
	ra=$?
	ip netns exec "$NS_SRV" env LD_PRELOAD="$SHIM" $SHIM_ENV curl -sS -o "$T/c2" "ftp://$SRV_IP:$VSFTPD_PORT/pub/f"
	rb=$?
	tt_check "$what: curl downloads the same file directly ($ra, $rb)" \
		[ "$ra" = 0 -a "$rb" = 0 ] && tt_same "$T/c1" "$T/c2" "$what: curl: same sha256"
	if command -v strace >/dev/null; then
		ip netns exec "$NS_CLI" strace -f -qq -e trace=socket,connect,openat,mkdir -o "$T/strace" \
			env LD_PRELOAD="$SHIM" $SHIM_ENV "$PY" "$T/conn.py" 127.0.0.1 21 >/dev/null 2>&1
		# (The password database look-up for the home directory may
		# try nscd's socket: that is the C library's.)
		tt_check "$what: no connection to a daemon, no directory made" \
			bash -c "! grep -e 'connect(.*ftp-tunnel' -e 'connect(.*daemon.sock' -e 'mkdir(' '$T/strace'"
		opened=$(grep -o 'openat([^"]*"[^"]*ftp-tunnel[^"]*"' "$T/strace" | sed 's/.*"\(.*\)"/\1/' |
			grep -v libftptunnel.so | sort -u | tr '\n' ' ')
		if [ -n "$SHIM_ENV" ]; then
			want="$T/ftp-tunnel-missing.conf "
		else
			want=$(printf '%s\n' "$home/.config/ftp-tunnel/config" /etc/ftp-tunnel/config | sort -u | tr '\n' ' ')
		fi
		tt_check "$what: it looked only for the configuration ($opened)" [ "$opened" = "$want" ]
	else
		tt_skip "no strace"
	fi
done
SHIM_ENV=""
tt_check "no daemon was started (no socket directory)" [ ! -e "$T/run-none" ]

# ------------------------------------------------------------ 6. requests
echo "# 6. what the shim asks the daemon (stand-in daemon)"
export FTP_TUNNELD=$FAKE FAKE_LOG=$T/fake.log FTP_TUNNEL_SOCKET=$T/run-fake/daemon.sock
mkdir -m 700 "$T/run-fake"
: >"$FAKE_LOG"
P=$(tt_free_port)
tt_hits_listener "" "$P"
export FAKE_FTP_SERVER=127.0.0.1:$P
VIAPORT=$(tt_free_port)
tt_hits_listener "" "$VIAPORT"
conf "$T/fake.conf" <<EOF
Route 192.0.2.0/28 fake.shimcfg.test:2121
    Via alice@sshhost.example:2222
    FtpHost ftp.inside.example
    IdentityFile ~/.ssh/id_test
    UserKnownHostsFile /k/kh ~/kh2
    ServerAliveInterval 30
Route 192.0.2.16/28
    via bob@[2001:db8::1]
    port 2022
Route 127.0.0.1:$VIAPORT          # its own SSH server: never routed
    Via carol@127.0.0.1:$VIAPORT
EOF
fake() { # [ENV=...] ARGS of conn.py, in the host's namespace
	env LD_PRELOAD="$SHIM" FTP_TUNNEL_CONFIG="$T/fake.conf" HOME=/nonexistent "$@"
}
track_fake() {
	local p
	for p in $(sed -n 's/^started pid=\([0-9]*\).*/\1/p' "$FAKE_LOG"); do
		case " ${TT_KILL[*]} " in *" $p "*) ;; *) tt_track "$p" ;; esac
	done
}
out=$(fake "$PY" "$T/conn.py" 192.0.2.5 21 2>&1)
track_fake
tt_check "a routed connection through the stand-in ($out)" [ "$out" = "ok 192.0.2.5 21" ]
want="CONNECT dst=192.0.2.5 family=inet ftphost=ftp.inside.example port=21 via=alice@sshhost.example:2222 options=IdentityFile=$home/.ssh/id_test|UserKnownHostsFile=/k/kh $home/kh2|ServerAliveInterval=30"
tt_check "via, ftphost and the options, ~/ from the password database (HOME=/nonexistent)" \
	grep -qxF "$want" "$FAKE_LOG"
out=$(fake "$T/withhosts" "$PY" -c '
import socket
s = socket.create_connection(("fake.shimcfg.test", 2121))
print("ok", *s.getpeername())' 2>&1)
tt_check "by name ($out)" [ "$out" = "ok 203.0.113.7 2121" ]
tt_check "... name= in CONNECT" \
	grep -q "^CONNECT dst=203.0.113.7 family=inet ftphost=ftp.inside.example name=fake.shimcfg.test port=2121 via=alice@sshhost.example:2222 " "$FAKE_LOG"
fake "$PY" "$T/conn.py" 192.0.2.20 21 >/dev/null 2>&1
tt_check "the second route: its via and Port" \
	grep -qxF "CONNECT dst=192.0.2.20 family=inet port=21 via=bob@[2001:db8::1] options=Port=2022" "$FAKE_LOG"
out=$(fake "$PY" "$T/conn.py" ::ffff:192.0.2.20 21 2>&1)
tt_check "IPv4-mapped from an IPv6 socket: ftphost= the IPv4 address ($out)" \
	grep -qxF "CONNECT dst=::ffff:192.0.2.20 family=inet6 ftphost=192.0.2.20 port=21 via=bob@[2001:db8::1] options=Port=2022" "$FAKE_LOG"
fake FTP_TUNNEL_VIA=env@wrapper "$PY" "$T/conn.py" 192.0.2.5 21 >/dev/null 2>&1
tt_check "FTP_TUNNEL_VIA takes precedence" \
	grep -qxF "CONNECT dst=192.0.2.5 family=inet port=21 via=env@wrapper options=" "$FAKE_LOG"
n=$(grep -c '^CONNECT' "$FAKE_LOG")
out=$(fake "$PY" "$T/conn.py" 127.0.0.1 "$VIAPORT" 2>&1)
tt_check "a route's own SSH server is connected directly ($out)" \
	[ "$out" = "ok 127.0.0.1 $VIAPORT" -a "$(grep -c '^CONNECT' "$FAKE_LOG")" = "$n" ]
out=$(fake "$PY" "$T/conn.py" 192.0.2.40 21 2>&1)
tt_check "an address no route covers is not routed ($out)" \
	[ "$(grep -c '^CONNECT' "$FAKE_LOG")" = "$n" ]

# The user's own file, found through the password database with HOME unset.
user="ftt-cf$$"
if [ -e /etc/ftp-tunnel/config ]; then
	tt_skip "the user's file: this machine has /etc/ftp-tunnel/config"
elif useradd -M -d "$T/uhome" -s /usr/sbin/nologin "$user" 2>/dev/null; then
	mkdir -p "$T/uhome/.config/ftp-tunnel" "$T/urun"
	conf "$T/uhome/.config/ftp-tunnel/config" <<EOF
Route 192.0.2.40
    Via dave@sshhost.example
    IdentityFile ~/.ssh/k
EOF
	cp "$FAKE" "$T/fakedaemon.py"
	: >"$T/ufake.log"
	chown -R "$user" "$T/uhome" "$T/urun" "$T/ufake.log"
	chmod 700 "$T/urun"
	out=$(env -u HOME -u FTP_TUNNEL_CONFIG FTP_TUNNELD="$T/fakedaemon.py" FAKE_LOG="$T/ufake.log" \
		FTP_TUNNEL_SOCKET="$T/urun/daemon.sock" LD_PRELOAD="$SHIM" \
		setpriv --reuid="$user" --regid=nogroup --clear-groups \
		"$PY" "$T/conn.py" 192.0.2.40 21 2>&1)
	for p in $(sed -n 's/^started pid=\([0-9]*\).*/\1/p' "$T/ufake.log"); do tt_kill "$p"; done
	userdel "$user" 2>/dev/null
	tt_check "the user's ~/.config/ftp-tunnel/config, HOME unset ($out)" \
		grep -qxF "CONNECT dst=192.0.2.40 family=inet port=21 via=dave@sshhost.example options=IdentityFile=$T/uhome/.ssh/k" "$T/ufake.log"
else
	tt_skip "the user's file: cannot add a user"
fi
for p in $(sed -n 's/^started pid=\([0-9]*\).*/\1/p' "$FAKE_LOG"); do tt_kill "$p"; done

tt_done
