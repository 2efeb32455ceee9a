"""late_data.py HOST PORT USER PASS WAIT: logs in to the FTP server at
HOST:PORT, asks PASV, waits WAIT seconds, then connects to the passive
port it was given and prints "connect<TAB>connected" or
"connect<TAB>refused (ERRNO)". A passive port whose listener has timed
out must not take a connection any more."""
import errno
import socket
import sys
import time

from ftpctl import Control

host, port, user, pw, wait = sys.argv[1:6]
c = Control(host, int(port), 90)
c.cmd("USER " + user)
c.cmd("PASS " + pw)
c.cmd("TYPE I")
r = c.cmd("PASV")
p = [int(x) for x in r[r.index("(") + 1:r.index(")")].split(",")]
time.sleep(float(wait))
try:
    d = socket.create_connection((".".join(map(str, p[:4])), p[4] * 256 + p[5]),
                                 timeout=10)
    print("connect\tconnected")
    d.close()
except OSError as e:
    print("connect\trefused (%s)" % errno.errorcode.get(e.errno, e.errno))
c.cmd("QUIT")
