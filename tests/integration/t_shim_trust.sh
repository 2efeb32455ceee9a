#!/bin/bash
# t_shim_trust.sh — the shim's side of the runtime directory (security
# finding 8; DESIGN.md "Security properties": the daemon serves only its
# own uid, and the shim talks only to a daemon of its own). t_daemon
# checks what the daemon refuses to make; this checks what the shim
# refuses to use when another user prepared it:
#  (a) the socket's directory owned by another user (mode 0700);
#  (b) a directory on the way owned by another user (who could rename
#      what it holds);
#  (c) a socket file owned by another user;
#  (d) a socket in a directory of ours whose listening process runs as
#      another user (the SO_PEERCRED check).
# In each, a routed connect() fails with EACCES, says why in one line,
# starts no daemon, sends no request, and the target sees no connection.
. "$(dirname "$0")/lib.sh"
tt_init shim_trust

SHIM=$TT_BUILD/libftptunnel.so
FAKE=$TT_LIB_DIR/helpers/fakedaemon.py
[ -f "$SHIM" ] || tt_skip_all "$SHIM is not built (make shim)"
PY=$TT_PYTHON
unset FTP_TUNNEL_VIA FTP_TUNNEL_OPTIONS FTP_TUNNEL_PORTS FTP_TUNNEL_DEBUG \
	FTP_TUNNEL_SHIM FTP_TUNNELD LD_PRELOAD FTP_TUNNEL_SOCKET

NB_UID=$(id -u nobody) || tt_skip_all "no user nobody"
NB_GID=$(id -g nobody)
tt_check "the other user is nobody (uid $NB_UID), we are root" [ "$(id -u)" = 0 -a "$NB_UID" != 0 ]

cat >"$T/conn.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("ok")
except OSError as e:
    print("err", e.errno)
EOF

# stranger.py PATH UID GID LOG: binds a Unix socket at PATH as root (so
# the file is root's, which the shim allows), then becomes UID:GID and
# only then listens: the listener's SO_PEERCRED is UID's. Logs "conn" and
# what each connection sent.
cat >"$T/stranger.py" <<'EOF'
import os, socket, sys
path, uid, gid, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.setgroups([])
os.setgid(gid)
os.setuid(uid)
s.listen(8)
open(log, "a").write("listening\n")
while True:
    c, _ = s.accept()
    c.settimeout(1.0)
    try:
        data = c.recv(4096)
    except OSError:
        data = b""
    open(log, "a").write("conn %r\n" % data)
    c.close()
EOF

P=$(tt_free_port)
tt_hits_listener "" "$P"

# refused TAG SOCKET PATTERN: a routed connect() to 127.0.0.1:$P with the
# daemon socket at SOCKET fails with EACCES; its one line matches PATTERN
# (grep -E); the fake daemon was never started; the target saw nothing.
refused() {
	local tag=$1 sock=$2 pat=$3 before out
	before=$(tt_hits "$P")
	rm -f "$T/fake.ran"
	out=$(env LD_PRELOAD="$SHIM" FTP_TUNNEL_VIA=alice@sshhost FTP_TUNNEL_PORTS="$P" \
		FTP_TUNNELD="$T/fake.sh" FTP_TUNNEL_SOCKET="$sock" \
		"$PY" "$T/conn.py" 127.0.0.1 "$P" 2>"$T/stderr.$tag")
	tt_check "finding 8 ($tag): the routed connect() fails with EACCES ($out)" [ "$out" = "err 13" ]
	tt_check "finding 8 ($tag): one line says why: $(head -c 200 "$T/stderr.$tag")" \
		eval '[ "$(wc -l <"$T/stderr.$tag")" = 1 ] && grep -Eq "$pat" "$T/stderr.$tag"'
	tt_check "finding 8 ($tag): no daemon was started" [ ! -e "$T/fake.ran" ]
	tt_check "finding 8 ($tag): nothing went in clear (the target saw no connection)" \
		[ "$(tt_hits "$P")" = "$before" ]
}

# The daemon the shim would start: notes that it ran, then is the fake
# daemon (which would serve anything).
printf '#!/bin/sh\ntouch %s\nexec %s %s "$@"\n' "$T/fake.ran" "$PY" "$FAKE" >"$T/fake.sh"
chmod 755 "$T/fake.sh"

# (a) the socket's own directory is nobody's.
mkdir -m 0700 "$T/a" && chown nobody "$T/a"
refused "directory owned by another user" "$T/a/daemon.sock" \
	"refusing the daemon socket $T/a/daemon.sock: $T/a is owned by uid $NB_UID \(nobody\), not you"

# (b) a directory on the way is nobody's (ours below it).
mkdir -m 0755 "$T/b" && mkdir -m 0700 "$T/b/sub" && chown nobody "$T/b"
refused "a directory on the way owned by another user" "$T/b/sub/daemon.sock" \
	"refusing the daemon socket $T/b/sub/daemon.sock: $T/b is owned by uid $NB_UID \(nobody\), who could replace what is in it"

# (c) the socket file is nobody's (a listener runs behind it).
mkdir -m 0700 "$T/c" && : >"$T/c.conns"
tt_spawn -o "$T/c.log" "$PY" "$T/stranger.py" "$T/c/daemon.sock" 0 0 "$T/c.conns"
tt_wait_until 50 grep -q listening "$T/c.conns"
chown nobody "$T/c/daemon.sock"
refused "socket file owned by another user" "$T/c/daemon.sock" \
	"refusing the daemon socket $T/c/daemon.sock: $T/c/daemon.sock belongs to uid $NB_UID \(nobody\), not you"
tt_check "finding 8 (socket file owned by another user): never connected to" \
	[ "$(grep -c '^conn' "$T/c.conns")" = 0 ]

# (d) our directory, our (root's) socket file, nobody's listening process.
mkdir -m 0700 "$T/d" && : >"$T/d.conns" && chown nobody "$T/d.conns"
tt_spawn -o "$T/d.log" "$PY" "$T/stranger.py" "$T/d/daemon.sock" "$NB_UID" "$NB_GID" "$T/d.conns"
tt_wait_until 50 grep -q listening "$T/d.conns"
tt_check "the stranger's socket is root's file, in root's 0700 directory ($(stat -c '%U %a' "$T/d" "$T/d/daemon.sock" | paste -sd' '))" \
	[ "$(stat -c %u "$T/d/daemon.sock")" = 0 ]
refused "a daemon running as another user" "$T/d/daemon.sock" \
	"refusing the daemon socket $T/d/daemon.sock: uid $NB_UID serves it, not you"
tt_wait_until 20 grep -q '^conn' "$T/d.conns"
# The shim did connect (the peer's uid is known only then), and left
# without a word.
tt_check "finding 8 (a daemon running as another user): reached, but got no request ($(grep '^conn' "$T/d.conns" | head -2 | paste -sd' '))" \
	[ "$(grep -c '^conn' "$T/d.conns")" -ge 1 -a "$(grep -c "^conn b''" "$T/d.conns")" = "$(grep -c '^conn' "$T/d.conns")" ]

tt_done
