#!/bin/bash
# t_sftp_cmds.sh — the FTP commands of `ftp-tunnel -L sftp/` beyond plain
# transfers, each against a real sshd's SFTP: REST before RETR and STOR,
# APPE, STOU, ABOR mid-transfer (426 then 226), STAT with and without a
# path, MFMT, SITE CHMOD, HELP, ALLO, ACCT, EPSV ALL, overlong and
# malformed lines; the errors: missing file, permission denied, a full
# file system (452), and the SSH connection killed mid-transfer (426,
# then 421 and the control connection closed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init sftp_cmds

U="ftt-sc$$" SMALL="$T/small"
_cmds_exit() {
	local rc=$?
	mountpoint -q "$SMALL" && umount -l "$SMALL"
	if id -u "$U" >/dev/null 2>&1; then
		pkill -KILL -U "$(id -u "$U")" 2>/dev/null
		userdel "$U" >/dev/null 2>&1 || userdel -f "$U" >/dev/null 2>&1
	fi
	(exit "$rc")
	_tt_exit
}
trap '_cmds_exit' EXIT
PY=$TT_PYTHON

TT_SSHD_EXTRA="Subsystem sftp internal-sftp" tt_sshd || tt_die "sshd"
R="$T/srv"
mkdir -p "$R/pub" "$R/up" "$R/full/sub"
tt_mkfile "$R/pub/f1m" 1048589
tt_mkfile "$R/pub/big" 64M
tt_mkfile "$T/src" 1048589 src
tt_mkfile "$R/full/sub/x" 10
ln -s f1m "$R/pub/link"
port=$(tt_free_port)
ft_tunnel -L "sftp/$port:$R" "$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "-L sftp/"
tt_log_add ftp-tunnel "$FT_LOG"

cat >"$T/cmds.py" <<'PY'
import ftplib, hashlib, io, os, socket, sys, time
port, root, src = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = open(src, "rb").read()
f1m = open(os.path.join(root, "pub/f1m"), "rb").read()
out = []
def say(*a):
    out.append(" ".join(str(x) for x in a))
def code(cmd):
    try:
        return f.sendcmd(cmd)
    except ftplib.all_errors as e:
        return str(e)
f = ftplib.FTP()
f.connect("127.0.0.1", port, timeout=30)
f.login("anyone", "anything")

# REST before RETR: the rest of the file from the offset.
got = bytearray()
f.retrbinary("RETR pub/f1m", got.extend, rest=1000)
say("rest-retr", got == f1m[1000:])
# ... and before a big one, read through the bulk channel.
h = hashlib.sha256()
f.retrbinary("RETR pub/big", h.update, rest=5000001)
with open(os.path.join(root, "pub/big"), "rb") as big:
    big.seek(5000001)
    say("rest-retr-big", h.hexdigest() == hashlib.sha256(big.read()).hexdigest())
# REST before STOR: resume an upload.
f.storbinary("STOR up/r", io.BytesIO(data[:500000]))
f.storbinary("STOR up/r", io.BytesIO(data[500000:]), rest=500000)
say("rest-stor", open(os.path.join(root, "up/r"), "rb").read() == data)
# APPE: appended.
f.storbinary("STOR up/a", io.BytesIO(data[:300000]))
f.storbinary("APPE up/a", io.BytesIO(data[300000:]))
say("appe", open(os.path.join(root, "up/a"), "rb").read() == data)
# STOU: a name of the server's, in the 150 reply (RFC 1123 4.1.2.9).
f.voidcmd("TYPE I")
conn = f.transfercmd("STOU")
conn.sendall(b"unique")
conn.close()
f.voidresp()
names = [n for n in os.listdir(root) if n.startswith("ftp-tunnel.")]
say("stou", len(names) == 1 and open(os.path.join(root, names[0]), "rb").read() == b"unique")

# STAT: the session's, a directory's, a file's, a missing one's.
say("stat", code("STAT").split("\n")[0][:4], code("STAT").split("\n")[-1][:3])
s = code("STAT pub")
say("stat-dir", s[:4], "f1m" in s, "big" in s, s.split("\n")[-1][:3])
s = code("STAT pub/f1m")
say("stat-file", s[:4], "1048589" in s)
say("stat-missing", code("STAT pub/nothing")[:3])
# A symbolic link is listed with its target (wget skips it otherwise).
lines = []
f.retrlines("LIST pub", lines.append)
say("link", any(l.endswith(" link -> f1m") and l.startswith("l") for l in lines))

# MFMT then MDTM; SITE CHMOD.
say("mfmt", code("MFMT 20200102030405 pub/f1m")[:3])
say("mdtm", code("MDTM pub/f1m"))
say("chmod", code("SITE CHMOD 600 pub/f1m")[:3])
say("help", code("HELP")[:3], "allo", code("ALLO 1000")[:3], "acct", code("ACCT x")[:3])
say("unknown", code("XYZZ")[:3], "syntax", code("RETR\x00x")[:3])
say("toolong", code("NOOP " + "x" * 5000)[:3], "after", code("NOOP")[:3])

# Errors.
def retr_err(path):
    try:
        f.retrbinary("RETR " + path, lambda b: None)
        return "ok"
    except ftplib.all_errors as e:
        return str(e)[:3]
say("missing", retr_err("pub/nothing"))
say("retr-dir", retr_err("pub"))
say("dele-missing", code("DELE pub/nothing")[:3])
say("cwd-missing", code("CWD nothing")[:3])
say("rmd-notempty", code("RMD full")[:3])
say("mkd-exists", code("MKD pub")[:3])
say("size-dir", code("SIZE pub")[:3])
say("rnto-first", code("RNTO x")[:3])

# ABOR mid-transfer: 426 for the transfer, then 226 for ABOR; the session
# goes on.
f.voidcmd("TYPE I")
h, p = ftplib.parse229(f.sendcmd("EPSV"), f.sock.getpeername())
d = socket.create_connection((h, p))
d.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
f.putcmd("RETR pub/big")
first = f.getresp()
d.recv(1000)
time.sleep(0.3)
f.putcmd("ABOR")
r1 = f.getline()
r2 = f.getline()
d.close()
say("abor", first[:3], r1[:3], r2[:3])
say("after-abor", code("NOOP")[:3])
# ftplib's abort(): "ABOR\r\n" sent as TCP urgent data (Telnet Synch).
conn = f.transfercmd("RETR pub/big")
conn.recv(1000)
try:
    r = f.abort()
    # ftplib reads the 426 only; the 226 for ABOR follows it.
    r2 = f.getresp() if r.startswith("426") else ""
except ftplib.all_errors as e:
    r, r2 = str(e), ""
conn.close()
say("abor-urgent", r[:3], r2[:3], code("NOOP")[:3])

# PORT and EPRT may name only the client's own address (no FTP bounce);
# the unspecified address means the client's own.
say("bounce", code("PORT 127,0,0,2,4,1")[:3], code("EPRT |1|10.9.8.7|1025|")[:3],
    code("EPRT |1|0.0.0.0|1025|")[:3])

# EPSV ALL: then only EPSV.
say("epsv-all", code("EPSV ALL")[:3], code("PASV")[:3], code("PORT 127,0,0,1,4,1")[:3], code("EPSV")[:3])
f.quit()
print("\n".join(out))
PY
if timeout 120 "$PY" "$T/cmds.py" "$port" "$R" "$T/src" >"$T/cmds.out" 2>&1; then
	tt_pass "command session ran"
else
	tt_fail "command session: $(tail -2 "$T/cmds.out" | tr '\n' ' ')"
fi
expect() { tt_check "$1" grep -qxF "$1" "$T/cmds.out"; }
expect "rest-retr True"
expect "rest-retr-big True"
expect "rest-stor True"
expect "appe True"
expect "stou True"
expect "stat 211- 211"
expect "stat-dir 213- True True 213"
expect "stat-file 213- True"
expect "stat-missing 550"
expect "link True"
expect "mfmt 213"
expect "mdtm 213 20200102030405"
expect "chmod 200"
expect "help 214 allo 202 acct 202"
expect "unknown 502 syntax 500"
expect "toolong 500 after 200"
expect "missing 550"
expect "retr-dir 550"
expect "dele-missing 550"
expect "cwd-missing 550"
expect "rmd-notempty 550"
expect "mkd-exists 550"
expect "size-dir 550"
expect "rnto-first 503"
expect "abor 150 426 226"
expect "after-abor 200"
expect "abor-urgent 426 226 200"
expect "epsv-all 200 520 520 229"
expect "bounce 500 500 200"
tt_check "SITE CHMOD 600 made the file 600 ($(stat -c %a "$R/pub/f1m"))" [ "$(stat -c %a "$R/pub/f1m")" = 600 ]
tt_check "MFMT set the file's time" [ "$(date -u -r "$R/pub/f1m" +%Y%m%d%H%M%S)" = 20200102030405 ]

# curl resumes a download (REST) and an upload (SIZE, then APPE).
head -c 300000 "$R/pub/f1m" >"$T/partial"
timeout 30 curl -sS -C - -o "$T/partial" "ftp://x:y@127.0.0.1:$port/pub/f1m" 2>"$T/curl.err"
tt_same "$R/pub/f1m" "$T/partial" "curl -C - resumes a download"
head -c 400000 "$T/src" >"$R/up/cr"
timeout 30 curl -sS -C - -T "$T/src" "ftp://x:y@127.0.0.1:$port/up/cr" 2>>"$T/curl.err"
tt_same "$T/src" "$R/up/cr" "curl -C - -T resumes an upload"

# ---- as a user without root's rights: permission denied, a full disk ----
useradd -M -U -s /bin/sh "$U" && usermod -p '*' "$U" || tt_die "useradd $U"
mkdir -p "$R/locked" "$SMALL"
tt_mkfile "$R/locked/secret" 100
chmod 700 "$R/locked"
chmod 600 "$R/locked/secret"
tt_mkfile "$R/pub/private" 100
chmod 600 "$R/pub/private"
mount -t tmpfs -o size=1m,mode=0755,uid="$(id -u "$U")" ftt-sftp-small "$SMALL" ||
	tt_die "tmpfs at $SMALL"
chmod 755 "$T" "$R" "$R/pub"
uport=$(tt_free_port)
ft_tunnel -L "sftp/$uport:$R" "$U@127.0.0.1:$SSHD_PORT" || tt_die "-L sftp/ as $U"
cat >"$T/perm.py" <<'PY'
import ftplib, io, sys
port, small = int(sys.argv[1]), sys.argv[2]
f = ftplib.FTP()
f.connect("127.0.0.1", port, timeout=30)
f.login("a", "b")
def err(fn):
    try:
        fn()
        return "ok"
    except ftplib.all_errors as e:
        return str(e)[:3]
print("retr-denied", err(lambda: f.retrbinary("RETR pub/private", lambda b: None)))
print("stor-denied", err(lambda: f.storbinary("STOR pub/new", io.BytesIO(b"x"))))
print("list-denied", err(lambda: f.retrlines("LIST locked", lambda l: None)))
def stor_full():
    # The server stops reading when the disk is full: the data connection
    # may break under the sender before the reply is read.
    conn = f.transfercmd("STOR " + small + "/big")
    try:
        conn.sendall(b"z" * 3000000)
    except OSError:
        pass
    conn.close()
    return f.voidresp()
print("full", err(stor_full))
print("after-full", f.sendcmd("NOOP")[:3])
f.quit()
PY
timeout 60 "$PY" "$T/perm.py" "$uport" "$SMALL" >"$T/perm.out" 2>&1
expect2() { tt_check "$1" grep -qxF "$1" "$T/perm.out"; }
expect2 "retr-denied 550"
expect2 "stor-denied 550"
expect2 "list-denied 550"
expect2 "full 452"
expect2 "after-full 200"

# ---- the passive data listener takes only the FTP client's own socket ----
cat >"$T/steal.py" <<'PY'
import ftplib, socket, subprocess, sys, time
port, user, py = int(sys.argv[1]), sys.argv[2], sys.argv[3]
f = ftplib.FTP()
f.connect("127.0.0.1", port, timeout=30)
f.login("a", "b")
f.voidcmd("TYPE I")
h, p = ftplib.parse229(f.sendcmd("EPSV"), f.sock.getpeername())
# Another local user connects first and waits for the file's bytes.
thief = subprocess.run(["setpriv", "--reuid=" + user, "--regid=" + user, "--clear-groups", py, "-c",
    "import socket,sys; s=socket.create_connection(('127.0.0.1', %d)); s.settimeout(3)\n"
    "try:\n n=len(s.recv(100))\nexcept Exception as e:\n n=-1\nprint(n)" % p],
    capture_output=True, text=True, timeout=20)
print("thief", thief.stdout.strip())
d = socket.create_connection((h, p))
f.putcmd("RETR pub/f1m")
print("owner", f.getresp()[:3])
n = 0
while True:
    b = d.recv(65536)
    if not b:
        break
    n += len(b)
print("got", n, f.getresp()[:3])
f.quit()
PY
timeout 60 "$PY" "$T/steal.py" "$port" "$U" "$PY" >"$T/steal.out" 2>&1
tt_check "another user's connection to the passive port gets nothing ($(tr '\n' ' ' <"$T/steal.out"))" \
	grep -qx "thief 0" "$T/steal.out"
tt_check "the client's own connection then gets the file" grep -qx "got 1048589 226" "$T/steal.out"

# ---- ftp-tunnel stopped mid-transfer: exits 0 at once, every SFTP handle
# closed first (check-asan's leak check sees the rest) ----
tport=$(tt_free_port)
ft_tunnel -L "sftp/$tport:$R" "$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "-L sftp/ 3"
timeout 30 curl -sS --limit-rate 2M -o /dev/null "ftp://u:p@127.0.0.1:$tport/pub/big" 2>/dev/null &
cpid=$!
sleep 1.5
t0=$(date +%s%N)
kill -TERM "$FT_PID"
wait "$FT_PID"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
wait "$cpid"
tt_check "SIGTERM mid-RETR: exit 0 in $ms ms (rc $rc)" [ "$rc" -eq 0 -a "$ms" -lt 3000 ]

# ---- the SSH connection killed mid-transfer: 426, then 421, then EOF ----
TT_SSHD_EXTRA="Subsystem sftp internal-sftp" tt_sshd || tt_die "sshd 2"
kport=$(tt_free_port)
ft_tunnel -L "sftp/$kport:$R" "$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "-L sftp/ 2"
kpid=$FT_PID
cat >"$T/kill.py" <<'PY'
import ftplib, os, signal, socket, subprocess, sys, time
port, sshd = int(sys.argv[1]), int(sys.argv[2])
f = ftplib.FTP()
f.connect("127.0.0.1", port, timeout=30)
f.login("a", "b")
f.voidcmd("TYPE I")
h, p = ftplib.parse229(f.sendcmd("EPSV"), f.sock.getpeername())
d = socket.create_connection((h, p))
f.putcmd("RETR pub/big")
print("first", f.getresp()[:3])
n = 0
while n < 2000000:
    n += len(d.recv(100000))
# Every process of the sshd under the listener: the connection's.
kids = subprocess.run(["pgrep", "-P", str(sshd)], capture_output=True, text=True).stdout.split()
for k in kids:
    for g in subprocess.run(["pgrep", "-P", k], capture_output=True, text=True).stdout.split():
        os.kill(int(g), signal.SIGKILL)
    os.kill(int(k), signal.SIGKILL)
# The download goes on until the connection's loss ends it.
try:
    while d.recv(100000):
        pass
except OSError:
    pass
lines = []
try:
    while True:
        l = f.getline()
        if not l:
            break
        lines.append(l[:3])
except (EOFError, OSError):
    pass
print("then", " ".join(lines))
PY
timeout 60 "$PY" "$T/kill.py" "$kport" "$SSHD_PID" >"$T/kill.out" 2>&1
tt_check "SSH killed mid-RETR: 150, then 426 and 421 ($(tr '\n' ' ' <"$T/kill.out"))" \
	grep -qx "then 426 421" "$T/kill.out"

# ---- a server that allows one session channel per connection ----------
# (MaxSessions 1): the bulk channel a big RETR asks for is refused, and
# the file comes through the login's own sftp channel instead; the next
# big RETR does not ask again.
TT_SSHD_EXTRA=$'Subsystem sftp internal-sftp\nMatch User root\n\tMaxSessions 1' \
	tt_sshd || tt_die "sshd (MaxSessions 1)"
mport=$(tt_free_port)
ft_tunnel -v -L "sftp/$mport:$R" "$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "-L sftp/ (MaxSessions 1)"
mlog=$FT_LOG
rm -f "$T/one" "$T/two"
timeout 60 curl -sS -o "$T/one" "ftp://x:y@127.0.0.1:$mport/pub/f1m" "ftp://x:y@127.0.0.1:$mport/pub/big" \
	-o "$T/two" 2>"$T/curl-ms.err"
tt_same "$R/pub/f1m" "$T/one" "MaxSessions 1: a big RETR without the bulk channel"
tt_same "$R/pub/big" "$T/two" "MaxSessions 1: the next one too"
tt_check "MaxSessions 1: the bulk channel was refused, once ($(grep -c 'SFTP download channel' "$mlog"))" \
	[ "$(grep -c 'SFTP download channel.*refused' "$mlog")" = 1 ]

tt_done
