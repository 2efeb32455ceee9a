"""ftpctl.py: the FTP control connection the test helpers share (plain
sockets, so that every byte and every data connection is the helper's
own): replies, commands, an anonymous login in binary mode and a passive
data port; and a data connection read to its end."""
import re
import socket


class Control:
    def __init__(self, host, port, timeout, source=None):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=source)
        self.f = self.sock.makefile("rb")
        self.reply()

    def reply(self):
        """The last line of the next reply ("" at EOF)."""
        while True:
            line = self.f.readline().decode().rstrip("\r\n")
            if re.match(r"^\d{3} ", line) or not line:
                return line

    def cmd(self, c):
        self.sock.sendall(c.encode() + b"\r\n")
        return self.reply()

    def login_passive(self, mode):
        """USER anonymous, TYPE I, PASV or EPSV: (the reply, its port)."""
        self.cmd("USER anonymous")
        self.cmd("TYPE I")
        r = self.cmd("PASV" if mode == "pasv" else "EPSV")
        if mode == "pasv":
            m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r)
            return r, int(m.group(5)) * 256 + int(m.group(6))
        return r, int(re.search(r"\(\|\|\|(\d+)\|\)", r).group(1))


def read_all(sock):
    """Every byte sock sends until it closes."""
    got = b""
    while True:
        b = sock.recv(65536)
        if not b:
            return got
        got += b
