#!/bin/bash
# t_limits.sh — running out of file descriptors: ftp-tunnel's listener
# pauses instead of spinning on a backlog it cannot accept (its CPU time
# stays near zero while clients wait), says so once in a while, and
# takes the waiting connections once descriptors are free again; an FTP
# transfer then works (sha256). And the most channels one SSH connection
# carries (-o MaxChannels): past it, a PASV gets a 425 and a new control
# connection a 421 that say why, and both work again once there is room.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init limits

tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/f" 1M
chmod -R a+rX "$VSFTPD_PUB"

# A sink that holds every connection until its client is gone (the
# tunnel's far end).
SINK=$(tt_free_port)
tt_spawn python3 -c '
import socket, sys, threading
def hold(c):
    while c.recv(4096):
        pass
    c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(512)
while True:
    threading.Thread(target=hold, args=(s.accept()[0],), daemon=True).start()
' "$SINK"
tt_wait_port "$SINK"

TP=$(tt_free_port)
FP=$(tt_free_port)
ft_tunnel -v -L "tcp/$TP:127.0.0.1:$SINK" -L "ftp/$FP:127.0.0.1:$VSFTPD_PORT" \
	"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel"
hard=$(prlimit --pid "$FT_PID" --nofile --noheadings --output HARD)
prlimit --pid "$FT_PID" --nofile="48:$hard" || tt_die "prlimit"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# 80 clients hold connections to the tcp/ tunnel: more than 48
# descriptors' worth, so the listener meets EMFILE with a backlog.
HOLD_DONE="$T/hold.done"
tt_spawn python3 -c '
import os, socket, sys, time
conns = []
for i in range(80):
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    conns.append(c)
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.1)
' "$TP" "$T/hold.ready" "$HOLD_DONE"
HOLD_PID=$TT_PID
for i in $(seq 100); do [ -e "$T/hold.ready" ] && break; sleep 0.1; done
tt_check "80 clients connected (the kernel's backlog takes what ftp-tunnel cannot)" [ -e "$T/hold.ready" ]
sleep 1
t0=$(cpu_ticks "$FT_PID")
sleep 3
t1=$(cpu_ticks "$FT_PID")
hz=$(getconf CLK_TCK)
tt_check "out of descriptors: ftp-tunnel used $((t1 - t0)) ticks of CPU in 3 s (under $((hz / 4)): not spinning)" \
	[ $((t1 - t0)) -lt $((hz / 4)) ]
tt_check "out of descriptors: said so" grep -q "out of file descriptors" "$FT_LOG"
tt_check "out of descriptors: still running" _tt_alive "$FT_PID"

# Free the descriptors: the waiting FTP client is served.
touch "$HOLD_DONE"
for i in $(seq 50); do _tt_alive "$HOLD_PID" || break; sleep 0.1; done
prlimit --pid "$FT_PID" --nofile="1024:$hard"
ft_transfer after-emfile "" curl pasv get 127.0.0.1 "$FP" "$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR"

# --- MaxChannels ------------------------------------------------------
kill "$FT_PID"
MP=$(tt_free_port)
# MaxChannels counts per SSH connection: Connections=1 keeps the third
# control connection from going to a further one.
ft_tunnel -o MaxChannels=2 -o Connections=1 -L "ftp/$MP:127.0.0.1:$VSFTPD_PORT" \
	"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel with MaxChannels=2"
python3 - "$MP" "$VSFTPD_PUB/f" >"$T/maxch.out" 2>&1 <<'PY'
import ftplib, hashlib, sys
port, path = int(sys.argv[1]), sys.argv[2]
def ftp():
    f = ftplib.FTP()
    f.connect("127.0.0.1", port, timeout=20)
    f.login()
    return f
a, b = ftp(), ftp()                      # two control channels: full
try:
    a.sendcmd("PASV")
    print("pasv-full: accepted")
except ftplib.error_temp as e:
    print("pasv-full: " + str(e))
try:
    ftp()
    print("third: accepted")
except (ftplib.error_temp, EOFError, OSError) as e:
    print("third: " + str(e))
b.quit()                                 # room for a data channel again
got = []
a.retrbinary("RETR pub/f", got.append)
ok = hashlib.sha256(b"".join(got)).hexdigest() == hashlib.sha256(open(path, "rb").read()).hexdigest()
print("retr-after: " + ("equal" if ok else "differs"))
a.quit()
PY
tt_check "MaxChannels=2, both taken: PASV gets a 425 naming MaxChannels ($(grep pasv-full "$T/maxch.out"))" \
	grep -q "^pasv-full: 425 .*MaxChannels" "$T/maxch.out"
tt_check "MaxChannels=2, both taken: a third control connection gets a 421 ($(grep third "$T/maxch.out"))" \
	grep -q "^third: 421 .*MaxChannels" "$T/maxch.out"
tt_check "once there is room, RETR works and the file is equal" grep -q "^retr-after: equal" "$T/maxch.out"
tt_check "ftp-tunnel logged the refusals" grep -q "MaxChannels allows" "$FT_LOG"

tt_done
