#!/usr/bin/env python3
"""passive_ahead.py HOST PORT DIR PREFIX: one FTP session through ftp-tunnel that
checks, reply by reply, what a client sees around a PASV sent ahead: the
tunnel asks the server for the next PASV after each passive transfer and
answers the client's PASV from it. Every reply must answer the command it
follows, in order, with nothing extra (the server's reply to the PASV sent
ahead is never the client's); every file PREFIX/fN must equal DIR/fN.

Steps: PASV and RETR at once after a 226 (nothing is sent ahead of a
PASV); SIZE, MDTM and PASV pipelined (the PASV waits for the reply to
the one sent ahead with SIZE); commands pipelined after a transfer;
RETR without PASV or PORT (425); PORT and RETR (active mode, forwarded
or converted); SIZE then PASV after an active transfer; MDTM then EPSV;
QUIT.
Prints one line per step; exit 0 when all hold."""
import os
import re
import socket
import sys
import time

from ftpctl import read_all

HOST, PORT, DIR, PREFIX = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctl = socket.create_connection((HOST, PORT), timeout=20)
rfile = ctl.makefile("rb")
failed = 0


def reply():
    """One whole reply: (code, text of its last line)."""
    line = rfile.readline().decode("latin-1")
    if not line:
        raise SystemExit("control connection closed")
    code = line[:3]
    if len(line) > 3 and line[3] == "-":
        while True:
            more = rfile.readline().decode("latin-1")
            if not more:
                raise SystemExit("closed inside a multi-line reply")
            if more[:3] == code and more[3:4] == " ":
                line = more
                break
    return int(code), line.strip()


def send(*cmds):
    ctl.sendall("".join(c + "\r\n" for c in cmds).encode())


def expect(what, codes):
    global failed
    code, text = reply()
    ok = code in codes
    if not ok:
        failed += 1
    print(("ok   " if ok else "FAIL ") + f"{what}: {text}")
    return code, text


def data_addr(code, text):
    if code == 227:
        n = [int(x) for x in re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", text).groups()]
        return ".".join(map(str, n[:4])), n[4] * 256 + n[5]
    return HOST, int(re.search(r"\|\|\|(\d+)\|", text).group(1))


def same(name, got):
    global failed
    with open(os.path.join(DIR, os.path.basename(name)), "rb") as f:
        want = f.read()
    ok = got == want
    if not ok:
        failed += 1
    print(("ok   " if ok else "FAIL ") + f"{name}: {len(got)} bytes, want {len(want)}")


def passive_get(name, verb="PASV", pre=()):
    """verb, then RETR name over the data connection it names."""
    send(*pre, verb)
    for p in pre:
        expect(p, range(200, 300))
    code, text = expect(verb, (227, 229))
    d = socket.create_connection(data_addr(code, text), timeout=20)
    send("RETR " + name)
    expect("RETR " + name, (125, 150))
    same(name, read_all(d))
    d.close()
    expect("RETR " + name + " done", (226, 250))


def active_get(name):
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(1)
    p = lsn.getsockname()[1]
    send(f"PORT 127,0,0,1,{p >> 8},{p & 255}")
    expect("PORT", (200,))
    send("RETR " + name)
    lsn.settimeout(20)
    d, _ = lsn.accept()
    expect("RETR " + name + " (active)", (125, 150))
    same(name, read_all(d))
    d.close()
    lsn.close()
    expect("RETR " + name + " (active) done", (226, 250))


expect("greeting", (220,))
send("USER anonymous")
code, _ = expect("USER", (230, 331))
if code == 331:
    send("PASS ftp@")
    expect("PASS", (230,))
send("TYPE I")
expect("TYPE I", (200,))
passive_get(PREFIX + "f1")
# At once: nothing goes ahead of a PASV.
passive_get(PREFIX + "f2")
# Its reply is here by now: SIZE first, as lftp's mget does.
time.sleep(0.3)
passive_get(PREFIX + "f3", pre=("SIZE " + PREFIX + "f3", "MDTM " + PREFIX + "f3"))
time.sleep(0.3)
send("NOOP", "SIZE " + PREFIX + "f4", "MDTM " + PREFIX + "f4")
expect("NOOP (pipelined)", (200,))
expect("SIZE f4 (pipelined)", (213,))
expect("MDTM f4 (pipelined)", (213,))
send("RETR " + PREFIX + "f4")
expect("RETR without PASV or PORT", range(400, 600))
active_get(PREFIX + "f4")
time.sleep(0.3)
passive_get(PREFIX + "f5", pre=("SIZE " + PREFIX + "f5",))
time.sleep(0.3)
passive_get(PREFIX + "f6", verb="EPSV", pre=("MDTM " + PREFIX + "f6",))
time.sleep(0.3)
send("QUIT")
expect("QUIT", (221,))
ctl.settimeout(5)
rest = ctl.recv(4096)
if rest:
    failed += 1
    print("FAIL bytes after 221: %r" % rest)
print("FAILED %d" % failed if failed else "all replies in order")
sys.exit(1 if failed else 0)
