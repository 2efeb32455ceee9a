#!/bin/bash
# t_connections.sh — ftp-tunneld with Connections=2: FTP sessions that run
# at the same time spread over two SSH connections to the same server
# (each on its own worker thread), a third joins the one carrying fewer,
# every file arrives whole (passive and active), and once the sessions
# end a new one reuses an idle connection instead of opening a third.
# Then, against an sshd that lets the key in on its first connection
# only: the daemon's second session falls back to the first connection,
# warns once, and a third makes no further login attempt. And
# ftp-tunnel -L ftp/: two concurrent sessions use two SSH connections by
# default, one with Connections=1, and both complete when the second
# login fails.
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

# sessions_are "N M ...": the sorted counts of controls per live session.
sessions_are() {
	ft_status_json "$T/s.json" && python3 - "$T/s.json" "$1" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
per = {x["id"]: 0 for x in s["sessions"]}
for c in s["controls"]:
    per[c["session"]] = per.get(c["session"], 0) + 1
sys.exit(0 if sorted(per.values()) == sorted(map(int, sys.argv[2].split())) else 1)
EOF
}

# The downloads whose sessions the checks count are read slowly until
# the checks are done, then at full speed (helpers/gated_retr.py): a
# rate-limited download could end first on a loaded machine.
GATED="$TT_LIB_DIR/helpers/gated_retr.py"
GATE_N=1
open_gate() { # lets the downloads started so far run to their end
	: >"$T/gate.$GATE_N"
	GATE_N=$((GATE_N + 1))
}
# Three downloads, started one after another.
get() { # get NAME FILE [--ftp-port]: a gated download into $T/NAME
	local name=$1 file=$2 mode=pasv
	[ "${3:-}" = --ftp-port ] && mode=port
	"${WRAP[@]}" python3 "$GATED" "$VSFTPD_PORT" "pub/$file" "$T/$name" \
		"$mode" "$T/gate.$GATE_N" 2>"$T/$name.err" &
	tt_track $!
	eval "pid_$name=\$!"
}
get g1 big
tt_wait_until 100 sessions_are "1"
get g2 big --ftp-port
tt_wait_until 100 sessions_are "1 1"
tt_check "two sessions at once: two SSH connections, one each" sessions_are "1 1"
get g3 big
tt_wait_until 100 sessions_are "1 2"
tt_check "a third joins one of the two (Connections=2)" sessions_are "1 2"
sed 's/^/      | /' "$T/s.json" | head -60

open_gate
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
	ft_status_json "$T/s2.json" &&
		python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["sessions"]))' "$T/s2.json"
}
n=$(count_sessions)
tt_check "it reused an idle connection ($n sessions)" [ "$n" = 2 ]
tt_check "each connection logged in once" \
	[ "$(grep -c "sess $SSH_USER@127\.0\.0\.1:$SSHD_PORT: connected" "$FTP_TUNNEL_LOG")" = 2 ]

stop_daemon() { # stop_daemon STATUS_JSON: stop the daemon it names
	local dp out
	dp=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["daemon"]["pid"])' "$1" 2>/dev/null)
	[ -n "$dp" ] && tt_track "$dp"
	out=$("$FT" stop 2>&1)
	tt_check "stop: \"$out\"" eval '[ -n "$dp" ] && ! _tt_alive "$dp"'
}
stop_daemon "$T/s2.json"

# --- an sshd that accepts the key on its first connection only ---------
# sshd runs AuthorizedKeysCommand only from a root-owned path that no
# group or other may write (so not under /tmp). It runs from the
# connection's own sshd process: its PPID names the connection.
AKC=$(mktemp -d /run/ftt-akc.XXXXXX) || tt_die "mktemp /run"
tt_rmdir_at_exit "$AKC"
chmod 755 "$AKC"
cp "$SSH_KEY_PUB" "$AKC/keys"
: >"$AKC/first"
cat >"$AKC/keys.sh" <<EOF
#!/bin/sh
# The connection that asks first is the only one let in (until reset).
[ -s "$AKC/first" ] || echo "\$PPID" >"$AKC/first"
[ "\$(cat "$AKC/first")" = "\$PPID" ] && cat "$AKC/keys"
exit 0
EOF
chmod 755 "$AKC/keys.sh"
AKC_PORT=$(tt_free_port)
sed -e "s/^Port .*/Port $AKC_PORT/" -e "s|^PidFile .*|PidFile $AKC/sshd.pid|" \
	-e "s|^AuthorizedKeysFile .*|AuthorizedKeysFile none\nAuthorizedKeysCommand $AKC/keys.sh\nAuthorizedKeysCommandUser root|" \
	"$SSHD_CONFIG" >"$AKC/sshd_config"
kt=$(cut -d' ' -f1,2 "$SSHD_HOSTKEY_PUB")
echo "[127.0.0.1]:$AKC_PORT $kt" >>"$SSH_KNOWN_HOSTS"
AKC_LOG="$T/logs/sshd-akc.log"
tt_spawn -o "$AKC_LOG" "$TT_SSHD_BIN" -D -e -f "$AKC/sshd_config"
tt_wait_port "$AKC_PORT" || tt_die "akc sshd"
attempts() { grep -c "Connection from" "$AKC_LOG"; }

# The daemon: the second session's extra connection cannot log in.
WRAP=("$TT_BUILD/ftp-tunnel-wrap" --via "$SSH_USER@127.0.0.1:$AKC_PORT"
	--ports "$VSFTPD_PORT" -i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS"
	-o Connections=2)
: >"$FTP_TUNNEL_LOG"
get d1 big
tt_wait_until 100 sessions_are "1"
get d2 big --ftp-port
tt_wait_until 150 sessions_are "2"
tt_check "a failed second login: both sessions on the first connection" sessions_are "2"
tt_check "the daemon warns about it" \
	grep -q "a further SSH connection to the same server failed.*Connections=1" "$FTP_TUNNEL_LOG"
n1=$(attempts)
get d3 big
tt_wait_until 100 sessions_are "3"
tt_check "a third session: on the first connection too" sessions_are "3"
n2=$(attempts)
tt_check "and no further login attempt ($n1 then $n2 connections to sshd)" [ "$n1" = "$n2" ]
tt_check "one warning" [ "$(grep -c "a further SSH connection" "$FTP_TUNNEL_LOG")" = 1 ]
open_gate
for n in d1 d2 d3; do
	eval "p=\$pid_$n"
	wait "$p"
	r=$?
	tt_check "$n: exit $r, the file whole" tt_cmp "$VSFTPD_PUB/big" "$T/$n"
done
ft_status_json "$T/s3.json"
stop_daemon "$T/s3.json"

# --- ftp-tunnel -L ftp/ ---------------------------------------------------
# ssh_conns PID PORT: ESTABLISHED TCP connections of PID to PORT.
ssh_conns() {
	ss -Htnp state established "( dport = :$2 )" | grep -c "pid=$1,"
}
lget() { # lget NAME PORT: a gated download through the tunnel
	python3 "$GATED" "$2" pub/big "$T/$1" pasv "$T/gate.$GATE_N" \
		2>"$T/$1.err" &
	tt_track $!
	eval "pid_$1=\$!"
}
all_whole() { # all_whole NAME...: let the downloads end, compare them
	local n p r
	open_gate
	for n in "$@"; do
		eval "p=\$pid_$n"
		wait "$p"
		r=$?
		tt_check "$n: exit $r, the file whole" tt_cmp "$VSFTPD_PUB/big" "$T/$n"
	done
}
started() { [ -s "$T/$1" ] && [ -s "$T/$2" ]; }
conns_at_least() { [ "$(ssh_conns "$1" "$2")" -ge "$3" ]; }
# Connections unset is automatic: one per core, at most 4 (at least 2
# here, for the test's sake).
auto=()
[ "$(nproc)" -ge 2 ] || auto=(-o Connections=2)

LP=$(tt_free_port)
ft_tunnel "${auto[@]}" -L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" \
	"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel"
lget l1 "$LP"
tt_wait_until 100 started l1 l1
lget l2 "$LP"
tt_wait_until 100 conns_at_least "$FT_PID" "$SSHD_PORT" 2
tt_check "-L: two sessions at once, two SSH connections" \
	[ "$(ssh_conns "$FT_PID" "$SSHD_PORT")" = 2 ]
all_whole l1 l2
tt_kill "$FT_PID"

LP=$(tt_free_port)
ft_tunnel -o Connections=1 -L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" \
	"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel"
lget m1 "$LP"
tt_wait_until 100 started m1 m1
lget m2 "$LP"
tt_wait_until 100 started m1 m2
sleep 1
tt_check "-L with Connections=1: one SSH connection" \
	[ "$(ssh_conns "$FT_PID" "$SSHD_PORT")" = 1 ]
all_whole m1 m2
tt_kill "$FT_PID"

: >"$AKC/first"
LP=$(tt_free_port)
ft_tunnel "${auto[@]}" -L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" \
	"$SSH_USER@127.0.0.1:$AKC_PORT" || tt_die "tunnel"
lget f1 "$LP"
tt_wait_until 100 started f1 f1
a1=$(attempts)
lget f2 "$LP"
tt_wait_until 100 started f1 f2
tt_check "-L, second login refused: it was tried ($a1 then $(attempts) connections)" \
	[ "$(attempts)" -gt "$a1" ]
tt_check "-L, second login refused: both on one SSH connection" \
	[ "$(ssh_conns "$FT_PID" "$AKC_PORT")" = 1 ]
all_whole f1 f2
tt_check "-L warns about it" grep -q "a further SSH connection to the same server failed" "$FT_LOG"
tt_kill "$FT_PID"
tt_done
