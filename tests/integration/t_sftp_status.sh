#!/bin/bash
# t_sftp_status.sh — `ftp-tunnel status` and a foreground `-L sftp/`
# tunnel: with SftpLogin=tunnel it lists the tunnel and its SSH session;
# with SftpLogin=ftp alone the process has no SSH session of its own
# (each FTP login makes one) and status still lists it, its tunnel and
# no session, without the foreground process failing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init sftp_status

TT_SSHD_EXTRA="Subsystem sftp internal-sftp" tt_sshd || tt_die "sshd"
FT="$TT_BUILD/ftp-tunnel"
ft_daemon_env
DEST="$SSH_USER@127.0.0.1:$SSHD_PORT"

# SftpLogin=tunnel: ftp-tunnel's own SSH session serves the FTP logins.
P1=$(tt_free_port)
ft_tunnel -L "sftp/$P1" "$DEST" || tt_die "-L sftp/ (SftpLogin=tunnel)"
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
tt_check "the foreground tunnel is still running" _tt_alive "$FG2"
kill "$FG2"

tt_done
