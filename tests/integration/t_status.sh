#!/bin/bash
# t_status.sh — `ftp-tunnel status` (tables and --json) during two live
# transfers through the shim's daemon: both control connections and their
# data connections are listed, with byte counts that grow; `ftp-tunnel
# stop` waits until the daemon is gone, and tells a client still
# transferring with a 421; the daemon logs to FTP_TUNNEL_LOG.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init status
tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/big" 32M
FT="$TT_BUILD/ftp-tunnel"
ft_daemon_env -o Connections=1 # one SSH connection: the checks below expect one

# No daemon: both commands say so and fail.
out=$("$FT" status 2>&1)
rc=$?
tt_check "status without a daemon: exit $rc, \"$out\"" \
	eval '[ "$rc" = 1 ] && echo "$out" | grep -q "no daemon is running"'
out=$("$FT" stop 2>&1)
rc=$?
tt_check "stop without a daemon: exit $rc, \"$out\"" \
	eval '[ "$rc" = 1 ] && echo "$out" | grep -q "no daemon is running"'

# Two downloads of 32 MiB (loopback socket buffers take several MiB at
# once, so the file must be bigger than they are), one passive, one
# active, read slowly until the status checks are done (the gate): on a
# loaded machine those can take longer than a rate-limited download.
GATED="$TT_LIB_DIR/helpers/gated_retr.py"
"${WRAP[@]}" python3 "$GATED" "$VSFTPD_PORT" pub/big "$T/g1" pasv \
	"$T/gate" 2>"$T/c1.err" &
c1=$!
tt_track "$c1"
"${WRAP[@]}" python3 "$GATED" "$VSFTPD_PORT" pub/big "$T/g2" port \
	"$T/gate" 2>"$T/c2.err" &
c2=$!
tt_track "$c2"

# Two controls, each with a running data connection.
both_running() {
	ft_status_json "$T/s0.json" && python3 - "$T/s0.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if len(s["controls"]) == 2 and
         all(len(c["data"]) == 1 for c in s["controls"]) else 1)
EOF
}
# Both data connections moved more bytes (the pumps may pause while the
# loopback buffers are full, so allow a few seconds).
grown() {
	ft_status_json "$T/s2.json" && python3 - "$T/s1.json" "$T/s2.json" <<'EOF'
import json, sys
a, b = ({c["id"]: c for c in json.load(open(f))["controls"]} for f in sys.argv[1:])
sys.exit(0 if a and all(i in b and b[i]["data"] and
                        b[i]["data"][0]["bytes_down"] > c["data"][0]["bytes_down"]
                        for i, c in a.items()) else 1)
EOF
}
tt_wait_until 100 both_running
tt_check "status --json: valid JSON during the transfers" ft_status_json "$T/s1.json"
sleep 0.5
tt_wait_until 50 grown
tt_check "status --json: valid JSON a moment later" ft_status_json "$T/s2.json"
"$FT" status >"$T/status.txt" 2>&1
dp=$(awk '/^pid:/ {print $2}' "$T/status.txt")
[ -n "$dp" ] && tt_track "$dp"

python3 - "$T/s1.json" "$T/s2.json" "$SSHD_PORT" "$VSFTPD_PORT" >"$T/check.out" 2>&1 <<'EOF'
import json, sys
s1, s2 = (json.load(open(f)) for f in sys.argv[1:3])
sshd_port, ftp_port = int(sys.argv[3]), int(sys.argv[4])
bad = []
def want(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        bad.append(what)
d = s1["daemon"]
want(s1["format"] == 2 and isinstance(d["pid"], int) and d["version"]
     and isinstance(d["uptime"], int), "daemon: pid, version, uptime")
sess = s1["sessions"]
want(len(sess) == 1, "one SSH session (%d)" % len(sess))
s = sess[0]
want(s["state"] == "ready" and s["port"] == sshd_port and
     s["host"] == "127.0.0.1" and s["user"], "session: ready, server, user")
want(all(s[k] for k in ("kex", "hostkey", "cipher_cs", "cipher_sc",
                        "mac_cs", "mac_sc")),
     "session: negotiated algorithms %s" % [s.get(k) for k in
        ("kex", "hostkey", "cipher_cs", "cipher_sc", "mac_cs", "mac_sc")])
want(s["channels"] >= 4, "session: >= 4 channels (%s)" % s["channels"])
ctl1 = {c["id"]: c for c in s1["controls"]}
ctl2 = {c["id"]: c for c in s2["controls"]}
want(len(ctl1) == 2 and set(ctl1) == set(ctl2), "the same two controls in both")
for i, c in ctl1.items():
    want(c["session"] == s["id"], "ctl %d: on session %d" % (i, s["id"]))
    want(c["dst"] == "127.0.0.1:%d" % ftp_port and
         c["ftp_server"] == "127.0.0.1:%d" % ftp_port,
         "ctl %d: destination %s, FTP server %s" % (i, c["dst"], c["ftp_server"]))
    want(c["bytes_up"] > 0 and c["bytes_down"] > 0,
         "ctl %d: control bytes %d up, %d down" % (i, c["bytes_up"], c["bytes_down"]))
    want(len(c["data"]) == 1, "ctl %d: one data connection" % i)
    if i in ctl2 and c["data"] and ctl2[i]["data"]:
        a, b = c["data"][0], ctl2[i]["data"][0]
        want(b["bytes_down"] > a["bytes_down"] > 0,
             "ctl %d data %d (%s): bytes down grew %d -> %d" %
             (i, a["n"], a["mode"], a["bytes_down"], b["bytes_down"]))
modes = sorted(c["data"][0]["mode"] for c in ctl1.values() if c["data"])
want(modes == ["active", "passive"], "one passive, one active (%s)" % modes)
t = s2["totals"]
want(t["sessions"] == 1 and t["controls"] == 2 and t["data_channels"] == 2,
     "totals: 1 session, 2 controls, 2 data connections")
down = sum(c["bytes_down"] + sum(x["bytes_down"] for x in c["data"])
           for c in s2["controls"])
want(t["bytes_down"] == down, "totals: bytes down add up (%d)" % down)
sys.exit(1 if bad else 0)
EOF
rc=$?
sed 's/^/      | /' "$T/check.out"
tt_check "status --json: sessions, controls, data connections, growing bytes" [ "$rc" = 0 ]

tt_check "status: the session's row ends in its state" \
	grep -Eq "^ +1 +$SSH_USER@127\.0\.0\.1:$SSHD_PORT +$SSH_USER .* ready$" "$T/status.txt"
tt_check "status: negotiated algorithms shown" grep -q "kex .*, host key " "$T/status.txt"
tt_check "status: two control connections shown" \
	[ "$(grep -Ec "^ +[0-9]+ +1 +127\.0\.0\.1:$VSFTPD_PORT " "$T/status.txt")" = 2 ]
tt_check "status: their data connections shown" \
	[ "$(grep -Ec "data [0-9]+: (passive|active)" "$T/status.txt")" = 2 ]
sed 's/^/      | /' "$T/status.txt"

touch "$T/gate"
wait "$c1"
r1=$?
wait "$c2"
r2=$?
tt_check "passive download through the daemon (exit $r1)" tt_cmp "$VSFTPD_PUB/big" "$T/g1"
tt_check "active download through the daemon (exit $r2)" tt_cmp "$VSFTPD_PUB/big" "$T/g2"
no_controls() {
	ft_status_json "$T/s3.json" &&
		python3 -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))["controls"]))' "$T/s3.json"
}
tt_wait_until 50 no_controls
tt_check "the ended transfers leave the report" no_controls

# The daemon's own log: FTP_TUNNEL_LOG names a file, info by default.
tt_check "FTP_TUNNEL_LOG: session lines in the file" \
	grep -Eq "ftp-tunneld\[$dp\]: sess $SSH_USER@127\.0\.0\.1:$SSHD_PORT: connected" "$FTP_TUNNEL_LOG"
tt_check "FTP_TUNNEL_LOG: control connection lines in the file" \
	grep -q "ctl [0-9]*: FTP control connection to 127.0.0.1:$VSFTPD_PORT" "$FTP_TUNNEL_LOG"
tt_check "FTP_TUNNEL_LOG: no debug lines at the default level" \
	eval '! grep -q "debug:" "$FTP_TUNNEL_LOG"'

out=$("$FT" stop 2>&1)
rc=$?
tt_check "stop: exit $rc, \"$out\"" eval '[ "$rc" = 0 ] && echo "$out" | grep -q "pid $dp) stopped"'
tt_check "stop returned once the daemon was gone" eval '! _tt_alive "$dp"'
tt_check "stop: no socket left" [ ! -e "$FTP_TUNNEL_SOCKET" ]

# A stop in the middle of a transfer cuts it and the daemon still goes; an
# idle client is told why (421), as by a server shutting down.
# FTP_TUNNEL_LOG_LEVEL raises the level.
export FTP_TUNNEL_LOG="$T/daemon2.log" FTP_TUNNEL_LOG_LEVEL=debug
# (This download's gate never opens: it is still running at the stop.)
"${WRAP[@]}" python3 "$GATED" "$VSFTPD_PORT" pub/big "$T/g3" pasv \
	"$T/gate3" 2>"$T/c3.err" &
c3=$!
tt_track "$c3"
"${WRAP[@]}" python3 - "$VSFTPD_PORT" "$T/idle.ready" >"$T/idle.out" 2>&1 <<'EOF' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
print(s.recv(512).decode(errors="replace").strip(), flush=True)
open(sys.argv[2], "w").close()
while True:
    b = s.recv(512)
    if not b:
        break
    print(b.decode(errors="replace").strip(), flush=True)
EOF
c4=$!
tt_track "$c4"
tt_wait_until 100 test -e "$T/idle.ready"
one_running() {
	ft_status_json "$T/s4.json" &&
		python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["controls"]; sys.exit(not any(x["data"] for x in c))' "$T/s4.json"
}
tt_wait_until 100 one_running
dp=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["daemon"]["pid"])' "$T/s4.json" 2>/dev/null)
[ -n "$dp" ] && tt_track "$dp"
out=$("$FT" stop 2>&1)
tt_check "stop during a transfer: \"$out\"" eval '! _tt_alive "$dp"'
for i in $(seq 50); do _tt_alive "$c3" || break; sleep 0.1; done
wait "$c3"
r3=$?
tt_check "the client's transfer ended (exit $r3, not 0)" [ "$r3" != 0 ]
wait "$c4"
tt_check "an idle client was told why: $(tail -1 "$T/idle.out")" \
	grep -q "^421 ftp-tunnel: the tunnel daemon is stopping" "$T/idle.out"
tt_check "FTP_TUNNEL_LOG_LEVEL=debug: debug lines" grep -q "debug: " "$T/daemon2.log"
tt_check "the daemon logged its stop" grep -q "closing 2 FTP control connection" "$T/daemon2.log"
tt_done
