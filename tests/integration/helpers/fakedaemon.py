#!/usr/bin/python3
# fakedaemon.py — a stand-in for ftp-tunneld speaking docs/IPC.txt, so the
# shim's tests can route connections before the real daemon exists. No SSH:
# a CONNECT is answered with a loopback TCP socket relayed to the FTP server
# named by FAKE_FTP_SERVER (host:port), with the server's 227 rewritten to
# name the program's dst (as the daemon does); the server's own passive
# ports on loopback serve as the "data listeners": a DATA request is
# answered with a loopback socket relayed to that port of the server, and
# a PEER request takes a connection from the server's host for the
# daemon's (the server itself makes the active-mode connection). Started
# by the shim like the daemon: fakedaemon.py --ready-fd N.
#
# Environment: FTP_TUNNEL_SOCKET (required: the socket path),
# FAKE_FTP_SERVER, FAKE_LOG (each request appended, one line),
# FAKE_ERR="errno message" (answer every CONNECT with that ERR),
# FAKE_BAD_READY=1 (say something else than READY, then exit),
# FAKE_ANY_PEER=1 (serve any uid: a local user's daemon set up to
# serve another user's process, as an attack would). It exits
# when its socket is removed (with the test's directory).
import array
import fcntl
import os
import re
import socket
import struct
import sys
import threading
import time

SOCK = os.environ["FTP_TUNNEL_SOCKET"]
LOG = os.environ.get("FAKE_LOG")
lock = threading.Lock()
conn_id = [0]
last_dst = [""]  # the dst of the latest CONNECT, for PEER


def log(line):
    if LOG:
        with lock, open(LOG, "a") as f:
            f.write(line + "\n")


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def send_msg(s, word, keys, fd=None):
    text = "FTPT1 %s\n" % word + "".join("%s=%s\n" % kv for kv in keys)
    data = struct.pack("!I", len(text)) + text.encode()
    anc = []
    if fd is not None:
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
    s.sendmsg([data], anc)


def pump(src, dst, rewrite=None):
    buf = b""
    try:
        while True:
            d = src.recv(65536)
            if not d:
                break
            if rewrite is None:
                dst.sendall(d)
                continue
            buf += d
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                dst.sendall(rewrite(line + b"\n"))
        if buf:
            dst.sendall(buf)
    except OSError:
        pass
    for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
        try:
            s.shutdown(how)
        except OSError:
            pass


def loopback_pair(fam):
    """A connected pair of TCP sockets on loopback: (program's, ours)."""
    lo = "::1" if fam == socket.AF_INET6 else "127.0.0.1"
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.bind((lo, 0))
    ls.listen(1)
    prog = socket.socket(fam, socket.SOCK_STREAM)
    prog.connect(ls.getsockname()[:2])
    mine, _ = ls.accept()
    ls.close()
    return prog, mine


def data_request(c, keys):
    fam = socket.AF_INET6 if keys.get("family") == "inet6" else socket.AF_INET
    host, _, _ = os.environ["FAKE_FTP_SERVER"].rpartition(":")
    try:
        server = socket.create_connection((host.strip("[]"),
                                           int(keys["port"])), timeout=5)
    except OSError:
        send_msg(c, "ERR", [("errno", "111"), ("message", "no listener")])
        return
    prog, mine = loopback_pair(fam)
    send_msg(c, "OK", [], prog.fileno())
    prog.close()
    threading.Thread(target=pump, args=(server, mine), daemon=True).start()
    threading.Thread(target=pump, args=(mine, server), daemon=True).start()


def peer_request(c, keys):
    host, _, _ = os.environ["FAKE_FTP_SERVER"].rpartition(":")
    if keys.get("peer") == host.strip("[]") and last_dst[0]:
        send_msg(c, "OK", [("server", last_dst[0])])
    else:
        send_msg(c, "ERR", [("errno", "2"), ("message", "not ours")])


def connect_request(c, keys):
    fam = socket.AF_INET6 if keys.get("family") == "inet6" else socket.AF_INET
    err = os.environ.get("FAKE_ERR")
    if err:
        n, _, msg = err.partition(" ")
        send_msg(c, "ERR", [("errno", n), ("message", msg)])
        return
    host, _, port = os.environ["FAKE_FTP_SERVER"].rpartition(":")
    server = socket.create_connection((host.strip("[]"), int(port)))
    # The program's end: a TCP socket of the requested family on loopback.
    prog, mine = loopback_pair(fam)
    with lock:
        conn_id[0] += 1
        cid = conn_id[0]
        last_dst[0] = keys.get("dst", "")
    send_msg(c, "OK", [("id", str(cid))], prog.fileno())
    prog.close()
    dst = keys.get("ftphost") or keys.get("dst", "")
    v4 = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)\.(\d+)", dst)

    def rewrite(line):
        m = re.match(rb"227 ([^(]*)\((\d+,\d+,\d+,\d+),(\d+,\d+)\)", line)
        if m and v4:
            return b"227 %s(%s,%s)\r\n" % (
                m.group(1), ",".join(v4.groups()).encode(), m.group(3))
        return line

    threading.Thread(target=pump, args=(server, mine, rewrite),
                     daemon=True).start()
    threading.Thread(target=pump, args=(mine, server), daemon=True).start()


def serve(c):
    try:
        cred = c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                            struct.calcsize("3i"))
        if (struct.unpack("3i", cred)[1] != os.getuid() and
                not os.environ.get("FAKE_ANY_PEER")):
            return
        n = struct.unpack("!I", recv_exact(c, 4))[0]
        text = recv_exact(c, n).decode()
        lines = text.split("\n")
        word = lines[0].split(" ", 1)[1]
        keys, opts = {}, []
        for l in lines[1:]:
            if "=" in l:
                k, v = l.split("=", 1)
                if k == "option":
                    opts.append(v)
                else:
                    keys[k] = v
        log("%s %s options=%s" % (word, " ".join(
            "%s=%s" % kv for kv in sorted(keys.items())), "|".join(opts)))
        if word == "PING":
            send_msg(c, "OK", [("version", "1"), ("revision", "2"),
                               ("pid", str(os.getpid()))])
        elif word == "STOP":
            send_msg(c, "OK", [])
            os._exit(0)
        elif word == "CONNECT":
            connect_request(c, keys)
        elif word == "DATA":
            data_request(c, keys)
        elif word == "PEER":
            peer_request(c, keys)
        else:
            send_msg(c, "ERR", [("errno", "95"), ("message", "unknown")])
    except (OSError, EOFError, ValueError) as e:
        log("error %s" % e)
    finally:
        c.close()


def answers():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(SOCK)
        return True
    except OSError:
        return False
    finally:
        s.close()


def watchdog():
    # Started by the shim, not by the test: gone with the test's directory.
    while os.path.exists(SOCK):
        time.sleep(0.5)
    os._exit(0)


def is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def main():
    inherited = ",".join(str(fd) for fd in range(1024) if is_open(fd))
    ready = None
    if len(sys.argv) == 3 and sys.argv[1] == "--ready-fd":
        ready = int(sys.argv[2])
    d = os.path.dirname(SOCK)
    os.makedirs(d, mode=0o700, exist_ok=True)
    lk = open(os.path.join(d, "daemon.lock"), "w")
    try:
        fcntl.flock(lk, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        # Lost the race: say READY once the winner answers.
        log("lost the lock")
        for _ in range(100):
            if answers():
                break
            time.sleep(0.1)
        if ready is not None:
            os.write(ready, b"READY\n")
        return
    if os.environ.get("FAKE_BAD_READY") and ready is not None:
        os.write(ready, b"HELLO\n")
        return
    try:
        os.unlink(SOCK)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(SOCK)
    srv.listen(64)
    log("started pid=%d fds=%s env_preload=%s env_via=%s" % (
        os.getpid(), inherited,
        os.environ.get("LD_PRELOAD", "-"),
        os.environ.get("FTP_TUNNEL_VIA", "-")))
    if ready is not None:
        os.write(ready, b"READY\n")
        os.close(ready)
    threading.Thread(target=watchdog, daemon=True).start()
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
