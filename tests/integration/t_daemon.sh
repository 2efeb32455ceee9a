#!/bin/bash
# t_daemon.sh — ftp-tunneld itself: one daemon per user however many
# start it at once, readiness, idle exit, a dropped SSH connection made
# again on the next request, socket activation, refusal of an unsafe
# socket directory (open to others, another user's, under another user's
# XDG_RUNTIME_DIR) and of a symbolic link for its lock file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init daemon
tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/f" 1M
D="$TT_BUILD/ftp-tunneld"
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock"
mkdir -p "$T/run" && chmod 700 "$T/run"

status() { "$TT_BUILD/ftp-tunnel" status 2>/dev/null; }
daemon_pid() { status | awk '/^pid:/ {print $2}'; }

# Five daemons started at once: one serves, the others report ready and
# leave.
pids=()
for i in 1 2 3 4 5; do
	"$D" --ready-fd 3 3>"$T/ready.$i" >"$T/d.$i.log" 2>&1 &
	pids+=($!)
	tt_track "$!"
done
sleep 0.1
for i in $(seq 50); do
	n=0
	for p in "${pids[@]}"; do _tt_alive "$p" && n=$((n + 1)); done
	[ "$n" -le 1 ] && break
	sleep 0.1
done
tt_check "five started at once: one stays ($n running)" [ "$n" -eq 1 ]
ready=$(cat "$T"/ready.* | grep -c READY)
tt_check "every one of them said READY ($ready)" [ "$ready" -eq 5 ]
dp=$(daemon_pid)
tt_check "the one left answers (pid $dp)" [ -n "$dp" ]

# A CONNECT through the daemon, then the SSH connection drops: the next
# CONNECT makes a new one.
WRAP="$TT_BUILD/ftp-tunnel-wrap --via $SSH_USER@127.0.0.1:$SSHD_PORT --ports $VSFTPD_PORT -i $SSH_KEY -o UserKnownHostsFile=$SSH_KNOWN_HOSTS"
export FTP_TUNNELD="$D" FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
$WRAP curl -sS --max-time 20 -o "$T/g1" "ftp://127.0.0.1:$VSFTPD_PORT/pub/f"
tt_same "$VSFTPD_PUB/f" "$T/g1" "through the daemon"
child=$(pgrep -P "$SSHD_PID" | head -1)
kill -KILL "$child"
for i in $(seq 50); do status | grep -q ' ready$' || break; sleep 0.1; done
tt_check "the daemon noticed the lost SSH connection" eval '! status | grep -q " ready$"'
$WRAP curl -sS --max-time 20 -o "$T/g2" "ftp://127.0.0.1:$VSFTPD_PORT/pub/f"
tt_same "$VSFTPD_PUB/f" "$T/g2" "the next request made a new SSH connection"
tt_check "the daemon survived (pid $(daemon_pid))" [ "$(daemon_pid)" = "$dp" ]

"$TT_BUILD/ftp-tunnel" stop >/dev/null
for i in $(seq 30); do _tt_alive "$dp" || break; sleep 0.1; done
tt_check "ftp-tunnel stop: the daemon is gone" eval '! _tt_alive "$dp"'
tt_check "and its socket too" [ ! -e "$FTP_TUNNEL_SOCKET" ]

# ftp-tunnel-wrap on a terminal asks about an unknown host key before
# the command runs, records it, and the daemon then uses it.
# (helpers/on_tty.py gives it a terminal and answers "yes" at the prompt.)
on_tty() { # prompt-regex answer command...
	local prompt=$1 answer=$2
	shift 2
	python3 "$TT_LIB_DIR/helpers/on_tty.py" 60 "$prompt" "$answer" -- "$@" 2>&1
}
kh="$T/kh.tty"
out=$(on_tty "continue connecting" yes "$TT_BUILD/ftp-tunnel-wrap" \
	--via "$SSH_USER@127.0.0.1:$SSHD_PORT" -i "$SSH_KEY" -o "UserKnownHostsFile=$kh" \
	--ports "$VSFTPD_PORT" curl -sS -o "$T/g3" "ftp://127.0.0.1:$VSFTPD_PORT/pub/f")
tt_check "wrap on a terminal: asked about the host key" \
	eval 'echo "$out" | grep -q "Are you sure you want to continue connecting"'
tt_check "wrap on a terminal: key recorded" grep -q "^\[127.0.0.1\]:$SSHD_PORT ssh-ed25519" "$kh"
tt_same "$VSFTPD_PUB/f" "$T/g3" "wrap on a terminal: then the command ran through the daemon"
dp=$(daemon_pid)
[ -n "$dp" ] && tt_track "$dp"
"$TT_BUILD/ftp-tunnel" stop >/dev/null

# A passphrase-protected key on a terminal with an agent running: the
# wrapper has ssh-add ask for the passphrase (the daemon never could),
# then the command runs with the agent's key.
ssh-keygen -q -t ed25519 -N 'sekrit-phrase' -f "$T/enc_key"
cat "$T/enc_key.pub" >>"$SSHD_DIR/authorized_keys"
eval "$(ssh-agent -s)" >/dev/null
tt_track "$SSH_AGENT_PID"
out=$(on_tty "Enter passphrase" sekrit-phrase "$TT_BUILD/ftp-tunnel-wrap" \
	--via "$SSH_USER@127.0.0.1:$SSHD_PORT" -i "$T/enc_key" -o IdentitiesOnly=yes \
	-o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" --ports "$VSFTPD_PORT" \
	curl -sS -o "$T/g4" "ftp://127.0.0.1:$VSFTPD_PORT/pub/f")
tt_check "encrypted key: ssh-add asked for the passphrase" \
	eval 'echo "$out" | grep -q "Identity added"'
tt_same "$VSFTPD_PUB/f" "$T/g4" "encrypted key: then the command ran through the daemon"
dp=$(daemon_pid)
[ -n "$dp" ] && tt_track "$dp"
"$TT_BUILD/ftp-tunnel" stop >/dev/null
kill "$SSH_AGENT_PID"
unset SSH_AUTH_SOCK SSH_AGENT_PID

# Another uid cannot read the daemon's files: in its default place (a
# world-readable XDG_RUNTIME_DIR here, so only the daemon's own modes
# protect them) the directory it makes is 0700, and the other uid can
# neither list it nor open the lock or connect to the socket.
other="ftt-ot$$"
useradd -M -s /usr/sbin/nologin "$other" 2>/dev/null
chmod 755 "$T"
mkdir -m 755 "$T/xdg"
(
	unset FTP_TUNNEL_SOCKET
	XDG_RUNTIME_DIR="$T/xdg" exec "$D" --ready-fd 3 --idle-exit 30 3>"$T/ready.xdg"
) &
xp=$!
tt_track "$xp"
tt_wait_until 50 grep -q READY "$T/ready.xdg"
xdir="$T/xdg/ftp-tunnel"
tt_check "finding 8: the daemon's directory is 0700 and ours ($(stat -c '%a %U' "$xdir" 2>&1))" \
	[ "$(stat -c '%a %u' "$xdir")" = "700 $(id -u)" ]
tt_check "finding 8: the other uid can reach the parent directory (so the modes are what stops it)" \
	setpriv --reuid="$other" --regid=nogroup --clear-groups ls "$T/xdg"
for what in "ls $xdir" "cat $xdir/daemon.sock.lock" \
	"/usr/bin/python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' $xdir/daemon.sock"; do
	out=$(setpriv --reuid="$other" --regid=nogroup --clear-groups sh -c "$what" 2>&1)
	tt_check "finding 8: another uid: $what: permission denied ($(echo "$out" | tail -1))" \
		eval 'echo "$out" | grep -q "Permission denied"'
done
(
	unset FTP_TUNNEL_SOCKET
	XDG_RUNTIME_DIR="$T/xdg" "$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
)
chmod 700 "$T"
userdel "$other" 2>/dev/null

# Idle exit.
"$D" --idle-exit 1 --ready-fd 3 3>"$T/ready.idle" &
ip=$!
tt_track "$ip"
for i in $(seq 40); do _tt_alive "$ip" || break; sleep 0.1; done
tt_check "--idle-exit 1: exited when idle" eval '! _tt_alive "$ip"'

# An unsafe directory (open to others) is refused.
chmod 755 "$T/run"
"$D" --ready-fd 3 3>"$T/ready.unsafe" 2>"$T/unsafe.log"
rc=$?
chmod 700 "$T/run"
tt_check "finding 8: a directory open to others is refused (exit $rc): $(cat "$T/unsafe.log")" \
	test "$rc" -ne 0 -a ! -s "$T/ready.unsafe"

# A /tmp/ftp-tunnel-UID made first by another user (here nobody, in a
# private /tmp): refused, with a message naming the owner and what to do.
mkdir -m 1777 "$T/ptmp"
mkdir -m 700 "$T/ptmp/ftp-tunnel-$(id -u)"
chown nobody "$T/ptmp/ftp-tunnel-$(id -u)"
env -u FTP_TUNNEL_SOCKET -u XDG_RUNTIME_DIR unshare --mount --propagation private \
	sh -c 'mount --bind "$0" /tmp && exec "$@"' "$T/ptmp" \
	"$D" --ready-fd 3 3>"$T/ready.foreign" 2>"$T/foreign.log"
rc=$?
tt_check "finding 8: a foreign /tmp/ftp-tunnel-$(id -u) is refused (exit $rc): $(cat "$T/foreign.log")" \
	test "$rc" -ne 0 -a ! -s "$T/ready.foreign"
tt_check "finding 8: the message names the owner and says what to do" \
	grep -q "/tmp/ftp-tunnel-$(id -u) is owned by uid $(id -u nobody) (nobody), not you: remove it or set XDG_RUNTIME_DIR" "$T/foreign.log"

# Root with another user's XDG_RUNTIME_DIR: that user could swap what is
# in it, so the daemon makes nothing there.
mkdir -m 700 "$T/uxdg" && chown nobody "$T/uxdg"
env -u FTP_TUNNEL_SOCKET XDG_RUNTIME_DIR="$T/uxdg" "$D" --ready-fd 3 --idle-exit 2 \
	3>"$T/ready.uxdg" 2>"$T/uxdg.log" &
up=$!
tt_track "$up"
tt_wait_until 50 eval '! _tt_alive "$up" || grep -q READY "$T/ready.uxdg"'
tt_check "finding 8: root with nobody's XDG_RUNTIME_DIR is refused: $(cat "$T/uxdg.log")" \
	[ ! -s "$T/ready.uxdg" ]
tt_kill "$up"
tt_check "finding 8: and made nothing in it ($(ls -A "$T/uxdg" | tr '\n' ' '))" \
	[ -z "$(ls -A "$T/uxdg")" ]
tt_check "finding 8: the message names the owner" grep -q "is owned by uid $(id -u nobody) (nobody)" "$T/uxdg.log"

# A symbolic link where the lock file goes is not followed: nothing is
# created where it points.
mkdir -m 700 "$T/run3"
ln -s "$T/victim" "$T/run3/daemon.sock.lock"
FTP_TUNNEL_SOCKET="$T/run3/daemon.sock" "$D" --ready-fd 3 --idle-exit 5 3>"$T/ready.lnk" 2>"$T/lnk.log" &
lp=$!
tt_track "$lp"
tt_wait_until 50 eval '! _tt_alive "$lp"'
tt_check "finding 8: a symlinked lock file: not followed ($T/victim $(test -e "$T/victim" && echo exists || echo "not created"))" \
	[ ! -e "$T/victim" ]
tt_check "finding 8: and the daemon said why and stopped: $(cat "$T/lnk.log")" \
	eval '! _tt_alive "$lp" && ! grep -q READY "$T/ready.lnk" && grep -q "symbolic link" "$T/lnk.log"'
tt_kill "$lp"

# Socket activation (systemd's protocol), where the tool is there.
if command -v systemd-socket-activate >/dev/null; then
	tt_spawn systemd-socket-activate -l "$FTP_TUNNEL_SOCKET" \
		-E FTP_TUNNEL_SOCKET="$FTP_TUNNEL_SOCKET" "$D" -vv
	tt_wait_until 50 test -S "$FTP_TUNNEL_SOCKET"
	tt_check "socket activation: the first request starts it and is served" \
		eval 'status | grep -q "^pid:"'
	tt_check "socket activation: it used the passed socket" \
		grep -q "inherited socket" "$TT_SPAWN_LOG"
	"$TT_BUILD/ftp-tunnel" stop >/dev/null

	# The daemon itself refuses another uid (SO_PEERCRED), even on a
	# socket anyone may connect to: one passed by a socket activator,
	# given mode 0777 here, in a directory open to all.
	other="ftt-pc$$"
	useradd -M -s /usr/sbin/nologin "$other" 2>/dev/null
	chmod 755 "$T"
	mkdir -m 755 "$T/open"
	osock="$T/open/daemon.sock"
	# (Its own lock stays in a private directory, as the daemon wants.)
	mkdir -m 700 "$T/run2"
	( exec systemd-socket-activate -l "$osock" \
		-E FTP_TUNNEL_SOCKET="$T/run2/daemon.sock" "$D" -vv ) >"$T/logs/open-activate.log" 2>&1 &
	apid=$! # systemd-socket-activate execs the daemon: the same process
	tt_track "$apid"
	tt_wait_until 50 test -S "$osock"
	chmod 777 "$osock"
	out=$(setpriv --reuid="$other" --regid=nogroup --clear-groups /usr/bin/python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
# The daemon may close before the request is even sent (EPIPE) or after
# (ECONNRESET, or EOF): either way, no answer.
try:
    s.sendall(struct.pack("!I", 11) + b"FTPT1 PING\n")
    got = s.recv(100)
except OSError as e:
    got = e.strerror.encode()
print("connected; the answer:", repr(got))' "$osock" 2>&1)
	tt_check "own uid only: another uid reaches an open socket but gets no answer ($out)" \
		eval 'echo "$out" | grep -q "^connected; the answer: " && ! echo "$out" | grep -q FTPT1'
	tt_check "and the daemon logged the refusal" \
		tt_wait_until 30 grep -q "refused a connection from uid $(id -u "$other")" "$T/logs/open-activate.log"
	tt_check "and went on running" _tt_alive "$apid"
	kill "$apid"
	chmod 700 "$T"
	userdel "$other" 2>/dev/null
else
	tt_skip "socket activation: no systemd-socket-activate here"
fi
tt_done
