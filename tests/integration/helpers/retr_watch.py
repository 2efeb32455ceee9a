#!/usr/bin/python3
# retr_watch.py HOST PORT pasv|epsv PATH OUT — RETR PATH in passive mode
# into OUT; a data connection silent for 15 s is a stall. Prints "ok N" or
# "STALL after N bytes" (exit 1).
import socket
import sys

import ftpctl

host, port, mode, path, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctl = ftpctl.Control(host, port, 30)
cmd, reply = ctl.cmd, ctl.reply
r, dport = ctl.login_passive(mode)
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
