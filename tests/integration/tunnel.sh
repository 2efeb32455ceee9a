#!/bin/bash
# tunnel.sh — starting ftp-tunnel itself in the integration tests (sourced
# after lib.sh): ft_tunnel waits for the READY line on --ready-fd instead of
# sleeping, and registers the process for cleanup.

TT_FT_BIN=${TT_FT_BIN:-$TT_BUILD/ftp-tunnel}

# ft_tunnel [-n NETNS] [-e] ARGS...: run ftp-tunnel with the test key and
# known_hosts of the last tt_sshd, plus ARGS (ending with the destination),
# and wait until every tunnel is up. Sets FT_PID, FT_LOG, FT_READY (the
# ready file: "PORT n" lines for -R with port 0). With -e, ARGS are the
# whole argument list (no key or known_hosts added).
ft_tunnel() {
	local ns="" bare=0 i
	while :; do
		case ${1:-} in
		-n) ns=$2; shift 2 ;;
		-e) bare=1; shift ;;
		*) break ;;
		esac
	done
	FT_READY=$(mktemp "$T/logs/ready.XXXX")
	FT_LOG=$(mktemp "$T/logs/ftp-tunnel.XXXX.log")
	local pre=()
	[ "$bare" = 1 ] || pre=(-i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS"
		-o StrictHostKeyChecking=yes -o BatchMode=yes)
	exec 7>"$FT_READY"
	tt_spawn -o "$FT_LOG" ${ns:+-n "$ns"} setsid "$TT_FT_BIN" --ready-fd 7 "${pre[@]}" "$@"
	exec 7>&-
	FT_PID=$TT_PID
	for i in $(seq "$TT_READY_TENTHS"); do
		grep -q '^READY' "$FT_READY" 2>/dev/null && return 0
		_tt_alive "$FT_PID" || break
		sleep 0.1
	done
	echo "ft_tunnel: ftp-tunnel did not come up:" >&2
	cat "$FT_LOG" >&2
	return 1
}

# ft_run_fail EXPECT_RC PATTERN ARGS...: run ftp-tunnel (no terminal) in the
# foreground with ARGS; pass if it exits with EXPECT_RC within 20 s and
# prints exactly one line on stderr matching PATTERN (grep -E). FT_WHAT,
# if set, starts the check's message (e.g. "finding 9: ..."), so the
# case is named by what it proves rather than by the error it expects.
ft_run_fail() {
	local want=$1 pat=$2 out rc
	shift 2
	out=$(mktemp "$T/logs/fail.XXXX")
	timeout 20 setsid -w "$TT_FT_BIN" "$@" </dev/null >/dev/null 2>"$out"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		tt_fail "${FT_WHAT:+$FT_WHAT: }exit $rc (want $want) for: $*: $(head -3 "$out")"
		return 1
	fi
	if [ "$(wc -l <"$out")" -ne 1 ] || ! grep -Eq "$pat" "$out"; then
		tt_fail "${FT_WHAT:+$FT_WHAT: }message for: $*: want one line like /$pat/, got: $(cat "$out")"
		return 1
	fi
	tt_pass "${FT_WHAT:+$FT_WHAT: }exit $want, one line: $(cut -c1-110 "$out")"
}

# ft_daemon_env: a private ftp-tunneld for the shim, started on demand:
# its socket in $T/run, the build's daemon and shim, its log in
# $T/daemon.log (shown when the test fails); WRAP the wrapper routing
# $VSFTPD_PORT through the test's sshd, with any extra arguments given.
ft_daemon_env() {
	export FTP_TUNNEL_SOCKET="$T/run/daemon.sock"
	export FTP_TUNNELD="$TT_BUILD/ftp-tunneld" FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
	export FTP_TUNNEL_LOG="$T/daemon.log"
	mkdir -p "$T/run" && chmod 700 "$T/run"
	tt_log_add daemon.log "$FTP_TUNNEL_LOG"
	WRAP=("$TT_BUILD/ftp-tunnel-wrap" --via "$SSH_USER@127.0.0.1:$SSHD_PORT"
		--ports "$VSFTPD_PORT" -i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" "$@")
}

# ft_status_json FILE: `ftp-tunnel status --json` into FILE; fails unless
# python3's json module takes it.
ft_status_json() {
	"$TT_BUILD/ftp-tunnel" status --json >"$1" 2>"$1.err" &&
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1"
}

# ft_reply_of OUT KEY: the value a helper (theft_client.py) printed for
# KEY, as "KEY<TAB>value" lines.
ft_reply_of() { awk -F'\t' -v c="$2" '$1 == c { print $2; exit }' "$1"; }

# ft_theft_verdict TAG DIR LOG REFUSED BEFORE FILE: the checks after one
# attempt to take a data listener's connection (helpers/theft_client.py
# and theft_thief.py, their output in DIR): the thief got no byte and was
# cut at once, LOG has more lines matching REFUSED than BEFORE, the
# client's own data connection came after with 226 and FILE's bytes, and a
# second connection to the listener was refused.
ft_theft_verdict() {
	local tag=$1 d=$2 log=$3 refused=$4 before=$5 file=$6 r
	tt_check "$tag: the thief on the data port: '$(paste -sd' ' "$d/thief.out")'" \
		bash -c "grep -q '^connected' '$d/thief.out' && grep -q -E '^(EOF|Connection reset by peer) after 0 bytes, 0\.[0-4]' '$d/thief.out'"
	tt_check "$tag: the tunnel logged the refused connection" \
		[ "$(grep -c "$refused" "$log")" -gt "$before" ]
	tt_check "$tag: the client's own data connection was accepted after that" \
		grep -q '^connected.yes' "$d/legit.out"
	tt_check "$tag: 226 and the whole file for the client ($(ft_reply_of "$d/legit.out" bytes) B)" \
		bash -c "grep -q '^end	226' '$d/legit.out' && cmp -s '$file' '$d/file'"
	r=$(ft_reply_of "$d/legit.out" second)
	tt_check "$tag: a second connection to the listener: $r" \
		bash -c "case '$r' in refused*|'accepted, then EOF after 0.0'*|'accepted, then Connection reset'*) exit 0 ;; *) exit 1 ;; esac"
}

# ft_rss_kb PID: resident memory of PID in KiB. Under make check-asan
# (TT_SANITIZED=1) it is 0: ASan's shadow memory and quarantine make the
# figure meaningless there, so memory checks count in make check only.
ft_rss_kb() {
	if [ "${TT_SANITIZED:-0}" = 1 ]; then echo 0; return; fi
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

# ft_transfer LABEL NETNS CLIENT MODE OP HOST PORT PUB UPLOAD: one get of
# PUB/f (into $T/got) or put of $T/up (as upload/LABEL-CLIENT-MODE) with
# tt_ftp in NETNS, through whatever TT_FTP_WRAP sets up; passes when the
# client succeeded and the file arrived sha256-equal, else fails with the
# end of the client's log. Returns 1 when the client can't do OP in MODE.
ft_transfer() {
	local label=$1 ns=$2 c=$3 m=$4 op=$5 host=$6 port=$7 pub=$8 upload=$9
	local rc same
	tt_ftp_supports "$c" "$m" "$op" "$host" || return 1
	rm -f "$T/got" "$upload/$label-$c-$m"
	case $op in
	get)
		tt_ftp -n "$ns" "$c" "$m" get "$host" "$port" pub/f "$T/got"
		rc=$?
		tt_cmp "$pub/f" "$T/got"
		;;
	put)
		tt_ftp -n "$ns" "$c" "$m" put "$host" "$port" "upload/$label-$c-$m" "$T/up"
		rc=$?
		tt_cmp "$T/up" "$upload/$label-$c-$m"
		;;
	esac
	same=$?
	if [ "$rc" = 0 ] && [ "$same" = 0 ]; then
		tt_pass "$label: $c $m $op (sha256 equal)"
	else
		tt_fail "$label: $c $m $op (exit $rc)"
		tail -n 6 "$TT_FTP_LOG" | sed 's/^/      | /'
	fi
	return 0
}
