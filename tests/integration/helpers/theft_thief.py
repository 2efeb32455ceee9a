#!/usr/bin/python3
# theft_thief.py — the one who connects first to somebody else's data
# listener (t_ftp_security.sh, t_relay.sh): theft_thief.py HOST PORT [SRC]
# connects (from SRC if given), then reads for up to 5 s and prints one
# line: "connected", then how it ended and how many bytes it got.
import socket
import sys
import time

t = time.time()
src = (sys.argv[3], 0) if len(sys.argv) > 3 else None
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5,
                                 source_address=src)
except OSError as e:
    print("connect failed (%s)" % e.strerror, flush=True)
    sys.exit(0)
print("connected", flush=True)
s.settimeout(5)
n = 0
try:
    while True:
        b = s.recv(65536)
        if not b:
            print("EOF after %d bytes, %.2f s" % (n, time.time() - t))
            break
        n += len(b)
except socket.timeout:
    print("timeout: still open after 5 s, %d bytes" % n)
except OSError as e:
    print("%s after %d bytes, %.2f s" % (e.strerror, n, time.time() - t))
