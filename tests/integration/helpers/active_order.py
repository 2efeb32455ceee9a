#!/usr/bin/python3
# active_order.py HOST PORT FIRST LAST SRCDIR — one FTP session RETRs
# pub/fFIRST..pub/fLAST in active mode (PORT to a listener of its own on
# 127.0.0.1) and checks, for each file, what a direct FTP server
# guarantees: the server's data connection is in our listener before any
# reply after RETR reaches us (vsftpd connects, then answers 150; curl
# gives up on a 226 that comes first), and the bytes equal SRCDIR/fN.
# Prints one line per bad file, then "done: N bad of M"; exit 1 if N > 0.
import os
import re
import select
import socket
import sys

from ftpctl import read_all

host, port = sys.argv[1], int(sys.argv[2])
first, last, src = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ctl = socket.create_connection((host, port), timeout=60)
pending = b""


def line():
    global pending
    while b"\n" not in pending:
        b = ctl.recv(4096)
        if not b:
            raise EOFError("control connection closed")
        pending += b
    text, pending = pending.split(b"\n", 1)
    return text.decode().rstrip("\r")


def reply():
    while True:
        text = line()
        if re.match(r"^\d{3} ", text):
            return text


def cmd(c):
    ctl.sendall(c.encode() + b"\r\n")
    return reply()


def readable(s, timeout=0):
    return bool(select.select([s], [], [], timeout)[0])


reply()
cmd("USER anonymous")
cmd("TYPE I")
bad = 0
for i in range(first, last + 1):
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    p = lst.getsockname()[1]
    cmd("PORT 127,0,0,1,%d,%d" % (p >> 8, p & 255))
    ctl.sendall(b"RETR pub/f%d\r\n" % i)
    replies, early, conn = [], [], None
    # Until the data connection is there, every reply must find it there.
    while conn is None:
        if not pending:
            select.select([ctl, lst], [], [], 60)
        if readable(lst):
            conn, _ = lst.accept()
            break
        r = reply()
        replies.append(r)
        if r[0] in "45":
            break
        early.append(r[:3])
    data = b""
    if conn:
        conn.settimeout(60)
        data = read_all(conn)
        conn.close()
        while not replies or replies[-1][0] == "1":
            replies.append(reply())
    lst.close()
    with open(os.path.join(src, "f%d" % i), "rb") as f:
        want = f.read()
    if data != want or early:
        bad += 1
        print("f%d: %d of %d bytes%s; replies %s%s" % (
            i, len(data), len(want), "" if data == want else " (differ)",
            " | ".join(replies),
            "; before the data connection: " + ",".join(early) if early else ""),
            flush=True)
cmd("QUIT")
print("done: %d bad of %d" % (bad, last - first + 1))
sys.exit(1 if bad else 0)
