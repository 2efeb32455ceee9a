#!/usr/bin/python3
# owner_thief.py HOST PORT — another user's upload into somebody else's
# data listener (t_owner.sh): connects, writes a marker, closes at once.
import socket
import sys

s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"THIEF-MARKER: another user's bytes\n")
s.close()
print("thief wrote and closed", flush=True)
