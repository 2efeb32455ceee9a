#!/bin/bash
# t_shim_unrouted.sh — the LD_PRELOAD shim (libftptunnel.so) and
# ftp-tunnel-wrap without the real daemon:
#  1. without FTP_TUNNEL_VIA, programs under the shim behave exactly as
#     without it (bash, python3, curl, the nbclient helper), and the shim
#     opens nothing;
#  2. with FTP_TUNNEL_VIA but no daemon to be had, a routed connect() fails
#     at once with an errno and one line on stderr, and the target never
#     sees a connection; the SSH server itself and non-TCP sockets are not
#     routed;
#  3. against a stand-in daemon (helpers/fakedaemon.py: docs/IPC.txt
#     without SSH, started by the shim as ftp-tunneld would be), routed
#     control and data connections of real clients work, getpeername() and
#     accept() report the server's address, and threads, fork and racing
#     daemon starts are handled;
#  4. ftp-tunnel-wrap's options, environment and exit statuses.
# Addresses from TEST-NET-1 (192.0.2.0/24) and 2001:db8::/32 stand for FTP
# servers: reachable only through the (fake) tunnel, so a connection that
# went around it fails.
. "$(dirname "$0")/lib.sh"
tt_init shim_unrouted

SHIM=$TT_BUILD/libftptunnel.so
WRAP=$TT_BUILD/ftp-tunnel-wrap
NB=$TT_BUILD/tests/nbclient
FAKE=$TT_LIB_DIR/helpers/fakedaemon.py
for f in "$SHIM" "$WRAP" "$NB"; do
	[ -x "$f" ] || [ -f "$f" ] || tt_skip_all "$f is not built (make shim)"
done
PY=$TT_PYTHON

# Nothing from the caller's environment, and never the user's real daemon.
unset FTP_TUNNEL_VIA FTP_TUNNEL_OPTIONS FTP_TUNNEL_PORTS FTP_TUNNEL_DEBUG \
	FTP_TUNNEL_SHIM FTP_TUNNELD LD_PRELOAD
export FTP_TUNNEL_SOCKET=$T/rt0/daemon.sock

hits_above() { [ "$(tt_hits "$1")" -gt "$2" ]; }

# conn.py HOST PORT [udp|tfo]: connect (tfo: sendto with MSG_FASTOPEN, a
# connect without connect()); print "ok PEER" or "err ERRNO".
cat >"$T/conn.py" <<'EOF'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
how = sys.argv[3] if len(sys.argv) > 3 else ""
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
typ = socket.SOCK_DGRAM if how == "udp" else socket.SOCK_STREAM
s = socket.socket(fam, typ)
try:
    if how == "tfo":
        s.sendto(b"x", socket.MSG_FASTOPEN, (host, port))
    else:
        s.connect((host, port))
    print("ok", s.getpeername()[0], s.getpeername()[1])
except OSError as e:
    print("err", e.errno)
EOF

ms() { date +%s%3N; }

# ------------------------------------------------------------------ 1. unrouted
echo "# 1. without FTP_TUNNEL_VIA"

syms=$(nm -D --defined-only "$SHIM" | awk '$2 == "T" { print $3 }' | sort | tr '\n' ' ')
tt_check "the shim exports only its hooks ($syms)" \
	[ "$syms" = "accept accept4 close connect getaddrinfo gethostbyname gethostbyname2 gethostbyname2_r gethostbyname_r getpeername sendmsg sendto " ]
tt_check "the shim links neither libssh2 nor OpenSSL" \
	bash -c "! readelf -d '$SHIM' | grep NEEDED | grep -Eq 'ssh|crypto|ssl'"
tt_check "the shim has an soname" \
	bash -c "readelf -d '$SHIM' | grep -q 'SONAME.*libftptunnel.so'"

P=$(tt_free_port)
tt_hits_listener "" "$P"
script='echo $((6 * 7)); exec 3<>/dev/tcp/127.0.0.1/'$P' && echo connected; exec 3>&-; ls -d / /nonexistent 2>&1; exit 3'
plain=$(bash -c "$script")
plain_rc=$?
shimmed=$(LD_PRELOAD=$SHIM FTP_TUNNEL_PORTS=$P bash -c "$script")
shimmed_rc=$?
tt_check "bash -c: same output and status under the shim" \
	[ "$plain" = "$shimmed" -a "$plain_rc" = "$shimmed_rc" ]
tt_check "bash /dev/tcp reached the listener both times" tt_wait_until 30 hits_above "$P" 1

closed=$(tt_free_port)
for target in "127.0.0.1 $P" "127.0.0.1 $closed" "::1 $closed" "127.0.0.1 $P udp"; do
	# shellcheck disable=SC2086
	a=$("$PY" "$T/conn.py" $target 2>&1)
	# shellcheck disable=SC2086
	b=$(LD_PRELOAD=$SHIM "$PY" "$T/conn.py" $target 2>&1)
	tt_check "python3 socket to $target: \"$b\" as without the shim" [ "$a" = "$b" ]
done

before=$(tt_hits "$P")
LD_PRELOAD=$SHIM "$PY" "$T/conn.py" 127.0.0.1 "$P" tfo >/dev/null 2>&1
tt_check "TCP Fast Open (sendto MSG_FASTOPEN) under the shim reaches the listener" \
	tt_wait_until 30 hits_above "$P" "$before"

tt_vsftpd >/dev/null || tt_die "vsftpd did not start"
tt_mkfile "$VSFTPD_PUB/f1" 1M
tt_mkfile "$VSFTPD_PUB/small" 1K
rm -f "$T/c1"
LD_PRELOAD=$SHIM curl -sS -o "$T/c1" "ftp://127.0.0.1:$VSFTPD_PORT/pub/f1" &&
	tt_same "$VSFTPD_PUB/f1" "$T/c1" "curl (port $VSFTPD_PORT) under the shim, no VIA"
rm -f "$T/c1"
LD_PRELOAD=$SHIM FTP_TUNNEL_PORTS=$VSFTPD_PORT curl -sS -P - -o "$T/c1" \
	"ftp://127.0.0.1:$VSFTPD_PORT/pub/f1" &&
	tt_same "$VSFTPD_PUB/f1" "$T/c1" "curl active, FTP_TUNNEL_PORTS but no VIA: direct"
rm -f "$T/c2"
LD_PRELOAD=$SHIM FTP_TUNNEL_VIA=alice@sshhost FTP_TUNNELD=/nonexistent \
	curl -sS -o "$T/c2" "ftp://127.0.0.1:$VSFTPD_PORT/pub/f1" &&
	tt_same "$VSFTPD_PUB/f1" "$T/c2" "curl to a port that is not routed, with VIA: direct"

tt_check "nbclient epsv (no shim)" tt_quiet "$NB" 127.0.0.1 "$VSFTPD_PORT" pub/f1 "$T/n0"
tt_check "nbclient epsv under the shim, no VIA" \
	tt_quiet env LD_PRELOAD="$SHIM" "$NB" 127.0.0.1 "$VSFTPD_PORT" pub/f1 "$T/n1"
tt_check "nbclient pasv -A, 4 threads, under the shim" \
	tt_quiet env LD_PRELOAD="$SHIM" "$NB" -m pasv -A -t 4 127.0.0.1 "$VSFTPD_PORT" pub/f1 "$T/n2"
tt_check "nbclient, sockets in epoll before connect, under the shim" \
	tt_quiet env LD_PRELOAD="$SHIM" "$NB" -E 127.0.0.1 "$VSFTPD_PORT" pub/f1 "$T/n4"
tt_check "nbclient fork mode under the shim" \
	tt_quiet env LD_PRELOAD="$SHIM" "$NB" -f 127.0.0.1 "$VSFTPD_PORT" pub/f1 "$T/n3"
ok=1
for f in "$T/n0" "$T/n1" "$T/n2".{0,1,2,3} "$T/n3".child "$T/n3".parent "$T/n4"; do
	tt_cmp "$VSFTPD_PUB/f1" "$f" || ok=0
done
tt_check "nbclient: every file arrived whole" [ "$ok" = 1 ]

# The shim, inactive, must not open or create anything of its own.
trace() {
	strace -f -qq -e trace=socket,connect,openat,mkdir -o "$1" \
		env ${2:+LD_PRELOAD="$2"} FTP_TUNNEL_PORTS="$P" \
		bash -c "exec 3<>/dev/tcp/127.0.0.1/$P; exec 3>&-; \"$PY\" '$T/conn.py' 127.0.0.1 $P" >/dev/null 2>&1
}
if command -v strace >/dev/null; then
	trace "$T/strace.plain" ""
	trace "$T/strace.shim" "$SHIM"
	# Allowed: the shim's own library, its configuration files, and the
	# user database lookup that finds the user's configuration file
	# (which may ask nscd over a Unix socket).
	allowed='libftptunnel.so|/etc/ftp-tunnel/config|/\.config/ftp-tunnel/config|/etc/passwd|/etc/nsswitch.conf|nscd|libnss'
	n_plain=$(grep -Ev "$allowed" "$T/strace.plain" | grep -c -e 'connect(.*AF_UNIX' -e ftp-tunnel)
	n_shim=$(grep -Ev "$allowed" "$T/strace.shim" | grep -c -e 'connect(.*AF_UNIX' -e ftp-tunnel)
	tt_check "inactive shim: no socket or file of its own (strace: $n_shim vs $n_plain)" \
		[ "$n_plain" = "$n_shim" ]
	tt_check "inactive shim: no daemon directory made" [ ! -e "$T/rt0" ]
else
	tt_skip "no strace"
fi

# ------------------------------------------------------------------ 2. no daemon
echo "# 2. FTP_TUNNEL_VIA set, no daemon to be had"

# routed_fails NAME WANT_ERRNO WANT_MSG ENV...: a routed python3 connect to
# 127.0.0.1:$P fails with WANT_ERRNO, says WANT_MSG (a grep -E pattern) in
# one line, within 3 s, and the listener sees nothing.
routed_fails() {
	local name=$1 want=$2 msg=$3 before t0 t1 out
	shift 3
	before=$(tt_hits "$P")
	t0=$(ms)
	out=$(env LD_PRELOAD="$SHIM" FTP_TUNNEL_VIA=alice@sshhost FTP_TUNNEL_PORTS="21,$P" \
		"$@" "$PY" "$T/conn.py" 127.0.0.1 "$P" 2>"$T/stderr")
	t1=$(ms)
	tt_check "$name: connect() fails with errno $want ($out)" [ "$out" = "err $want" ]
	tt_check "$name: one line on stderr: $(head -c 160 "$T/stderr")" \
		[ "$(wc -l <"$T/stderr")" = 1 ]
	tt_check "$name: the line says why and that nothing went in clear" \
		grep -Eq "^ftp-tunnel: $msg \(connection to 127\.0\.0\.1:$P not made in clear text\)$" "$T/stderr"
	tt_check "$name: fast ($((t1 - t0)) ms)" [ $((t1 - t0)) -lt 3000 ]
	tt_check "$name: the target saw no connection" [ "$(tt_hits "$P")" = "$before" ]
}

routed_fails "daemon not found" 111 \
	"cannot start the daemon /nonexistent: No such file or directory" \
	FTP_TUNNELD=/nonexistent FTP_TUNNEL_SOCKET="$T/rt1/daemon.sock"
routed_fails "daemon exits at once" 111 "/bin/false exited before it was ready.*" \
	FTP_TUNNELD=/bin/false FTP_TUNNEL_SOCKET="$T/rt1/daemon.sock"
mkdir -m 0700 "$T/rt2"
routed_fails "daemon says no READY" 71 '.*fakedaemon.py said "HELLO" instead of READY' \
	FTP_TUNNELD="$FAKE" FAKE_BAD_READY=1 FTP_TUNNEL_SOCKET="$T/rt2/daemon.sock"
mkdir -m 0755 "$T/rt3"
routed_fails "socket directory open to others" 13 \
	"refusing the daemon socket $T/rt3/daemon.sock: $T/rt3 has mode 0755, open to others: it must be 0700 \(chmod 700 $T/rt3\)" \
	FTP_TUNNELD="$FAKE" FTP_TUNNEL_SOCKET="$T/rt3/daemon.sock"
routed_fails "bad FTP_TUNNEL_VIA" 22 "FTP_TUNNEL_VIA is not \[user@\]host\[:port\]" \
	FTP_TUNNEL_VIA=alice@host:notaport FTP_TUNNELD=/nonexistent
tt_check "nothing was started in the open directory" [ ! -e "$T/rt3/daemon.sock" ]

# The same through a non-blocking client, curl and bash.
before=$(tt_hits "$P")
out=$(env LD_PRELOAD="$SHIM" FTP_TUNNEL_VIA=alice@sshhost FTP_TUNNEL_PORTS="$P" \
	FTP_TUNNELD=/nonexistent FTP_TUNNEL_SOCKET="$T/rt1/daemon.sock" \
	"$NB" 127.0.0.1 "$P" x "$T/nx" 2>&1)
tt_check "nbclient (non-blocking): connect fails with ECONNREFUSED" \
	grep -q "nbclient: $T/nx: connect 127.0.0.1:$P: Connection refused" <<<"$out"
env LD_PRELOAD="$SHIM" FTP_TUNNEL_VIA=alice@sshhost FTP_TUNNEL_PORTS="$P" \
	FTP_TUNNELD=/nonexistent FTP_TUNNEL_SOCKET="$T/rt1/daemon.sock" \
	curl -sS -o /dev/null "ftp://127.0.0.1:$P/x" 2>"$T/stderr"
rc=$?
tt_check "curl: exit 7 (could not connect), got $rc" [ "$rc" = 7 ]
tt_check "curl: the shim's line is there" grep -q "^ftp-tunnel: cannot start the daemon" "$T/stderr"
env LD_PRELOAD="$SHIM" FTP_TUNNEL_VIA=alice@sshhost FTP_TUNNEL_PORTS="$P" \
	FTP_TUNNELD=/nonexistent FTP_TUNNEL_SOCKET="$T/rt1/daemon.sock" \
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$P" 2>/dev/null
tt_check "bash /dev/tcp: fails" [ $? != 0 ]
tt_check "none of them reached the target" [ "$(tt_hits "$P")" = "$before" ]

# Not routed even with VIA: the SSH server's own endpoint, UDP.
out=$(env LD_PRELOAD="$SHIM" FTP_TUNNEL_VIA="alice@127.0.0.1:$P" FTP_TUNNEL_PORTS="$P" \
	FTP_TUNNELD=/nonexistent "$PY" "$T/conn.py" 127.0.0.1 "$P" 2>&1)
tt_check "the SSH server's own address:port is never routed ($out)" [ "$out" = "ok 127.0.0.1 $P" ]
out=$(env LD_PRELOAD="$SHIM" FTP_TUNNEL_VIA="alice@[::1]:$P" FTP_TUNNEL_PORTS="$P" \
	FTP_TUNNELD=/nonexistent "$PY" "$T/conn.py" 127.0.0.1 "$P" 2>/dev/null)
tt_check "... but another address on that port is ($out)" [ "$out" = "err 111" ]
out=$(env LD_PRELOAD="$SHIM" FTP_TUNNEL_VIA=alice@sshhost FTP_TUNNEL_PORTS="$P" \
	FTP_TUNNELD=/nonexistent "$PY" "$T/conn.py" 127.0.0.1 "$P" udp 2>&1)
tt_check "UDP to a routed port is not routed ($out)" [ "$out" = "ok 127.0.0.1 $P" ]
before=$(tt_hits "$P")
out=$(env LD_PRELOAD="$SHIM" FTP_TUNNEL_VIA=alice@sshhost FTP_TUNNEL_PORTS="$P" \
	FTP_TUNNELD=/nonexistent "$PY" "$T/conn.py" 127.0.0.1 "$P" tfo 2>"$T/stderr")
tt_check "TCP Fast Open (sendto MSG_FASTOPEN) is routed too: fails ($out)" \
	bash -c "[ '$out' = 'err 111' ] && grep -q '^ftp-tunnel: cannot start the daemon' '$T/stderr'"
tt_check "... and the target saw nothing" [ "$(tt_hits "$P")" = "$before" ]

# ------------------------------------------------------------------ 3. stand-in daemon
echo "# 3. through the stand-in daemon (helpers/fakedaemon.py)"

# use_fake DIR: later runs use (and start) a fake daemon at $T/DIR, which
# logs to $T/DIR.log. (It exits by itself when its socket goes away.)
export FAKE_FTP_SERVER=127.0.0.1:$VSFTPD_PORT FTP_TUNNELD=$FAKE
use_fake() {
	export FTP_TUNNEL_SOCKET=$T/$1/daemon.sock FAKE_LOG=$T/$1.log
	: >"$FAKE_LOG"
}
# track_fake: register the fake daemons started so far for cleanup.
track_fake() {
	local p
	for p in $(sed -n 's/^started pid=\([0-9]*\).*/\1/p' "$FAKE_LOG"); do
		case " ${TT_KILL[*]} " in *" $p "*) ;; *) tt_track "$p" ;; esac
	done
}
stop_fake() {
	local p
	for p in $(sed -n 's/^started pid=\([0-9]*\).*/\1/p' "$FAKE_LOG"); do
		tt_kill "$p"
	done
}

use_fake rt4
other=$(readlink -f /lib/*-linux-gnu/libm.so.6 /lib64/libm.so.6 2>/dev/null | head -n 1)
routed() {
	env LD_PRELOAD="$SHIM${other:+:$other}" FTP_TUNNEL_VIA=alice@sshhost "$@"
}
# Four threads at once, the daemon not running: each connect() finds no
# daemon; all must end up served by one.
tt_check "nbclient pasv -A, 4 threads, daemon started on demand" \
	routed "$NB" -m pasv -A -t 4 192.0.2.10 21 pub/f1 "$T/r1"
track_fake
ok=1
for i in 0 1 2 3; do tt_cmp "$VSFTPD_PUB/f1" "$T/r1.$i" || ok=0; done
tt_check "... every file arrived whole" [ "$ok" = 1 ]
tt_check "... one daemon started ($(grep -c ^started "$FAKE_LOG"))" \
	[ "$(grep -c ^started "$FAKE_LOG")" = 1 ]
tt_check "... it got 4 CONNECTs" [ "$(grep -c '^CONNECT ' "$FAKE_LOG")" = 4 ]
tt_check "the daemon inherited only fds 0-3, no shim, no VIA" \
	grep -q "^started pid=[0-9]* fds=0,1,2,3 env_preload=${other:--} env_via=-$" "$FAKE_LOG"
tt_check "CONNECT names family, dst, port and via" \
	grep -q "^CONNECT dst=192.0.2.10 family=inet port=21 via=alice@sshhost options=$" "$FAKE_LOG"

out=$(routed "$PY" "$T/conn.py" 192.0.2.10 21 tfo)
tt_check "TCP Fast Open to a routed port goes through the daemon ($out)" \
	[ "$out" = "ok 192.0.2.10 21" ]
out=$(routed "$NB" -m epsv 192.0.2.10 21 pub/f1 "$T/r2")
tt_check "nbclient epsv: connect() said EINPROGRESS, data whole" \
	bash -c "[ '$out' = 'nbclient: $T/r2: 1048576 bytes (connect: EINPROGRESS)' ] && cmp -s '$T/r2' '$VSFTPD_PUB/f1'"
tt_check "nbclient fork: the child uses the parent's routed control connection" \
	routed "$NB" -f 192.0.2.10 21 pub/f1 "$T/r3"
tt_check "... both files whole" \
	bash -c "cmp -s '$T/r3.child' '$VSFTPD_PUB/f1' && cmp -s '$T/r3.parent' '$VSFTPD_PUB/f1'"
# (nbclient -E, a socket added to epoll before connect(), cannot work on a
# routed control connection: the daemon's socket replaces the program's
# file, and epoll forgets the old one. IPC v1 gives a descriptor; see
# route.c.)
tt_skip "nbclient -E routed: epoll registrations made before connect() are lost (IPC v1 hands over a new socket)"

FTP_TUNNEL_OPTIONS=$'IdentityFile=/k/id\nUserKnownHostsFile=/k/kh' \
	routed "$PY" "$T/conn.py" 192.0.2.10 21 >/dev/null
tt_check "FTP_TUNNEL_OPTIONS lines become option= keys" \
	grep -q "^CONNECT .*options=IdentityFile=/k/id|UserKnownHostsFile=/k/kh$" "$FAKE_LOG"
routed "$PY" -c '
import socket
s = socket.socket(socket.AF_INET6)
s.connect(("::ffff:192.0.2.10", 21))
print(s.getpeername()[:2])' >"$T/v4m" 2>&1
tt_check "IPv4-mapped dst: family inet6 and ftphost=192.0.2.10" \
	grep -q "^CONNECT dst=::ffff:192.0.2.10 family=inet6 ftphost=192.0.2.10 port=21 " "$FAKE_LOG"
tt_check "... getpeername says ::ffff:192.0.2.10 port 21" grep -q "('::ffff:192.0.2.10', 21)" "$T/v4m"

# Real clients: curl (ignores the 227 address), tnftp and inetutils (refuse
# a 227 naming another host than the control peer), ftplib active mode
# (accept() must name the server).
for cm in "curl epsv" "curl pasv" "curl port" "tnftp pasv" "inetutils pasv" "lftp port" "wget pasv"; do
	read -r c m <<<"$cm"
	rm -f "$T/cl"
	if TT_FTP_WRAP="env LD_PRELOAD=$SHIM FTP_TUNNEL_VIA=alice@sshhost" \
		tt_ftp "$c" "$m" get 192.0.2.10 21 pub/f1 "$T/cl"; then
		tt_same "$VSFTPD_PUB/f1" "$T/cl" "$c $m get through the shim"
	else
		tt_fail "$c $m get through the shim (log: $TT_FTP_LOG)"
	fi
done
routed "$PY" - 192.0.2.10 >"$T/active" 2>&1 <<'EOF'
import ftplib, sys
f = ftplib.FTP()
f.connect(sys.argv[1], 21)
print("control", f.sock.getpeername())
f.login()
f.voidcmd("TYPE I")
ls = f.makeport()
f.sendcmd("RETR pub/small")
c, a = ls.accept()
print("accepted", a[0], c.getpeername()[0])
while c.recv(65536):
    pass
c.close()
f.voidresp()
f.quit()
EOF
tt_check "active mode: accept() and getpeername() name the server" \
	grep -q "^accepted 192.0.2.10 192.0.2.10$" "$T/active"
tt_check "active mode: the control peer is the server" \
	grep -q "^control ('192.0.2.10', 21)$" "$T/active"

# A program with stdin and stdout closed starts the daemon cleanly.
stop_fake
use_fake rt5
routed bash -c "exec 0<&- 1>&-; exec \"$PY\" '$T/conn.py' 192.0.2.10 21 >'$T/closed.out'" 2>"$T/stderr"
track_fake
tt_check "stdio closed: the routed connect works ($(cat "$T/closed.out" "$T/stderr"))" \
	grep -q "^ok 192.0.2.10 21$" "$T/closed.out"
tt_check "stdio closed: the daemon still has exactly 0-3" \
	grep -q "^started pid=[0-9]* fds=0,1,2,3 " "$FAKE_LOG"

# The daemon's ERR: its errno and message, nothing in clear.
stop_fake
use_fake rt6
out=$(FAKE_ERR="113 ssh: cannot reach sshhost" routed "$PY" "$T/conn.py" 192.0.2.10 21 2>"$T/stderr")
track_fake
tt_check "ERR from the daemon: errno 113 ($out)" [ "$out" = "err 113" ]
tt_check "ERR from the daemon: its message in the one line" \
	grep -qx "ftp-tunnel: ssh: cannot reach sshhost (connection to 192.0.2.10:21 not made in clear text)" "$T/stderr"
stop_fake

# ------------------------------------------------------------------ 4. the wrapper
echo "# 4. ftp-tunnel-wrap"
use_fake rt7
export FTP_TUNNEL_SHIM=$SHIM
"$WRAP" >/dev/null 2>&1
tt_check "no command: exit 2" [ $? = 2 ]
"$WRAP" true 2>"$T/stderr"
tt_check "no --via: exit 2 with a message" \
	bash -c "[ $? = 2 ] && grep -q 'no SSH server' '$T/stderr'"
"$WRAP" --via 'a@b:x' true 2>/dev/null
tt_check "bad --via: exit 2" [ $? = 2 ]
"$WRAP" --via a@b -o novalue true 2>/dev/null
tt_check "bad -o: exit 2" [ $? = 2 ]
"$WRAP" --via alice@sshhost /nonexistent/cmd 2>"$T/stderr"
rc=$?
track_fake
tt_check "command not found: exit 127 ($rc)" [ "$rc" = 127 ]
tt_check "command not found: one line" [ "$(wc -l <"$T/stderr")" = 1 ]
tt_check "the wrapper started the daemon (PING)" grep -q "^PING" "$FAKE_LOG"
"$WRAP" --via alice@sshhost sh -c 'exit 7'
tt_check "exit status passed through" [ $? = 7 ]
(cd "$T" && LD_PRELOAD=$other FTP_TUNNEL_OPTIONS=Port=22 "$WRAP" --via alice@sshhost:2222 --ports 21,2121 \
	-i rel/key -o 'UserKnownHostsFile kh' -o Compression=no -- \
	sh -c 'printf "%s\n" "$LD_PRELOAD" "$FTP_TUNNEL_VIA" "$FTP_TUNNEL_PORTS" "$FTP_TUNNEL_OPTIONS" "$1"' sh 'a b') >"$T/wenv"
printf '%s\n' "$SHIM${other:+:$other}" alice@sshhost:2222 21,2121 \
	"IdentityFile=$T/rel/key" "UserKnownHostsFile=$T/kh" Compression=no Port=22 'a b' >"$T/wenv.want"
tt_check "environment and arguments of the command" cmp -s "$T/wenv" "$T/wenv.want"
rm -f "$T/w1"
"$WRAP" --via alice@sshhost curl -sS -o "$T/w1" ftp://192.0.2.10/pub/f1 &&
	tt_same "$VSFTPD_PUB/f1" "$T/w1" "curl through the wrapper"
stop_fake
FTP_TUNNELD=/nonexistent FTP_TUNNEL_SOCKET=$T/rt8/daemon.sock \
	"$WRAP" --via alice@sshhost true 2>"$T/stderr"
rc=$?
tt_check "no daemon to be had: exit 125 ($rc)" [ "$rc" = 125 ]
tt_check "... with one line" \
	grep -qx "ftp-tunnel-wrap: cannot start the daemon /nonexistent: No such file or directory" "$T/stderr"

tt_done
