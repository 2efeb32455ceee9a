#!/bin/bash
# t_sftp_status.sh — `ftp-tunnel status` and a foreground `-L sftp/`
# tunnel: with SftpLogin=tunnel it lists the tunnel, its SSH session and
# each FTP session as an FTP control connection (as for -L ftp/: its
# client, its tunnel, on session 1, or on a further connection for a
# concurrent one), gone once the client leaves; with
# SftpLogin=ftp alone the process has no SSH session of its own (each FTP
# login makes one) and status still lists it, its tunnel, no session and
# a connected FTP client, without the foreground process failing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init sftp_status

TT_SSHD_EXTRA="Subsystem sftp internal-sftp" tt_sshd || tt_die "sshd"
FT="$TT_BUILD/ftp-tunnel"
ft_daemon_env
DEST="$SSH_USER@127.0.0.1:$SSHD_PORT"

# SftpLogin=tunnel: ftp-tunnel's own SSH session serves the FTP logins.
P1=$(tt_free_port)
ft_tunnel -o Connections=2 -L "sftp/$P1" "$DEST" ||
	tt_die "-L sftp/ (SftpLogin=tunnel)"
FG1=$FT_PID
tt_log_add ftp-tunnel-1 "$FT_LOG"
tt_check "status --json with a -L sftp/ tunnel" ft_status_json "$T/s1.json"
tt_check "its tunnel, up, on session 1" python3 - "$T/s1.json" "$FG1" "$P1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
fg = [f for f in r["foreground"] if f["process"]["pid"] == int(sys.argv[2])]
t = fg[0]["tunnels"]
sys.exit(not (len(t) == 1 and t[0]["state"] == "up" and
              t[0]["name"].startswith("-L sftp/%s " % sys.argv[3]) and
              t[0].get("session") == 1 and len(fg[0]["sessions"]) == 1))
EOF

# An FTP client logged in and staying: one control connection, listed.
# ftp_client PORT READY [USER PASS]: in the background (CLIENT, its pid),
# connects (and logs in), writes READY, waits for READY.done, leaves;
# returns once READY is there.
ftp_client() {
	python3 - "$@" >"$2.out" 2>&1 <<'EOF' &
import ftplib, os, sys, time
f = ftplib.FTP()
f.connect("127.0.0.1", int(sys.argv[1]), timeout=30)
if len(sys.argv) > 3:
    f.login(sys.argv[3], sys.argv[4])
open(sys.argv[2], "w").write("ok")
for _ in range(600):
    if os.path.exists(sys.argv[2] + ".done"):
        break
    time.sleep(0.1)
f.close()
EOF
	CLIENT=$!
	tt_track "$CLIENT"
	tt_wait_until 150 test -e "$2"
}
# fg_controls JSON PID EXPR: `status --json` into JSON, then whether the
# Python expression EXPR holds of process PID's record (fg) and its FTP
# control connections (c), which are printed.
fg_controls() {
	ft_status_json "$1" && python3 - "$@" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
fg = [f for f in r["foreground"] if f["process"]["pid"] == int(sys.argv[2])]
fg = fg[0] if fg else {"controls": None}
c = fg["controls"]
print(c)
sys.exit(not (c is not None and eval("(" + sys.argv[3] + ")")))
EOF
}
ftp_client "$P1" "$T/c1.ready" anonymous x
tt_check "the FTP session is listed as a control on session 1" \
	fg_controls "$T/s1c.json" "$FG1" "len(c) == 1 and c[0]['session'] == 1 and
	    c[0]['tunnel'].startswith('-L sftp/$P1 ') and
	    c[0]['client'].startswith('127.0.0.1:') and
	    c[0]['dst'] == '127.0.0.1:$P1' and
	    c[0]['ftp_server'].startswith('sftp:') and
	    fg['totals']['controls'] == 1"
"$FT" status >"$T/s1c.txt" 2>&1
sed 's/^/      | /' "$T/s1c.txt"
tt_check "status: the FTP session's client and tunnel" \
	grep -q "from 127.0.0.1:[0-9]* through -L sftp/$P1 " "$T/s1c.txt"
# A second FTP session at once goes to a further SSH connection: listed
# there.
C1=$CLIENT
ftp_client "$P1" "$T/c1b.ready" anonymous x
tt_check "a second one at once: on a second session" \
	fg_controls "$T/s1e.json" "$FG1" "len(c) == 2 and
	    sorted(x['session'] for x in c) == [1, 2] and
	    len(fg['sessions']) == 2 and
	    all(x['tunnel'].startswith('-L sftp/$P1 ') for x in c)"
touch "$T/c1.ready.done" "$T/c1b.ready.done"
wait "$C1" "$CLIENT"
gone() { fg_controls "$T/s1d.json" "$FG1" "not c" >/dev/null; }
tt_wait_until 100 gone
tt_check "the FTP session is no longer listed once its client left" gone
kill "$FG1"

# SftpLogin=ftp alone: no SSH session until an FTP client logs in.
P2=$(tt_free_port)
ft_tunnel -o SftpLogin=ftp -L "sftp/$P2" "127.0.0.1:$SSHD_PORT" ||
	tt_die "-L sftp/ (SftpLogin=ftp)"
FG2=$FT_PID
tt_log_add ftp-tunnel-2 "$FT_LOG"
"$FT" status >"$T/s2.txt" 2>&1
rc=$?
sed 's/^/      | /' "$T/s2.txt"
tt_check "status: exit 0 ($rc)" [ "$rc" = 0 ]
tt_check "status: the foreground process" \
	grep -q "^== foreground ftp-tunnel, pid $FG2: 127.0.0.1:$SSHD_PORT" "$T/s2.txt"
tt_check "status: its tunnel, up" \
	grep -Eq "^ +up +-L sftp/$P2 -> \(FTP user\)@127\.0\.0\.1" "$T/s2.txt"
tt_check "status: no SSH session" grep -q "0 SSH session(s)" "$T/s2.txt"
tt_check "status --json without a session" ft_status_json "$T/s3.json"
# A connected FTP client, before its login: listed, on no session of ours.
ftp_client "$P2" "$T/c2.ready"
tt_check "its FTP session is listed, on session 0 (the login's own)" \
	fg_controls "$T/s4.json" "$FG2" "len(c) == 1 and c[0]['session'] == 0 and
	    c[0]['tunnel'].startswith('-L sftp/$P2 ') and
	    c[0]['ftp_server'].startswith('sftp:(FTP user)@127.0.0.1')"
touch "$T/c2.ready.done"
wait "$CLIENT"
tt_check "the foreground tunnel is still running" _tt_alive "$FG2"
kill "$FG2"

tt_done
