#!/usr/bin/python3
# datatheft_client.py — the wrapped FTP program of t_shim_datatheft.sh:
#   datatheft_client.py HOST PORT DIR OTHERPORT
# In one FTP session: connects to a passive port the tunnel no longer
# listens on (a second PASV replaced it) once a stranger took it, and to
# OTHERPORT on the FTP server's host; accepts on a listener of its own a
# connection a stranger makes; then a real active and a real passive
# RETR of pub/f. Prints "key<TAB>value" lines: stale, other, accepted,
# active_peer, active_sha, passive_sha.
import errno
import ftplib
import hashlib
import os
import re
import socket
import sys
import time

host, port, d, other = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(
    sys.argv[4])


def put(name, value):
    tmp = os.path.join(d, name + ".tmp")
    open(tmp, "w").write("%s\n" % value)
    os.rename(tmp, os.path.join(d, name))


def wait(name):
    for _ in range(400):
        if os.path.exists(os.path.join(d, name)):
            return True
        time.sleep(0.05)
    return False


def try_send(p):
    """Connects to host:p as an FTP client would for data, and sends a
    secret: what happened, for the test to judge."""
    s = socket.socket()
    s.settimeout(10)
    try:
        s.connect((host, p))
    except OSError as e:
        return "refused (%s)" % errno.errorcode.get(e.errno, e.errno)
    try:
        s.settimeout(3)
        s.sendall(b"SECRET-%d\n" % p)
        s.shutdown(socket.SHUT_WR)
        s.recv(100)
    except OSError:
        pass
    s.close()
    return "connected"


def pasv_port(reply):
    n = [int(x) for x in re.search(r"\((.*)\)", reply).group(1).split(",")]
    return n[4] * 256 + n[5]


f = ftplib.FTP()
f.connect(host, port, timeout=20)
f.login()
p1 = pasv_port(f.sendcmd("PASV"))
f.sendcmd("PASV")  # the tunnel closes its listener of p1
put("stale", p1)
wait("stale.go")
print("stale\t" + try_send(p1), flush=True)
print("other\t" + try_send(other), flush=True)

# A connection to our own listener from someone else: not the server's.
lst = socket.socket()
lst.bind(("127.0.0.1", 0))
lst.listen(1)
lst.settimeout(10)
put("mine", lst.getsockname()[1])
try:
    c, a = lst.accept()
    print("accepted\t" + a[0], flush=True)
    c.close()
except OSError as e:
    print("accepted\tnothing (%s)" % e, flush=True)
lst.close()

f.voidcmd("TYPE I")
f.set_pasv(False)
conn = f.transfercmd("RETR pub/f")
print("active_peer\t" + conn.getpeername()[0], flush=True)
h = hashlib.sha256()
while True:
    b = conn.recv(65536)
    if not b:
        break
    h.update(b)
conn.close()
f.voidresp()
print("active_sha\t" + h.hexdigest(), flush=True)

f.set_pasv(True)
h = hashlib.sha256()
f.retrbinary("RETR pub/f", h.update)
print("passive_sha\t" + h.hexdigest(), flush=True)
f.quit()
