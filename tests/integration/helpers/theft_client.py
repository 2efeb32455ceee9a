#!/usr/bin/python3
# theft_client.py — the FTP client whose data listener someone tries to
# take first (t_ftp_security.sh, t_relay.sh):
#   theft_client.py HOST PORT pasv|epsv DIR [SRC]
# Logs in, asks for passive mode, writes the data port to DIR/port, waits
# for DIR/go, connects to the data port, tries a second connection to it
# after its own was accepted, then RETRs pub/fbig into DIR/file. With SRC,
# every connection leaves from that address. Prints "key<TAB>value" lines:
# passive, connected, second, retr, bytes, end.
import os
import socket
import sys
import time

import ftpctl

host, port, mode, d = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
src = (sys.argv[5], 0) if len(sys.argv) > 5 else None


def connect(p, timeout):
    return socket.create_connection((host, p), timeout=timeout,
                                    source_address=src)


ctl = ftpctl.Control(host, port, 20, src)
cmd, reply = ctl.cmd, ctl.reply
r, dport = ctl.login_passive(mode)
print("passive\t" + r, flush=True)
open(os.path.join(d, "port.tmp"), "w").write("%d\n" % dport)
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
for _ in range(300):
    if os.path.exists(os.path.join(d, "go")):
        break
    time.sleep(0.1)
try:
    ds = connect(dport, 20)
    print("connected\tyes", flush=True)
except OSError as e:
    # Someone else has the listener: RETR anyway, so that whoever took
    # it gets the file and the thief's side of the test sees it.
    ds = None
    print("connected\tno (%s)" % e.strerror, flush=True)
time.sleep(0.5)  # the tunnel has accepted it by now
try:
    x = connect(dport, 5)
    x.settimeout(3)
    t = time.time()
    try:
        got = x.recv(1)
        print("second\taccepted, then %s after %.2f s" %
              ("EOF" if not got else "DATA", time.time() - t))
    except socket.timeout:
        print("second\taccepted and held open")
    except OSError as e:
        print("second\taccepted, then %s" % e.strerror)
except OSError as e:
    print("second\trefused (%s)" % e.strerror, flush=True)
print("retr\t" + cmd("RETR pub/fbig"), flush=True)
n = 0
with open(os.path.join(d, "file"), "wb") as o:
    while ds:
        b = ds.recv(65536)
        if not b:
            break
        o.write(b)
        n += len(b)
if ds:
    ds.close()
print("bytes\t%d" % n)
print("end\t" + reply())
cmd("QUIT")
