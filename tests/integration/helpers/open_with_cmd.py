"""open_with_cmd.py HOST PORT PUBDIR LOG SERVER_PORT: when ftp-tunnel -L ftp/ opens a
passive data connection's channel. It must go with the client's next
command (RETR), not as the 227 passes: after PASV the helper waits, and
looks (ss) whether the SSH server has connected to the FTP server's data
port yet, which the tunnel's debug log names ("data listener on ... ->
HOST:PORT"; that ss sees the SSH server's connection to the control port
SERVER_PORT shows that it can see one); then RETR, and only then the data connection. A second file
the other way round: the data connection first, RETR 1 s later (the
channel then opens after a short wait, without a command). Prints one
line per finding; exit status 1 when a file differs or a reply is
wrong."""
import hashlib
import re
import socket
import subprocess
import sys
import time

from ftpctl import Control, read_all

host, port, pub, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctl_port = int(sys.argv[5])
bad = 0


def server_port(lport):
    """The FTP server's data port behind our listener on lport."""
    for _ in range(50):
        with open(log, errors="replace") as f:
            m = re.findall(r"data listener on [^ ]*:%d -> \S+:(\d+)" % lport,
                           f.read())
        if m:
            return int(m[-1])
        time.sleep(0.1)
    return 0


def established_to(p):
    out = subprocess.run(["ss", "-Htn", "state", "established",
                          "( dport = :%d )" % p],
                         capture_output=True, text=True).stdout
    return len([l for l in out.splitlines() if l.strip()])


def fetch(c, name, lport, connect_first):
    global bad
    if connect_first:
        d = socket.create_connection((host, lport), timeout=20)
        time.sleep(1)
        r = c.cmd("RETR pub/" + name)
    else:
        c.sock.sendall(("RETR pub/" + name + "\r\n").encode())
        d = socket.create_connection((host, lport), timeout=20)
        r = c.reply()
    if not r.startswith("150"):
        print("%s: RETR got %r" % (name, r))
        bad = 1
    got = read_all(d)
    d.close()
    r = c.reply()
    if not r.startswith("226"):
        print("%s: after the data got %r" % (name, r))
        bad = 1
    want = open(pub + "/" + name, "rb").read()
    same = hashlib.sha256(got).digest() == hashlib.sha256(want).digest()
    print("%s: %s" % (name, "equal" if same else "differs"))
    bad |= not same


c = Control(host, port, 20)
r, lport = c.login_passive("pasv")
sp = server_port(lport)
time.sleep(1)
print("server data port known: %s" % ("yes" if sp else "no"))
print("control connections seen: %d" % established_to(ctl_port))
print("connected before RETR: %d" % (established_to(sp) if sp else -1))
fetch(c, "f1", lport, connect_first=False)
m = re.search(r",(\d+),(\d+)\)", c.cmd("PASV"))
lport = int(m.group(1)) * 256 + int(m.group(2))
fetch(c, "f2", lport, connect_first=True)
c.cmd("QUIT")
sys.exit(bad)
