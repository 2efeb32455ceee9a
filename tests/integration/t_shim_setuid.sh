#!/bin/bash
# t_shim_setuid.sh — the shim in processes with privileges their real user
# lacks (libftptunnel(7), DESIGN.md "Security properties"): a real
# set-user-ID root program, a set-group-ID one and a root process whose
# real uid is a user's, all with the shim from /etc/ld.so.preload (ld.so
# ignores LD_PRELOAD in the first two) and a route in
# /etc/ftp-tunnel/config. The real user runs a daemon of their own at the
# path such a process would use, ready to serve it a connection of the
# user's choosing, and sets every variable the shim knows. A routed
# connect() must fail with EACCES, silently, nothing going out in clear and
# no request reaching that daemon; an unrouted one is untouched. And the
# daemon's socket is never reached through a symbolic link, by a
# privileged process or by the user's own.
#
# As t_shim_system.sh, the test never touches the machine's /etc or /tmp:
# its programs run in a private mount namespace with copies of both.
. "$(dirname "$0")/lib.sh"
tt_init shim_setuid
PY=$TT_PYTHON
FAKE="$TT_LIB_DIR/helpers/fakedaemon.py"

# ---- the real user, removed at exit -----------------------------------------

U="ftt-su$$"
_setuid_exit() {
	local rc=$?
	if id -u "$U" >/dev/null 2>&1; then
		pkill -KILL -U "$(id -u "$U")" 2>/dev/null
		userdel "$U" >/dev/null 2>&1 || userdel -f "$U" >/dev/null 2>&1
	fi
	(exit "$rc")
	_tt_exit
}
trap '_setuid_exit' EXIT
useradd -M -d /nonexistent -s /usr/sbin/nologin "$U" || tt_die "useradd $U"
UU=$(id -u "$U")
UG=$(id -g "$U")
AS_USER=(setpriv --reuid="$UU" --regid="$UG" --clear-groups)
as_user() { "${AS_USER[@]}" "$@"; }
chmod 755 "$T"

# ---- the helper, installed set-user-ID and set-group-ID root ----------------

mkdir -p "$T/bin"
cc -O2 -Wall -o "$T/bin/plain" "$TT_LIB_DIR/helpers/setuid_connect.c" ||
	tt_die "cannot build helpers/setuid_connect.c"
cp "$T/bin/plain" "$T/bin/suid" && chown root:root "$T/bin/suid" && chmod 4755 "$T/bin/suid"
cp "$T/bin/plain" "$T/bin/sgid" && chown root:root "$T/bin/sgid" && chmod 2755 "$T/bin/sgid"
chmod 755 "$T/bin/plain"
# The shim where the user can read it too.
mkdir -p "$T/lib" && cp "$TT_BUILD/libftptunnel.so" "$T/lib/" && chmod 755 "$T/lib"

# ---- servers: the FTP server the route covers, the user's, an unrouted one --

FP=$(tt_free_port) AP=$(tt_free_port) UP=$(tt_free_port)
tt_spawn socat "TCP-LISTEN:$FP,bind=127.0.0.1,reuseaddr,fork" SYSTEM:'echo 220 direct'
tt_spawn socat "TCP-LISTEN:$AP,bind=127.0.0.1,reuseaddr,fork" SYSTEM:'echo 220 attacker'
tt_spawn socat "TCP-LISTEN:$UP,bind=127.0.0.1,reuseaddr,fork" SYSTEM:'echo hello'
for p in $FP $AP $UP; do tt_wait_port "$p" || tt_die "socat on $p"; done

# ---- the private /etc and /tmp ----------------------------------------------

cp -a /etc "$T/etc" 2>/dev/null
echo "$T/lib/libftptunnel.so" >"$T/etc/ld.so.preload"
mkdir -p "$T/etc/ftp-tunnel"
cat >"$T/etc/ftp-tunnel/config" <<CONF
# The FTP server on 127.0.0.1:$FP goes through an SSH server that is never
# reached here: a privileged process must not even ask.
Route 127.0.0.1:$FP
    Via nobody@127.0.0.1:1
CONF
chmod 644 "$T/etc/ftp-tunnel/config"
# $T is under /tmp: inside, /tmp/ftt-... must still be $T.
mkdir -m 1777 "$T/tmp"
mkdir "$T/tmp/${T##*/}"
unset FTP_TUNNEL_SOCKET FTP_TUNNEL_CONFIG XDG_RUNTIME_DIR FTP_TUNNELD FTP_TUNNEL_VIA

# sys CMD...: run CMD with the private /etc and /tmp.
sys() {
	unshare --mount --propagation private sh -c \
		't=${0%/etc} && mount --bind "$t" "$1/${t##*/}" &&
		 mount --bind "$0" /etc && mount --rbind "$1" /tmp &&
		 shift && exec "$@"' \
		"$T/etc" "$T/tmp" "$@"
}
tt_check "the private /etc preloads the shim" \
	eval 'sys sh -c "grep -q libftptunnel /proc/self/maps"'

# ---- the user's daemon, at the secure-mode path, serving anyone -------------

# What the shim of a process of real uid UU would use with no variables:
# /tmp/ftp-tunnel-UU/daemon.sock, here $T/tmp/ftp-tunnel-UU/daemon.sock.
SDIR="$T/tmp/ftp-tunnel-$UU"
: >"$T/fake.log" && chown "$U" "$T/fake.log"
fake_start() { # SOCKET LOG: a fake daemon of the user's, for any peer
	tt_spawn as_user env FTP_TUNNEL_SOCKET="$1" FAKE_LOG="$2" FAKE_ANY_PEER=1 \
		FAKE_FTP_SERVER="127.0.0.1:$AP" "$PY" "$FAKE"
	tt_wait_until 50 test -S "$1" || tt_die "the fake daemon at $1"
}
fake_start "$SDIR/daemon.sock" "$T/fake.log"
tt_check "the user's daemon listens at the secure-mode path ($(stat -c '%U %a' "$SDIR"))" \
	[ "$(stat -c '%u %a' "$SDIR")" = "$UU 700" ]
out=$(as_user env LD_PRELOAD="$T/lib/libftptunnel.so" FTP_TUNNEL_SOCKET="$SDIR/daemon.sock" \
	FTP_TUNNEL_CONFIG="$T/etc/ftp-tunnel/config" "$T/bin/plain" 127.0.0.1 "$FP" 2>&1)
tt_check "it does serve the user's own process: the fixture works ($(echo $out))" \
	eval 'echo "$out" | grep -q "^connected: 220 attacker"'
n0=$(grep -c '^CONNECT' "$T/fake.log")

# Everything the real user controls, pointed at the user's daemon or at
# files of the user's.
mkdir -p "$T/uhome/.config/ftp-tunnel"
cat >"$T/uhome/.config/ftp-tunnel/config" <<CONF
Route 127.0.0.1:$UP
    Via evil@127.0.0.1:1
CONF
cp "$T/uhome/.config/ftp-tunnel/config" "$T/uconf"
cat >"$T/evild" <<EOF
#!/bin/sh
touch "$T/evild.ran"
exec "$PY" "$FAKE" "\$@"
EOF
chmod 755 "$T/evild"
chown -R "$U" "$T/uhome" "$T/uconf" "$T/evild"
USERENV=(HOME="$T/uhome" XDG_RUNTIME_DIR="$T/tmp" FTP_TUNNEL_SOCKET="$SDIR/daemon.sock"
	FTP_TUNNEL_CONFIG="$T/uconf" FTP_TUNNELD="$T/evild" FTP_TUNNEL_DEBUG=1
	FAKE_ANY_PEER=1 FAKE_LOG="$T/fake.log" FAKE_FTP_SERVER="127.0.0.1:$AP")

# run WHO ARGS...: WHO = suid, sgid (the helper run by the user) or
# reuid (run by root, real uid set to the user's, effective uid 0).
run() {
	local who=$1
	shift
	case $who in
	suid | sgid) sys "${AS_USER[@]}" env "${USERENV[@]}" "$T/bin/$who" "$@" ;;
	reuid) sys env "${USERENV[@]}" "$T/bin/plain" -r "$UU" "$@" ;;
	esac
}

for who in suid sgid reuid; do
	out=$(run "$who" 127.0.0.1 "$FP" 2>"$T/err.$who")
	ids=$(echo "$out" | head -1)
	res=$(echo "$out" | sed -n 2p)
	tt_check "finding 3: $who ($ids): the routed connect() fails with EACCES ($res)" \
		eval '[ "$res" = "connect: Permission denied (errno 13)" ]'
	tt_check "finding 3: $who: no request reached the user's daemon" \
		[ "$(grep -c '^CONNECT' "$T/fake.log")" = "$n0" ]
	tt_check "finding 3: $who: and nothing went in clear: no greeting at all" \
		eval '! echo "$out" | grep -q "220"'
	tt_check "finding 3: $who: silent (FTP_TUNNEL_DEBUG ignored; stderr: $(head -c 200 "$T/err.$who"))" \
		[ ! -s "$T/err.$who" ]
	tt_check "finding 3: $who: FTP_TUNNELD was not run" [ ! -e "$T/evild.ran" ]
	out=$(run "$who" 127.0.0.1 "$UP" 2>&1)
	tt_check "finding 3: $who: an unrouted connection (the user's routes ignored) is untouched ($(echo $out))" \
		eval 'echo "$out" | grep -q "^connected: hello$"'
done
tt_check "the set-user-ID helper ran with euid 0" grep -q "ruid=$UU euid=0" <(run suid 127.0.0.1 "$UP")

# ---- a symbolic link for daemon.sock ----------------------------------------

# A socket only root can reach, and the user's link to it where the
# daemon's socket should be.
mkdir -m 700 "$T/rootonly"
tt_spawn "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
while True:
    c, _ = s.accept()
    open(sys.argv[2], "a").write("accepted\n")
    c.close()' "$T/rootonly/l.sock" "$T/rootonly.log"
tt_wait_until 50 test -S "$T/rootonly/l.sock" || tt_die "root's socket"
: >"$T/rootonly.log"
for p in $(sed -n 's/^started pid=\([0-9]*\).*/\1/p' "$T/fake.log"); do tt_kill "$p"; done
rm -f "$SDIR/daemon.sock"
as_user ln -s "$T/rootonly/l.sock" "$SDIR/daemon.sock"
out=$(run suid 127.0.0.1 "$FP" 2>&1)
tt_check "finding 3: suid, daemon.sock a link to root's socket: the connect() fails ($(echo "$out" | sed -n 2p))" \
	eval 'echo "$out" | grep -q "^connect: Permission denied"'
tt_check "finding 3: and root's socket was never connected to ($(wc -l <"$T/rootonly.log") connections)" \
	[ ! -s "$T/rootonly.log" ]

# The user's own, unprivileged process: the link leads to another daemon
# of the user's; the shim must not follow it either.
rm -f "$SDIR/daemon.sock"
mkdir -m 700 "$T/elsewhere" && chown "$U" "$T/elsewhere"
: >"$T/fake2.log" && chown "$U" "$T/fake2.log"
fake_start "$T/elsewhere/daemon.sock" "$T/fake2.log"
as_user ln -s "$T/elsewhere/daemon.sock" "$SDIR/daemon.sock"
out=$(sys "${AS_USER[@]}" env -u FTP_TUNNEL_SOCKET -u XDG_RUNTIME_DIR FTP_TUNNEL_CONFIG=/dev/null FTP_TUNNELD=/nonexistent \
	FTP_TUNNEL_VIA=nobody@127.0.0.1:1 FTP_TUNNEL_PORTS="$FP" "$T/bin/plain" 127.0.0.1 "$FP" 2>&1)
tt_check "finding 8: the user's own process, daemon.sock a link: the connect() fails ($(echo $out))" \
	eval 'echo "$out" | grep -q "^connect: "'
tt_check "finding 8: and says why" eval 'echo "$out" | grep -q "symbolic link"'
tt_check "finding 8: and the daemon the link names got no request" \
	eval '! grep -q "^CONNECT" "$T/fake2.log"'
for p in $(sed -n 's/^started pid=\([0-9]*\).*/\1/p' "$T/fake2.log"); do tt_kill "$p"; done
tt_done
