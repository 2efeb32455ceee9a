#!/usr/bin/python3
# pair_thief.py SECS — another user watching for the daemon's private
# loopback listener (t_pair.sh): polls /proc/net/tcp for new listeners on
# 127.0.0.1 owned by root, connects to each (others' tests on this host
# make some too), and prints, per port, what it read within 3 s.
import socket
import sys
import threading
import time


def listeners():
    found = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            p = line.split()
            if p[3] == "0A" and p[1].startswith("0100007F:") and p[7] == "0":
                found.add(int(p[1].split(":")[1], 16))
    return found


def steal(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
    except OSError as e:
        print("port %d: connect failed (%s)" % (port, e.strerror), flush=True)
        return
    got = b""
    try:
        while len(got) < 4096:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except OSError as e:
        got += (" [%s]" % e.strerror).encode()
    print("port %d: connected, read %r" % (port, got[:80]), flush=True)


seen = listeners()
print("watching", flush=True)
end = time.time() + float(sys.argv[1])
threads = []
while time.time() < end:
    new = listeners() - seen
    seen |= new
    for port in new:
        t = threading.Thread(target=steal, args=(port,))
        t.start()
        threads.append(t)
    time.sleep(0.001)
for t in threads:
    t.join()
print("done", flush=True)
