#!/usr/bin/env python3
"""ipc_staller.py SOCKET SECONDS — a slow IPC client of ftp-tunneld, many
times over: every 0.2 s it connects to SOCKET and sends half of a STATUS
request (the length says 40 bytes, 9 follow), then holds the connection
without sending more, for SECONDS in all. Prints one line per connection
the daemon closed on it ("closed after N.NN s")."""
import socket
import struct
import sys
import time

path, total = sys.argv[1], float(sys.argv[2])
half = struct.pack(">I", 40) + b"FTPT1 STA"
held = []
end = time.monotonic() + total
while time.monotonic() < end:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        s.sendall(half)
    except OSError as e:
        print("connect: %s" % e, flush=True)
        s.close()
    else:
        s.setblocking(False)
        held.append((s, time.monotonic()))
    time.sleep(0.2)
    for s, t0 in list(held):
        try:
            if s.recv(1) == b"":
                print("closed after %.2f s" % (time.monotonic() - t0), flush=True)
                held.remove((s, t0))
                s.close()
        except BlockingIOError:
            pass
        except OSError:
            held.remove((s, t0))
            s.close()
for s, _ in held:
    s.close()
