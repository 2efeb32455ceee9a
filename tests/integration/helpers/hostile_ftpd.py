#!/usr/bin/python3
# hostile_ftpd.py — a scripted FTP server that misbehaves in one way per
# run, for t_hostile.sh: hostile_ftpd.py PORT BEHAVIOUR LOG [PAYLOAD].
#
# It listens on 127.0.0.1:PORT, greets every connection with 220 and
# answers USER/PASS/TYPE/QUIT like a server would; BEHAVIOUR decides the
# rest (see BEHAVIOURS). Every command line it receives is appended to LOG
# as repr(bytes), one a line, so the test can see what got through the
# tunnel; data connections are logged as "DATA from HOST:PORT". RETR sends
# PAYLOAD's bytes (default 64 KiB of a fixed pattern). Runs until killed.
import os
import select
import socket
import sys
import threading
import time

BEHAVIOURS = {
    "normal": "PASV/EPSV open a real listener; RETR sends the payload",
    "longline": "NOOP: '200 ' and 1 MiB without a line end, then silence",
    "nul": "NOOP: '200 ok<NUL>injected'",
    "thirdhost": "PASV: 227 naming 127.0.0.3, where the data is served",
    "thirdhost-closed": "PASV: 227 naming 127.0.0.4, where nothing listens",
    "port0": "PASV: 227 (127,0,0,1,0,0); EPSV: 229 (|||0|)",
    "port65536": "PASV: 227 (127,0,0,1,256,0); EPSV: 229 (|||65536|)",
    "noend": "PASV: '227-' and continuation lines forever; NOOP: '200-' likewise",
    "pasvflood": "PASV/EPSV answered with one fixed listener, counted",
    "iac": "Telnet IAC in replies; RETR trickles until ABOR, then 426 + 226",
    "authtls": "FEAT offers AUTH TLS; PASS answered with 234; 227 names 127.0.0.3",
    "bounce": "PORT/EPRT accepted (200) whatever they name",
    "decoy": "PASV: 227 naming 127.0.0.3:P while 127.0.0.1:P listens too; "
             "RETR serves whichever is reached, logged as 'DATA at HOST'",
    "activeonly": "PASV/EPSV refused with 502; RETR connects to the PORT/EPRT "
                  "address (logged 'DATA to HOST:PORT') and sends the payload",
}

port, behaviour, logpath = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if behaviour not in BEHAVIOURS:
    sys.exit("unknown behaviour %s (one of %s)" % (behaviour, " ".join(BEHAVIOURS)))
if len(sys.argv) > 4:
    PAYLOAD = open(sys.argv[4], "rb").read()
else:
    PAYLOAD = b"hostile ftpd payload\n" * 3121
loglock = threading.Lock()


def log(s):
    with loglock, open(logpath, "a") as f:
        f.write(s + "\n")


def listener(host):
    d = socket.socket()
    d.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    d.bind((host, 0))
    d.listen(8)
    return d


def p227(host, p):
    return "227 Entering Passive Mode (%s,%d,%d)." % (host.replace(".", ","), p >> 8, p & 255)


def endless(c, first):
    """Send FIRST, then continuation lines until the peer goes away."""
    c.sendall(first.encode() + b"\r\n")
    line = b" " + b"z" * 70 + b"\r\n"
    try:
        while True:
            c.sendall(line * 64)
    except OSError:
        pass


class Session:
    def __init__(self, c):
        self.c = c
        self.data = None  # listening socket for the next RETR
        self.decoy = None  # "decoy": the listener the 227 names
        self.active = None  # "activeonly": (host, port) of PORT/EPRT
        self.abor = threading.Event()

    def send(self, s):
        self.c.sendall((s if isinstance(s, bytes) else s.encode()) + b"\r\n")

    def passive(self, epsv):
        host = {"thirdhost": "127.0.0.3", "authtls": "127.0.0.3",
                "thirdhost-closed": "127.0.0.4"}.get(behaviour, "127.0.0.1")
        if behaviour == "port0":
            return "229 Extended (|||0|)" if epsv else "227 Entering Passive Mode (127,0,0,1,0,0)."
        if behaviour == "port65536":
            return "229 Extended (|||65536|)" if epsv else "227 Entering Passive Mode (127,0,0,1,256,0)."
        if behaviour == "pasvflood":
            p = FIXED.getsockname()[1]
        elif behaviour == "decoy":
            # The same port on the control address and on the one the
            # 227 names: the log shows which the tunnel went to.
            for s in (self.data, self.decoy):
                if s:
                    s.close()
            self.data = listener("127.0.0.1")
            p = self.data.getsockname()[1]
            self.decoy = socket.socket()
            self.decoy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.decoy.bind(("127.0.0.3", p))
            self.decoy.listen(8)
            host = "127.0.0.3"
        elif behaviour == "thirdhost-closed":
            s = socket.socket()
            s.bind((host, 0))  # bound, never listening: connections refused
            p = s.getsockname()[1]
            self.data = s
        else:
            if self.data:
                self.data.close()
            self.data = listener(host)
            p = self.data.getsockname()[1]
        return "229 Extended Passive Mode (|||%d|)" % p if epsv else p227(host, p)

    def retr_active(self):
        self.send("150 connecting to you")
        try:
            d = socket.create_connection(self.active, timeout=10)
        except OSError:
            self.send("425 cannot connect to %s:%d" % self.active)
            return
        log("DATA to %s:%d" % self.active)
        self.active = None
        d.sendall(PAYLOAD)
        d.close()
        self.send("226 done")

    def retr(self):
        if behaviour == "activeonly":
            return self.retr_active() if self.active else self.send("425 use PORT first")
        if not self.data or behaviour == "thirdhost-closed":
            self.send("150 opening")
            time.sleep(1)
            self.send("425 no data connection")
            return
        self.send("150 here it comes")
        waiting = [x for x in (self.data, self.decoy) if x]
        # Well within the client's 10 s wait for the reply: a tunnel that
        # sends the connection elsewhere gets its 425 in time.
        ready, _, _ = select.select(waiting, [], [], 4)
        try:
            if not ready:
                raise OSError("timed out")
            d, peer = ready[0].accept()
        except OSError:
            self.send("425 no data connection")
            return
        log("DATA from %s:%d" % peer[:2])
        if self.decoy:
            log("DATA at %s" % d.getsockname()[0])
            self.decoy.close()
            self.decoy = None
        self.data.close()
        self.data = None
        if behaviour == "iac":
            # Trickle until ABOR arrives on the control connection.
            try:
                while not self.abor.wait(0.05):
                    d.sendall(b"t" * 1024)
            except OSError:
                pass
            d.close()
            return
        d.sendall(PAYLOAD)
        d.close()
        self.send("226 done")

    def run(self):
        c = self.c
        self.send("220 hostile ftpd (%s)" % behaviour)
        f = c.makefile("rb")
        retr = None
        for raw in f:
            log(repr(raw))
            line = raw.decode("latin-1").rstrip("\r\n")
            # Telnet bytes before ABOR (IAC IP IAC DM): keep the letters.
            verb, _, arg = line.lstrip("\xff\xf4\xf2").partition(" ")
            verb = verb.upper()
            if verb == "USER":
                self.send("331 password please")
            elif verb == "PASS":
                # A 234 that answers no AUTH must not stop the rewriting.
                self.send("234 go TLS now" if behaviour == "authtls" else "230 logged in")
            elif verb in ("TYPE", "MODE", "STRU"):
                self.send("200 ok")
            elif verb == "NOOP":
                if behaviour == "longline":
                    c.sendall(b"200 " + b"x" * (1 << 20))
                    time.sleep(60)
                    break
                elif behaviour == "nul":
                    self.send(b"200 ok\x00injected")
                elif behaviour == "noend":
                    endless(c, "200-here it starts")
                    break
                elif behaviour == "iac":
                    self.send(b"200 \xff\xfb\x01 NOOP \xff\xff ok")
                else:
                    self.send("200 NOOP ok")
            elif verb == "FEAT":
                self.send("211-Features:")
                for x in ("EPSV", "PASV", "AUTH TLS", "PBSZ", "PROT", "SIZE"):
                    self.send(" " + x)
                self.send("211 End")
            elif verb in ("PASV", "EPSV") and behaviour == "activeonly":
                self.send("502 %s not implemented here" % verb)
            elif verb in ("PORT", "EPRT") and behaviour == "activeonly":
                if verb == "PORT":
                    n = [int(x) for x in arg.split(",")]
                    self.active = ("%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5])
                else:
                    f = arg.split(arg[0])
                    self.active = (f[2], int(f[3]))
                self.send("200 %s ok" % verb)
            elif verb in ("PASV", "EPSV"):
                if behaviour == "noend" and verb == "PASV":
                    endless(c, "227-Entering Passive Mode (127,0,0,1,1,1)")
                    break
                self.send(self.passive(verb == "EPSV"))
            elif verb in ("PORT", "EPRT"):
                self.send("200 %s ok" % verb)
            elif verb == "RETR":
                retr = threading.Thread(target=self.retr, daemon=True)
                retr.start()
                if behaviour != "iac":
                    retr.join()
            elif verb == "ABOR":
                if retr and retr.is_alive():
                    self.abor.set()
                    retr.join()
                    self.send("426 transfer aborted")
                self.send("226 ABOR ok")
            elif verb == "QUIT":
                self.send("221 bye")
                break
            else:
                self.send("502 %s not here" % verb[:20])


def serve(c):
    try:
        Session(c).run()
    except OSError:
        pass
    try:
        c.close()
    except OSError:
        pass


FIXED = listener("127.0.0.1")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
log("LISTENING %s" % behaviour)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
