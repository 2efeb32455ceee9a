#!/usr/bin/python3
# retr_watch.py HOST PORT pasv|epsv PATH OUT — RETR PATH in passive mode
# into OUT; a data connection silent for 15 s is a stall. Prints "ok N" or
# "STALL after N bytes" (exit 1).
import re
import socket
import sys

host, port, mode, path, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctl = socket.create_connection((host, port), timeout=30)
f = ctl.makefile("rb")


def reply():
    while True:
        text = f.readline().decode().rstrip("\r\n")
        if re.match(r"^\d{3} ", text) or not text:
            return text


def cmd(c):
    ctl.sendall(c.encode() + b"\r\n")
    return reply()


reply()
cmd("USER anonymous")
cmd("TYPE I")
r = cmd("PASV" if mode == "pasv" else "EPSV")
if mode == "pasv":
    m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r)
    dport = int(m.group(5)) * 256 + int(m.group(6))
else:
    dport = int(re.search(r"\(\|\|\|(\d+)\|\)", r).group(1))
ds = socket.create_connection((host, dport), timeout=15)
cmd("RETR " + path)
n = 0
with open(out, "wb") as o:
    while True:
        try:
            b = ds.recv(65536)
        except socket.timeout:
            print("STALL after %d bytes" % n)
            sys.exit(1)
        if not b:
            break
        o.write(b)
        n += len(b)
ds.close()
print("ok %d %s" % (n, reply()))
cmd("QUIT")
