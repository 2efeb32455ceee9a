#!/bin/bash
# t_connections.sh — ftp-tunneld with Connections=2: FTP sessions that run
# at the same time spread over two SSH connections to the same server
# (each on its own worker thread), a third joins the one carrying fewer,
# every file arrives whole (passive and active), and once the sessions
# end a new one reuses an idle connection instead of opening a third.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init connections
tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/big" 32M
tt_mkfile "$VSFTPD_PUB/small" 300K
FT="$TT_BUILD/ftp-tunnel"
ft_daemon_env -o Connections=2
URL="ftp://127.0.0.1:$VSFTPD_PORT/pub"

status_json() {
	"$FT" status --json >"$1" 2>"$1.err" &&
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1"
}
# sessions_are "N M ...": the sorted counts of controls per live session.
sessions_are() {
	status_json "$T/s.json" && python3 - "$T/s.json" "$1" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
per = {x["id"]: 0 for x in s["sessions"]}
for c in s["controls"]:
    per[c["session"]] = per.get(c["session"], 0) + 1
sys.exit(0 if sorted(per.values()) == sorted(map(int, sys.argv[2].split())) else 1)
EOF
}

# Three downloads at 2 MB/s (about 16 s each), started one after another.
get() { # get NAME FILE [curl args]: a rate-limited download into $T/NAME
	local name=$1 file=$2
	shift 2
	"${WRAP[@]}" curl -q -sS --max-time 90 --limit-rate 2M "$@" \
		-o "$T/$name" "$URL/$file" 2>"$T/$name.err" &
	tt_track $!
	eval "pid_$name=\$!"
}
get g1 big
tt_wait_until 100 sessions_are "1"
get g2 big --ftp-port -
tt_wait_until 100 sessions_are "1 1"
tt_check "two sessions at once: two SSH connections, one each" sessions_are "1 1"
get g3 big
tt_wait_until 100 sessions_are "1 2"
tt_check "a third joins one of the two (Connections=2)" sessions_are "1 2"
sed 's/^/      | /' "$T/s.json" | head -60

for n in g1 g2 g3; do
	eval "p=\$pid_$n"
	wait "$p"
	r=$?
	tt_check "$n: exit $r, the file whole" tt_cmp "$VSFTPD_PUB/big" "$T/$n"
done

# Idle connections stay (until the idle timeout): a new session takes one.
"${WRAP[@]}" curl -q -sS --max-time 30 -o "$T/g4" "$URL/small" 2>"$T/g4.err"
tt_check "a later session: the file whole" tt_cmp "$VSFTPD_PUB/small" "$T/g4"
count_sessions() {
	status_json "$T/s2.json" &&
		python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["sessions"]))' "$T/s2.json"
}
n=$(count_sessions)
tt_check "it reused an idle connection ($n sessions)" [ "$n" = 2 ]
tt_check "each connection logged in once" \
	[ "$(grep -c "sess $SSH_USER@127\.0\.0\.1:$SSHD_PORT: connected" "$FTP_TUNNEL_LOG")" = 2 ]

dp=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["daemon"]["pid"])' "$T/s2.json" 2>/dev/null)
[ -n "$dp" ] && tt_track "$dp"
out=$("$FT" stop 2>&1)
tt_check "stop: \"$out\"" eval '[ -n "$dp" ] && ! _tt_alive "$dp"'
tt_done
