#!/bin/bash
# t_status_all.sh — `ftp-tunnel status` lists every tunnel of the user: a
# foreground `ftp-tunnel -L ftp/...` (its own status socket, cli-PID.sock
# beside the daemon's) as well as the daemon, each with its SSH session,
# tunnels, FTP control and data connections and byte counts, while a
# throttled download runs through each. A client that connects to the
# foreground socket and never sends its request stalls neither status
# nor the transfer. After SIGTERM the entry and the socket are gone;
# after SIGKILL the stale socket is ignored and removed; `ftp-tunnel stop
# PID` and `stop NAME` end one foreground process. Another user sees
# nothing of root's and cannot talk to the socket.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init status_all
tt_sshd || tt_die "sshd"
# 1.5 MB/s per download: 24 MiB take about 17 s, the checks a few.
TT_VSFTPD_EXTRA="anon_max_rate=1500000" tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/big" 24M
FT="$TT_BUILD/ftp-tunnel"
ft_daemon_env -o Connections=1
RUN=$T/run
DEST="$SSH_USER@127.0.0.1:$SSHD_PORT"

# The foreground tunnel, and a download through it.
LP=$(tt_free_port)
ft_tunnel -L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" "$DEST" || tt_die "foreground tunnel"
FG=$FT_PID
FGLOG=$FT_LOG
tt_check "foreground ftp-tunnel made $RUN/cli-$FG.sock" test -S "$RUN/cli-$FG.sock"
tt_check "its socket has mode 0600: $(stat -c %a "$RUN/cli-$FG.sock" 2>&1)" \
	[ "$(stat -c %a "$RUN/cli-$FG.sock" 2>/dev/null)" = 600 ]
# The downloads read slowly (8 KiB every 50 ms) until their gate opens:
# the foreground's must still run when SIGTERM cuts it, however long the
# checks before take on a loaded machine; the daemon's is let go to its
# end before it is compared.
GATED="$TT_LIB_DIR/helpers/gated_retr.py"
python3 "$GATED" "$LP" pub/big "$T/fg.out" pasv "$T/gate.fg" 8192 \
	2>"$T/fg.err" &
cf=$!
tt_track "$cf"
# The daemon, and a download through the shim.
"${WRAP[@]}" python3 "$GATED" "$VSFTPD_PORT" pub/big "$T/d.out" pasv \
	"$T/gate.d" 8192 2>"$T/d.err" &
cd_=$!
tt_track "$cd_"

# Both carry a data connection that has moved bytes.
both_moving() {
	ft_status_json "$1" && python3 - "$1" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
def moving(r):
    return any(d["bytes_down"] > 0 for c in r["controls"] for d in c["data"])
sys.exit(0 if s["daemon"] and moving(s) and len(s["foreground"]) == 1
         and moving(s["foreground"][0]) else 1)
EOF
}
tt_wait_until 150 both_moving "$T/s1.json"
tt_check "status --json: valid JSON with both transfers moving" both_moving "$T/s1.json"
dp=$(python3 -c 'import json,sys; print((json.load(open(sys.argv[1]))["daemon"] or {}).get("pid", ""))' "$T/s1.json" 2>/dev/null)
[ -n "$dp" ] && tt_track "$dp"
sleep 1
tt_check "status --json a moment later" ft_status_json "$T/s2.json"

python3 - "$T/s1.json" "$T/s2.json" "$FG" "$dp" "$SSHD_PORT" "$VSFTPD_PORT" "$LP" >"$T/check.out" 2>&1 <<'EOF'
import json, sys
s1, s2 = (json.load(open(f)) for f in sys.argv[1:3])
fg_pid, d_pid, sshd_port, ftp_port, lp = (int(x) for x in sys.argv[3:8])
bad = []
def want(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        bad.append(what)
want(s1["daemon"]["pid"] == d_pid and
     open("/proc/%d/comm" % d_pid).read().strip() == "ftp-tunneld",
     "daemon listed: pid %d is ftp-tunneld" % d_pid)
want(len(s1["controls"]) == 1 and len(s1["controls"][0]["data"]) == 1,
     "daemon: one control with one data connection")
want(len(s1["foreground"]) == 1, "one foreground process (%d)" % len(s1["foreground"]))
f1, f2 = s1["foreground"][0], s2["foreground"][0]
p = f1["process"]
want(p["pid"] == fg_pid and p["kind"] == "foreground",
     "foreground: pid %s (want %d), kind %s" % (p["pid"], fg_pid, p.get("kind")))
want(p["name"] == "root@127.0.0.1:%d" % sshd_port or p["name"].endswith("@127.0.0.1:%d" % sshd_port),
     "foreground: name is the destination (%s)" % p["name"])
want("-L ftp/%d:127.0.0.1:%d" % (lp, ftp_port) in p["command"],
     "foreground: command line (%s)" % p["command"])
want(p["version"] and isinstance(p["uptime"], int) and p["connections"] == 1,
     "foreground: version, uptime, 1 connection served")
t = f1["tunnels"]
want(len(t) == 1 and t[0]["state"] == "up" and
     t[0]["name"] == "-L ftp/%d -> 127.0.0.1:%d" % (lp, ftp_port),
     "foreground: its tunnel, up (%s)" % t)
ss = f1["sessions"]
want(len(ss) == 1 and ss[0]["state"] == "ready" and ss[0]["port"] == sshd_port
     and ss[0]["host"] == "127.0.0.1", "foreground: one SSH session, ready")
want(ss and all(ss[0][k] for k in ("kex", "hostkey", "cipher_cs", "cipher_sc",
                                   "mac_cs", "mac_sc")),
     "foreground: negotiated algorithms %s" % [ss[0].get(k) for k in
        ("kex", "hostkey", "cipher_cs", "cipher_sc", "mac_cs", "mac_sc")] if ss else "")
want(ss and ss[0]["rx_bytes"] > 0 and ss[0]["tx_bytes"] > 0, "foreground: SSH byte counts")
c = f1["controls"]
want(len(c) == 1, "foreground: one FTP control connection")
if c:
    c = c[0]
    want(c["session"] == ss[0]["id"] and c["ftp_server"] == "127.0.0.1:%d" % ftp_port
         and c["dst"] == "127.0.0.1:%d" % lp and c["client"].startswith("127.0.0.1:")
         and c["tunnel"] == t[0]["name"],
         "control: session, dst %s, client %s, ftp_server %s, tunnel" %
         (c["dst"], c["client"], c["ftp_server"]))
    want(c["bytes_up"] > 0 and c["bytes_down"] > 0, "control: control bytes")
    want(len(c["data"]) == 1 and c["data"][0]["mode"] == "passive",
         "control: one passive data connection")
    c2 = [x for x in f2["controls"] if x["id"] == c["id"]]
    if c["data"] and c2 and c2[0]["data"]:
        a, b = c["data"][0]["bytes_down"], c2[0]["data"][0]["bytes_down"]
        want(b > a > 0, "data: bytes down grew %d -> %d" % (a, b))
    else:
        want(False, "data: in both reports")
tot = f2["totals"]
down = sum(x["bytes_down"] + sum(d["bytes_down"] for d in x["data"])
           for x in f2["controls"])
want(tot["sessions"] == 1 and tot["controls"] == 1 and tot["data_channels"] == 1
     and tot["bytes_down"] == down, "foreground totals add up (%d)" % down)
sys.exit(1 if bad else 0)
EOF
rc=$?
sed 's/^/      | /' "$T/check.out"
tt_check "status --json: the daemon and the foreground tunnel, with their transfers" [ "$rc" = 0 ]

"$FT" status >"$T/status.txt" 2>&1
tt_check "status: exit 0, the daemon's pid first" \
	grep -q "^pid: *$dp$" "$T/status.txt"
tt_check "status: the foreground process" \
	grep -q "^== foreground ftp-tunnel, pid $FG: $SSH_USER@127.0.0.1:$SSHD_PORT" "$T/status.txt"
tt_check "status: its tunnel, up" grep -Eq "^ +up +-L ftp/$LP -> 127\.0\.0\.1:$VSFTPD_PORT" "$T/status.txt"
tt_check "status: its data connection" \
	[ "$(grep -Ec "data [0-9]+: passive" "$T/status.txt")" = 2 ]
tt_check "status: its client and tunnel" grep -q "from 127.0.0.1:[0-9]* through -L ftp/$LP" "$T/status.txt"
sed 's/^/      | /' "$T/status.txt"

# Clients that connect and never send (or send half a request) hold
# neither the status of the others nor the transfer.
python3 - "$RUN/cli-$FG.sock" "$T/hold.ready" >"$T/hold.out" 2>&1 <<'EOF' &
import socket, sys, time
socks = []
for i in range(4):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    if i % 2:
        s.send(b"\x00\x00")
    socks.append(s)
open(sys.argv[2], "w").close()
time.sleep(30)
EOF
hp=$!
tt_track "$hp"
tt_wait_until 50 test -e "$T/hold.ready"
t0=$(date +%s%N)
ft_status_json "$T/s3.json"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
tt_check "status answers while 4 clients hang on the socket (${ms} ms)" \
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(not (len(s["foreground"]) == 1 and sys.argv[2] and int(sys.argv[2]) < 2000))' "$T/s3.json" "$ms"
fg_data_down() {
	python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["foreground"]; print(f[0]["controls"][0]["data"][0]["bytes_down"] if f and f[0]["controls"] and f[0]["controls"][0]["data"] else -1)' "$1" 2>/dev/null
}
a=$(fg_data_down "$T/s3.json")
sleep 1
ft_status_json "$T/s4.json"
b=$(fg_data_down "$T/s4.json")
tt_check "the foreground transfer goes on meanwhile ($a -> $b bytes)" [ "${a:--1}" -ge 0 ] && [ "${b:--1}" -gt "${a:--1}" ]
tt_kill "$hp"

# Another user: neither status nor a connect reaches root's tunnels.
other="ftt-st$$"
useradd -M -s /usr/sbin/nologin "$other" 2>/dev/null
user_gone() { id -u "$other" >/dev/null 2>&1 && userdel "$other" 2>/dev/null; }
_st_exit() {
	local rc=$?
	user_gone
	(exit "$rc")
	_tt_exit
}
trap '_st_exit' EXIT
ouid=$(id -u "$other")
as_other() { setpriv --reuid="$ouid" --regid="$(id -g "$other")" --clear-groups env -u XDG_RUNTIME_DIR "$@"; }
out=$(cd / && as_other env -u FTP_TUNNEL_SOCKET "$FT" status --json 2>&1)
tt_check "other user, own directory: nothing of root's ($(echo "$out" | head -1))" \
	eval '! echo "$out" | grep -q "\"pid\": *\($FG\|$dp\)\b"'
out=$(cd / && as_other "$FT" status 2>&1)
rc=$?
tt_check "other user, root's FTP_TUNNEL_SOCKET: refused, exit $rc ($(echo "$out" | head -1))" \
	eval '[ "$rc" = 1 ] && ! echo "$out" | grep -q "pid $FG\|^pid:"'
connect_as_other() {
	(cd / && as_other python3 - "$RUN/cli-$FG.sock" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect: %s" % e.strerror)
    sys.exit(0)
req = b"FTPT1 STATUS\nformat=2\n"
# The process may close before the request is even sent (EPIPE) or
# read (ECONNRESET): either way not a byte comes back.
try:
    s.send(struct.pack("!I", len(req)) + req)
    b = s.recv(65536)
except OSError as e:
    b = ("error " + (e.strerror or str(e))).encode()
print("connected, got %r" % b[:60])
EOF
	)
}
out=$(connect_as_other)
tt_check "other user: no connect to the socket ($out)" eval 'echo "$out" | grep -q "^connect: Permission denied"'
# With the directory and the socket opened to all, the uid check still
# turns the other user away without a byte.
chmod 711 "$RUN"
chmod 666 "$RUN/cli-$FG.sock"
out=$(connect_as_other)
chmod 600 "$RUN/cli-$FG.sock"
chmod 700 "$RUN"
tt_check "other user on an open socket: closed without a reply ($out)" \
	eval 'echo "$out" | grep -Eq "^connected, got b.(|error .*).$"'
tt_check "the foreground process logged the refused uid" \
	grep -q "status socket: refused a connection from uid $ouid" "$FGLOG"

# SIGTERM: the entry and the socket go.
kill -TERM "$FG"
for i in $(seq 100); do _tt_alive "$FG" || break; sleep 0.1; done
tt_check "SIGTERM: the foreground process ended" eval '! _tt_alive "$FG"'
tt_check "SIGTERM: no socket left" [ ! -e "$RUN/cli-$FG.sock" ]
fg_count() {
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(len(s["foreground"]))' "$1" 2>/dev/null
}
ft_status_json "$T/s5.json"
tt_check "SIGTERM: status lists no foreground process ($(fg_count "$T/s5.json"))" \
	[ "$(fg_count "$T/s5.json")" = 0 ]
tt_check "SIGTERM: the daemon is still listed" \
	python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["daemon"]["pid"] != int(sys.argv[2]))' "$T/s5.json" "$dp"
wait "$cf"
r=$?
tt_check "the foreground's client was cut (exit $r)" [ "$r" != 0 ]

# Two FTP sessions at once through a tunnel with Connections=2: the
# second goes to an extra SSH connection (a worker thread's), listed as a
# session of its own with its control and data connection.
LP2=$(tt_free_port)
ft_tunnel -o Connections=2 -L "ftp/$LP2:127.0.0.1:$VSFTPD_PORT" "$DEST" || tt_die "second tunnel"
FG2=$FT_PID
tt_wait_until 50 test -S "$RUN/cli-$FG2.sock"
for i in 1 2; do
	python3 "$GATED" "$LP2" pub/big "$T/x$i.out" pasv "$T/gate.x" 8192 \
		2>"$T/x$i.err" &
	tt_track "$!"
	sleep 0.5
done
two_sessions() {
	ft_status_json "$T/s6.json" && python3 - "$T/s6.json" <<'EOF2'
import json, sys
f = json.load(open(sys.argv[1]))["foreground"]
sys.exit(0 if len(f) == 1 and len(f[0]["sessions"]) == 2 and
         len(f[0]["controls"]) == 2 and
         all(c["data"] and c["data"][0]["bytes_down"] > 0 for c in f[0]["controls"])
         else 1)
EOF2
}
tt_wait_until 100 two_sessions
tt_check "Connections=2: two sessions, two controls moving data" two_sessions
tt_check "Connections=2: the controls on different sessions, ids distinct" python3 - "$T/s6.json" <<'EOF2'
import json, sys
f = json.load(open(sys.argv[1]))["foreground"][0]
ids = {s["id"] for s in f["sessions"]}
on = [c["session"] for c in f["controls"]]
print(ids, on, [c["id"] for c in f["controls"]])
sys.exit(0 if len(ids) == 2 and set(on) == ids and
         len({c["id"] for c in f["controls"]}) == 2 and
         f["totals"]["sessions"] == 2 and f["totals"]["data_channels"] == 2 else 1)
EOF2

# SIGKILL: a stale socket is ignored, then removed.
kill -KILL "$FG2"
for i in $(seq 100); do _tt_alive "$FG2" || break; sleep 0.1; done
tt_check "SIGKILL: its socket stays behind" test -S "$RUN/cli-$FG2.sock"
ft_status_json "$T/s7.json"
tt_check "SIGKILL: status ignores the stale socket ($(fg_count "$T/s7.json") listed, stderr: $(head -c 200 "$T/s7.json.err"))" \
	eval '[ "$(fg_count "$T/s7.json")" = 0 ] && [ ! -s "$T/s7.json.err" ]'
tt_check "SIGKILL: and removed it" [ ! -e "$RUN/cli-$FG2.sock" ]

# stop PID and stop NAME.
LP3=$(tt_free_port)
ft_tunnel -L "ftp/$LP3:127.0.0.1:$VSFTPD_PORT" "$DEST" || tt_die "third tunnel"
FG3=$FT_PID
tt_wait_until 50 test -S "$RUN/cli-$FG3.sock"
out=$("$FT" stop "$FG3" 2>&1)
rc=$?
tt_check "stop $FG3: exit $rc, \"$out\"" eval '[ "$rc" = 0 ] && echo "$out" | grep -q "(pid $FG3) stopped"'
tt_check "stop PID: the process is gone, its socket too" \
	eval '! _tt_alive "$FG3" && [ ! -e "$RUN/cli-$FG3.sock" ]'
wait "$FG3"
rc=$?
tt_check "stop PID: it exited as on SIGTERM (exit $rc)" [ "$rc" = 0 ]
ft_tunnel -L "ftp/$LP3:127.0.0.1:$VSFTPD_PORT" "$DEST" || tt_die "fourth tunnel"
FG4=$FT_PID
tt_wait_until 50 test -S "$RUN/cli-$FG4.sock"
out=$("$FT" stop "$DEST" 2>&1)
rc=$?
tt_check "stop $DEST: exit $rc, \"$out\"" eval '[ "$rc" = 0 ] && echo "$out" | grep -q "(pid $FG4) stopped" && ! _tt_alive "$FG4"'
out=$("$FT" stop 999999999 2>&1)
rc=$?
tt_check "stop of no such process: exit $rc, \"$out\"" eval '[ "$rc" = 1 ] && echo "$out" | grep -q "no foreground ftp-tunnel"'
tt_check "the daemon was left alone" _tt_alive "$dp"

: >"$T/gate.d"
wait "$cd_"
r=$?
tt_check "the download through the daemon completed (exit $r)" tt_cmp "$VSFTPD_PUB/big" "$T/d.out"
out=$("$FT" stop 2>&1)
tt_check "stop: the daemon ($out)" eval '! _tt_alive "$dp"'
out=$("$FT" status 2>&1)
rc=$?
tt_check "status with nothing running: exit $rc, \"$out\"" \
	eval '[ "$rc" = 1 ] && echo "$out" | grep -q "no daemon is running"'
user_gone
tt_done
