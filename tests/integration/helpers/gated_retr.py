#!/usr/bin/env python3
"""gated_retr.py PORT PATH OUT pasv|port GATE [CHUNK]: downloads PATH from
the FTP server on 127.0.0.1:PORT into OUT, reading slowly (CHUNK bytes,
32 KiB by default, every 50 ms) until the file GATE exists, then at full
speed. A test that must look at
a transfer while it runs (ftp-tunnel status) opens the gate when it is
done looking, however long the looking took on a loaded machine.
Exit 0 once the whole file is in OUT; 1 on any error, named on stderr."""
import ftplib
import os
import sys
import time


def main():
    port, path, out, mode, gate = sys.argv[1:6]
    chunk = int(sys.argv[6]) if len(sys.argv) > 6 else 32768
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", int(port), timeout=120)
    ftp.login()
    ftp.set_pasv(mode == "pasv")
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR " + path)
    with open(out, "wb") as f:
        while True:
            gated = not os.path.exists(gate)
            b = conn.recv(chunk if gated else 1 << 20)
            if not b:
                break
            f.write(b)
            if gated:
                time.sleep(0.05)
    conn.close()
    ftp.voidresp()
    ftp.quit()


try:
    main()
except Exception as e:  # the test reports the exit status
    print("gated_retr: %s" % e, file=sys.stderr)
    sys.exit(1)
