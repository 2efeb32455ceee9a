#!/usr/bin/python3
# hostile_ftpc.py — a scripted FTP client that misbehaves, for t_hostile.sh:
# hostile_ftpc.py HOST PORT MODE [ARGS...]. Prints one "key<TAB>value" line
# per fact (replies are shown with non-printable bytes escaped) and exits 0
# unless it could not connect at all.
#
#   cmds CMD...       send each command (Python escapes allowed: \x00,
#                     \xff), print "CMD<TAB>last reply line" (EOF, TIMEOUT)
#   pasvflood N       log in, N PASV (pipelined 50 at a time): how many got
#                     a 227 naming HOST, how many distinct ports
#   dataflood K SIZE  log in, PASV, K simultaneous connections to the data
#                     port, RETR: how many got SIZE bytes, 0 bytes, refused;
#                     for each still open after 15 s, "open_sock": its port,
#                     bytes and `ss -tnoi` of both ends
#   abor              RETR, then IAC IP IAC DM (DM as TCP urgent data) ABOR
#                     mid-transfer, then NOOP
#   noend SECS        NOOP, read the endless reply for SECS, hang up
#   tls               AUTH TLS and a TLS ClientHello right behind it
import re
import select
import socket
import subprocess
import sys
import time

host, port, mode, args = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
t0 = time.time()
s = socket.create_connection((host, port), timeout=10)
f = s.makefile("rb")


def out(k, v):
    print("%s\t%s" % (k, v), flush=True)


def show(b):
    return "".join(chr(x) if 32 <= x < 127 else "\\x%02x" % x for x in b)


def reply(timeout=10):
    """The last line of one reply (multi-line aware), escaped."""
    s.settimeout(timeout)
    first = None
    try:
        while True:
            raw = f.readline(1 << 16)
            if not raw:
                return "EOF"
            l = raw.rstrip(b"\r\n")
            if first is None:
                if not re.match(rb"^\d{3}", l):
                    continue
                first = l[:3]
                if l[3:4] != b"-":
                    return show(l)
            elif l.startswith(first + b" "):
                return show(l)
    except socket.timeout:
        return "TIMEOUT"
    except OSError as e:
        return "EOF (%s)" % e.strerror


def cmd(c, timeout=10):
    try:
        s.sendall(c + b"\r\n")
    except OSError as e:
        return "EOF (%s)" % e.strerror
    return reply(timeout)


def login():
    out("greeting", reply())
    cmd(b"USER anonymous")
    cmd(b"PASS x")
    cmd(b"TYPE I")


def pasv_port(r):
    m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r)
    if not m:
        return None, None
    return ".".join(m.groups()[:4]), int(m.group(5)) * 256 + int(m.group(6))


if mode == "cmds":
    out("greeting", reply())
    for a in args:
        r = cmd(a.encode("latin-1").decode("unicode_escape").encode("latin-1"))
        out(a, r)
        if r.startswith("EOF"):
            break
elif mode == "pasvflood":
    login()
    n, ok, ports = int(args[0]), 0, set()
    for i in range(0, n, 50):
        k = min(50, n - i)
        s.sendall(b"PASV\r\n" * k)
        for _ in range(k):
            r = reply()
            h, p = pasv_port(r)
            if r.startswith("227 ") and h == host:
                ok += 1
                ports.add(p)
            elif r.startswith(("EOF", "TIMEOUT")):
                out("stopped", "after %d: %s" % (ok, r))
                break
        else:
            continue
        break
    out("pasv_ok", ok)
    out("ports", len(ports))
    out("noop", cmd(b"NOOP"))
elif mode == "dataflood":
    login()
    k, size = int(args[0]), int(args[1])
    r = cmd(b"PASV")
    out("pasv", r)
    h, p = pasv_port(r)
    socks, refused = [], 0
    for _ in range(k):
        d = socket.socket()
        d.setblocking(False)
        try:
            d.connect((host, p))
        except BlockingIOError:
            pass
        except OSError:
            refused += 1
            d.close()
            continue
        socks.append(d)
    s.sendall(b"RETR f\r\n")
    got = {d: 0 for d in socks}
    live = list(socks)
    end = time.time() + 15
    while live and time.time() < end:
        r, _, _ = select.select(live, [], [], 1)
        for d in r:
            try:
                b = d.recv(65536)
            except OSError:  # reset: counted with the empty ones
                b = b""
            if b:
                got[d] += len(b)
            else:
                live.remove(d)
                d.close()
    out("full", sum(1 for v in got.values() if v == size))
    out("partial", sum(1 for v in got.values() if 0 < v < size))
    out("zero", sum(1 for v in got.values() if v == 0) + refused)
    out("still_open", len(live))
    # Which ones, to read a failure by: the bytes each got and both ends
    # of its connection as the kernel sees them (the tunnel's end too).
    for d in live:
        lp = d.getsockname()[1]
        try:
            ss = subprocess.run(
                ["ss", "-tnoi", "state", "all", "( sport = :%d or dport = :%d )" % (lp, lp)],
                capture_output=True, text=True, timeout=5).stdout
        except (OSError, subprocess.SubprocessError) as e:
            ss = "(ss: %s)" % e
        out("open_sock", "port %d got %d of %d; ss: %s" % (lp, got[d], size, " | ".join(
            " ".join(l.split()) for l in ss.splitlines())))
    out("retr", reply())
    out("end", reply())
    out("noop", cmd(b"NOOP"))
elif mode == "abor":
    login()
    h, p = pasv_port(cmd(b"PASV"))
    d = socket.create_connection((host, p), timeout=10)
    out("retr", cmd(b"RETR f"))
    n = 0
    while n < 8192:
        b = d.recv(65536)
        if not b:
            break
        n += len(b)
    out("before_abor", "%d bytes" % n)
    # RFC 959 §4.1.3: IAC IP, then IAC DM sent as urgent data ("synch").
    s.sendall(b"\xff\xf4\xff")
    s.send(b"\xf2", socket.MSG_OOB)
    s.sendall(b"ABOR\r\n")
    r = reply()
    out("abor1", r)
    if r.startswith("426"):
        out("abor2", reply())
    d.close()
    out("noop", cmd(b"NOOP"))
    out("noop_iac", cmd(b"NOOP"))
elif mode == "noend":
    login()
    s.sendall(b"NOOP\r\n")
    s.settimeout(1)
    n, end = 0, time.time() + float(args[0])
    while time.time() < end:
        try:
            b = s.recv(1 << 16)
        except socket.timeout:
            continue
        if not b:
            out("eof", "yes")
            break
        n += len(b)
    out("bytes", n)
elif mode == "tls":
    out("greeting", reply())
    hello = bytes.fromhex("160301") + bytes([0, 0xA5, 1, 0, 0, 0xA1, 3, 3]) + bytes(32) + bytes([0, 0, 2, 0x13, 1, 1, 0])
    s.sendall(b"AUTH TLS\r\n" + hello)
    out("auth", reply())
    out("after", reply(5))
    out("noop", cmd(b"NOOP"))
s.close()
out("took", "%.2f" % (time.time() - t0))
