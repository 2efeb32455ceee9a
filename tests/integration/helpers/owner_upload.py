#!/usr/bin/python3
# owner_upload.py — uploads through a -L ftp/ tunnel whose data connection
# closes before the tunnel can accept it (t_owner.sh):
#   owner_upload.py HOST PORT steal TUNNEL_PID WAIT NAME -- THIEF_CMD...
#       PASV; with the tunnel stopped (SIGSTOP), THIEF_CMD (another user)
#       connects to the data listener, writes and closes; WAIT seconds
#       later (0: still an orphan; 0.5: in TIME_WAIT) the tunnel goes on
#       (SIGCONT) and we STOR upload/NAME with our own bytes (from a
#       child of uid:gid $OWNER_DATA_AS when set). Prints "stor\t<reply>"
#       and "end\t<reply>".
#   owner_upload.py HOST PORT fast N [FIRST]
#       N uploads upload/u<i> (i from FIRST, default 0) of one byte each
#       (byte 'a' + i % 26), the data connection closed
#       right after the byte (before the tunnel is likely to accept it);
#       prints "ok\t<count>" and the first failures.
import os
import re
import signal
import socket
import subprocess
import sys
import time

host, port, mode, args = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
OURS = b"ours: the real client's upload\n"


class Ctl:
    def __init__(self):
        self.s = socket.create_connection((host, port), timeout=10)
        self.f = self.s.makefile("rb")
        self.reply()
        self.cmd("USER anonymous")
        self.cmd("PASS x")
        self.cmd("TYPE I")

    def reply(self, timeout=10):
        self.s.settimeout(timeout)
        first = None
        try:
            while True:
                raw = self.f.readline(1 << 16)
                if not raw:
                    return "EOF"
                l = raw.rstrip(b"\r\n").decode("latin-1")
                if first is None:
                    if not re.match(r"^\d{3}", l):
                        continue
                    first = l[:3]
                    if l[3:4] != "-":
                        return l
                elif l.startswith(first + " "):
                    return l
        except socket.timeout:
            return "TIMEOUT"
        except OSError as e:
            return "EOF (%s)" % e.strerror

    def send(self, c):
        self.s.sendall(c.encode() + b"\r\n")

    def cmd(self, c, timeout=10):
        self.send(c)
        return self.reply(timeout)

    def pasv(self):
        r = self.cmd("PASV")
        m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r)
        if not m:
            raise SystemExit("no 227: %s" % r)
        return ".".join(m.groups()[:4]), int(m.group(5)) * 256 + int(m.group(6))


def upload_closing_at_once(dhost, dport, data):
    d = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    d.connect((dhost, dport))
    d.sendall(data)
    d.close()


def upload_as(ids, dhost, dport, data):
    """upload_closing_at_once, from a child process of uid:gid ids."""
    uid, gid = (int(x) for x in ids.split(":"))
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            upload_closing_at_once(dhost, dport, data)
            os._exit(0)
        except OSError as e:
            print("data\t%s" % e.strerror, flush=True)
            os._exit(1)
    os.waitpid(pid, 0)


if mode == "steal":
    pid, wait, name = int(args[0]), float(args[1]), args[2]
    thief = args[args.index("--") + 1:]
    c = Ctl()
    dh, dp = c.pasv()
    os.kill(pid, signal.SIGSTOP)
    try:
        subprocess.run(thief + [dh, str(dp)], timeout=10)
        time.sleep(wait)
    finally:
        os.kill(pid, signal.SIGCONT)
    c.send("STOR upload/" + name)
    try:
        if os.environ.get("OWNER_DATA_AS"):
            upload_as(os.environ["OWNER_DATA_AS"], dh, dp, OURS)
        else:
            upload_closing_at_once(dh, dp, OURS)
    except OSError as e:
        print("data\t%s" % e.strerror, flush=True)
    print("stor\t%s" % c.reply(), flush=True)
    print("end\t%s" % c.reply(), flush=True)
elif mode == "fast":
    n, ok, bad = int(args[0]), 0, []
    first = int(args[1]) if len(args) > 1 else 0
    c = Ctl()
    for i in range(first, first + n):
        dh, dp = c.pasv()
        c.send("STOR upload/u%d" % i)
        upload_closing_at_once(dh, dp, bytes([97 + i % 26]))
        r1 = c.reply()
        r2 = c.reply() if r1[:1] == "1" else ""
        if r2[:3] == "226":
            ok += 1
        else:
            bad.append("u%d: %s / %s" % (i, r1, r2))
            c = Ctl()  # the session may be stuck waiting for data
    print("ok\t%d" % ok, flush=True)
    for b in bad[:5]:
        print("bad\t%s" % b, flush=True)
