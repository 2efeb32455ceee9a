#!/usr/bin/python3
# datatheft_stranger.py — another local user in t_shim_datatheft.sh:
#   datatheft_stranger.py DIR PORT
# Listens on 127.0.0.1:PORT at once and writes DIR/ready; when DIR/stale
# names a port, listens on 127.0.0.1 there too and writes DIR/stale.go;
# when DIR/mine names a port, connects to it and waits. Until DIR/done
# exists (or 120 s), keeps every byte any connection to its listeners
# brings. Prints "conn<TAB>port<TAB>bytes<TAB>first bytes" per accepted
# connection, then "end".
import os
import select
import socket
import sys
import time

d, port = sys.argv[1], int(sys.argv[2])


def listen(p):
    s = socket.socket()
    s.bind(("127.0.0.1", p))
    s.listen(8)
    return s


def read(name):
    try:
        return int(open(os.path.join(d, name)).read())
    except (OSError, ValueError):
        return None


listeners = {listen(port): port}
open(os.path.join(d, "ready"), "w").close()
conns = {}  # socket -> [port, bytes]
stale = mine = None
out = None
end = time.time() + 120
while time.time() < end and not os.path.exists(os.path.join(d, "done")):
    if stale is None and read("stale") is not None:
        stale = read("stale")
        try:
            listeners[listen(stale)] = stale
        except OSError as e:
            print("stale\tcannot listen on %d: %s" % (stale, e), flush=True)
        open(os.path.join(d, "stale.go"), "w").close()
    if mine is None and read("mine") is not None:
        mine = read("mine")
        out = socket.create_connection(("127.0.0.1", mine), timeout=5)
        out.sendall(b"from the stranger\n")
    r, _, _ = select.select(list(listeners) + list(conns), [], [], 0.1)
    for s in r:
        if s in listeners:
            c, _ = s.accept()
            conns[c] = [listeners[s], b""]
            continue
        b = s.recv(65536)
        if not b:
            port_, data = conns.pop(s)
            print("conn\t%d\t%d\t%r" % (port_, len(data), data[:40]),
                  flush=True)
            s.close()
        else:
            conns[s][1] += b
for s, (port_, data) in conns.items():
    print("conn\t%d\t%d\t%r" % (port_, len(data), data[:40]), flush=True)
print("end", flush=True)
