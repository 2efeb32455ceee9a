#!/bin/bash
# t_hostile.sh — hostile FTP peers through `ftp-tunnel -L ftp/`: a scripted
# server (helpers/hostile_ftpd.py, one misbehaviour per run) and a scripted
# client (helpers/hostile_ftpc.py) reached through a private sshd on
# loopback. Each case: the FTP session gets an error reply or proceeds
# correctly; ftp-tunnel keeps running; a real vsftpd transfer on a second
# tunnel of the same ftp-tunnel, running alongside, arrives sha256-equal;
# ftp-tunnel's descriptors return to their baseline (+2 of slack, polled
# for 5 s) and its VmRSS stays within baseline + RSS_SLACK_KB.
#
# What t_ftp_security.sh already covers is not repeated here: plain PORT /
# EPRT bounce to 127.0.0.2, 10.1.2.3 and ports 21/1023, a 227 with a
# number over 255, a 229 port of 99999, a 9000-byte line, AUTH TLS against
# vsftpd. Here: a 1 MiB line with no end, NUL, a 227 naming a third host
# (reachable and not), ports 0 and 65536, replies that never end, 10 000
# PASV, a connection flood on a data listener, obfuscated bounce commands
# (leading zeros, other EPRT delimiters, LPRT, IPv6), IAC and ABOR with
# urgent data, an unsolicited 234 and a TLS ClientHello after AUTH TLS.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init hostile
PY=$TT_PYTHON
H="$TT_LIB_DIR/helpers"
RSS_SLACK_KB=${RSS_SLACK_KB:-3072}
FD_SLACK=2

tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/big" 3M
chmod -R a+rX "$VSFTPD_PUB"
tt_mkfile "$T/payload" 200K
PAYLOAD_SIZE=$(stat -c %s "$T/payload")

HP=$(tt_free_port)   # the hostile server
LH=$(tt_free_port)   # tunnel to it
LV=$(tt_free_port)   # tunnel to vsftpd
HLOG="$T/hostile.log"
HPID=""

# hostile BEHAVIOUR: (re)start the scripted server on HP.
hostile() {
	[ -n "$HPID" ] && tt_kill "$HPID"
	: >"$HLOG"
	tt_spawn -o "$T/logs/hostile-$1.log" "$PY" "$H/hostile_ftpd.py" "$HP" "$1" "$HLOG" "$T/payload"
	HPID=$TT_PID
	tt_wait_until 100 _tt_greets "" 127.0.0.1 "$HP" || tt_die "hostile server ($1)"
}
hc() { "$PY" "$H/hostile_ftpc.py" 127.0.0.1 "$LH" "$@"; }
# val OUT KEY: the value hostile_ftpc printed for KEY.
val() { awk -F'\t' -v k="$2" '$1 == k { print $2; exit }' "$1"; }
is_err() { [[ $1 =~ ^[45][0-9][0-9]\  ]]; }

hostile normal
# One SSH connection: the baselines below count its descriptors and
# memory, and a further connection for the sessions that overlap here
# would come and go (t_connections tests those).
ft_tunnel -v -o Connections=1 -L "ftp/$LH:127.0.0.1:$HP" -L "ftp/$LV:127.0.0.1:$VSFTPD_PORT" \
	"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel"
tt_pass "tunnel up: -L ftp/$LH -> hostile server, -L ftp/$LV -> vsftpd"

nfds() { ls "/proc/$FT_PID/fd" 2>/dev/null | wc -l; }
rss() { ft_rss_kb "$FT_PID"; }

# Warm up both paths (first allocations, the SSH session's buffers), then
# take the baseline.
hc dataflood 1 "$PAYLOAD_SIZE" >"$T/warm.out" 2>&1
tt_check "warm-up: a good session with the scripted server gets its payload" \
	[ "$(val "$T/warm.out" full)" = 1 ]
curl -sS -o "$T/warm.big" "ftp://127.0.0.1:$LV/pub/big" &&
	tt_same "$VSFTPD_PUB/big" "$T/warm.big" "warm-up: vsftpd transfer"
sleep 0.5
BASE_FD=$(nfds)
BASE_RSS=$(rss)
tt_pass "baseline: $BASE_FD descriptors, VmRSS $BASE_RSS KiB (slack: +$FD_SLACK fds, +$RSS_SLACK_KB KiB)"

# Peaks while a case runs, sampled every 50 ms.
watch_start() {
	echo "0 0" >"$T/peak"
	(
		mf=0 mr=0
		while :; do
			f=$(nfds) r=$(rss)
			[ -n "$r" ] || exit 0
			[ "$f" -gt "$mf" ] && mf=$f
			[ "$r" -gt "$mr" ] && mr=$r
			# Renamed into place: a reader never sees it empty.
			echo "$mf $mr" >"$T/peak.new" && mv -f "$T/peak.new" "$T/peak"
			sleep 0.05
		done
	) &
	WATCH=$!
}
watch_stop() {
	kill "$WATCH" 2>/dev/null
	wait "$WATCH" 2>/dev/null
	read -r PEAK_FD PEAK_RSS <"$T/peak"
}

# case_begin NAME: a real transfer alongside (vsftpd, second tunnel, rate
# limited to last about a second) and the sampler.
case_begin() {
	CASE=$1
	rm -f "$T/along.big"
	curl -sS --max-time 60 --limit-rate 3M -o "$T/along.big" \
		"ftp://127.0.0.1:$LV/pub/big" >"$T/along.log" 2>&1 &
	ALONG=$!
	watch_start
}
# case_end: the tunnel, the transfer alongside, descriptors and memory.
case_end() {
	local f r
	wait "$ALONG"
	local arc=$?
	watch_stop
	tt_check "$CASE: ftp-tunnel still running" _tt_alive "$FT_PID"
	if [ "$arc" = 0 ] && tt_cmp "$VSFTPD_PUB/big" "$T/along.big"; then
		tt_pass "$CASE: the vsftpd transfer alongside arrived sha256-equal"
	else
		tt_fail "$CASE: the vsftpd transfer alongside (curl exit $arc): $(tail -2 "$T/along.log")"
	fi
	tt_wait_until 50 eval '[ "$(nfds)" -le $((BASE_FD + FD_SLACK)) ]'
	f=$(nfds)
	r=$(rss)
	tt_check "$CASE: descriptors back to $f (baseline $BASE_FD, peak $PEAK_FD)" \
		[ "$f" -le $((BASE_FD + FD_SLACK)) ]
	tt_check "$CASE: VmRSS $r KiB (baseline $BASE_RSS, peak $PEAK_RSS)" \
		[ "$r" -le $((BASE_RSS + RSS_SLACK_KB)) ]
}

# ---- overlong line, NUL ---------------------------------------------------

group_longline() {
	hostile longline
	case_begin "1 MiB reply line without an end"
	hc cmds "USER a" "PASS x" NOOP NOOP >"$T/long.out" 2>&1
	r=$(val "$T/long.out" NOOP)
	tt_check "$CASE: the client gets '$r' within $(val "$T/long.out" took) s" \
		eval 'is_err "$r" && [ "$(val "$T/long.out" took | cut -d. -f1)" -lt 5 ]'
	tt_check "$CASE: none of the line reached the client" tt_quiet bash -c "! grep -q xxxxxxxx '$T/long.out'"
	case_end

	hostile nul
	case_begin "NUL byte in a reply"
	hc cmds "USER a" "PASS x" NOOP TYPE\ I >"$T/nul.out" 2>&1
	r=$(val "$T/nul.out" NOOP)
	tt_check "$CASE: the client gets '$r', then the session ends ($(val "$T/nul.out" "TYPE I"))" \
		eval 'is_err "$r" && [ "$(val "$T/nul.out" "TYPE I" | cut -c1-3)" = EOF ]'
	tt_check "$CASE: nothing after the NUL reached the client" tt_quiet bash -c "! grep -q injected '$T/nul.out'"
	case_end
}

# ---- 227 naming a third host ------------------------------------------------

group_thirdhost() {
	hostile thirdhost
	case_begin "227 naming a third host (127.0.0.3)"
	# The data connection goes to the control connection's server (127.0.0.1)
	# at the reply's port, where nothing listens: the third host is never
	# reached (FtpPassiveAddress=reply, t_ftp_security (e), would go there).
	hc dataflood 1 "$PAYLOAD_SIZE" >"$T/third.out" 2>&1
	r=$(val "$T/third.out" pasv)
	tt_check "$CASE: the client is told the tunnel's address: '$r'" grep -q '(127,0,0,1,' <<<"$r"
	tt_check "$CASE: the data connection is closed with nothing ($(val "$T/third.out" zero) of 1)" \
		eval '[ "$(val "$T/third.out" zero)" = 1 ] && [ "$(val "$T/third.out" still_open)" = 0 ]'
	tt_check "$CASE: the third host got no data connection ($(grep DATA "$HLOG"))" \
		tt_quiet bash -c "! grep -q '^DATA' '$HLOG'"
	r=$(val "$T/third.out" noop)
	tt_check "$CASE: the session goes on ($(val "$T/third.out" end); NOOP: '$r')" [ "${r:0:4}" = "200 " ]
	case_end

	hostile thirdhost-closed
	case_begin "227 naming a third host where nothing listens"
	hc dataflood 1 "$PAYLOAD_SIZE" >"$T/third2.out" 2>&1
	tt_check "$CASE: the data connection is closed with nothing ($(val "$T/third2.out" zero) of 1, $(val "$T/third2.out" took) s)" \
		eval '[ "$(val "$T/third2.out" zero)" = 1 ] && [ "$(val "$T/third2.out" still_open)" = 0 ]'
	r=$(val "$T/third2.out" noop)
	tt_check "$CASE: the session goes on ($(val "$T/third2.out" end); NOOP: '$r')" [ "${r:0:4}" = "200 " ]
	case_end
}

# ---- ports 0 and 65536 --------------------------------------------------------

group_ports() {
	for b in port0 port65536; do
		hostile "$b"
		for c in PASV EPSV; do
			case_begin "$b: $c"
			hc cmds "USER a" "PASS x" "$c" NOOP >"$T/$b-$c.out" 2>&1
			r=$(val "$T/$b-$c.out" "$c")
			tt_check "$CASE: the client gets '$r'" is_err "$r"
			tt_check "$CASE: the bad port never reaches the client" \
				tt_quiet bash -c "! grep -v '^greeting' '$T/$b-$c.out' | grep -q -E '256,0|65536|\\|\\|\\|0\\||,0,0\\)'"
			case_end
		done
	done
}

# ---- replies that never end ---------------------------------------------------

group_noend() {
	hostile noend
	case_begin "a multi-line reply that never ends"
	hc noend 4 >"$T/noend.out" 2>&1 &
	hcpid=$!
	# VmRSS while the reply streams through (the transfer alongside is over).
	mid=0
	for i in 1 2 3 4 5 6; do
		sleep 0.5
		r=$(rss)
		[ "${r:-0}" -gt "$mid" ] && mid=$r
	done
	wait "$hcpid"
	n=$(val "$T/noend.out" bytes)
	tt_check "$CASE: passed on ($n B read), with bounded memory (VmRSS up to $mid KiB meanwhile)" \
		eval '[ "${n:-0}" -gt 100000 ] && [ "$mid" -le $((BASE_RSS + RSS_SLACK_KB)) ]'
	case_end
	case_begin "a 227- reply that never ends"
	hc cmds "USER a" "PASS x" PASV NOOP >"$T/noend227.out" 2>&1
	r=$(val "$T/noend227.out" PASV)
	tt_check "$CASE: the client gets '$r' within $(val "$T/noend227.out" took) s" \
		eval 'is_err "$r" && [ "$(val "$T/noend227.out" took | cut -d. -f1)" -lt 5 ]'
	case_end
}

# ---- 10 000 PASV, a flood on a data listener ------------------------------------

group_pasvflood() {
	hostile pasvflood
	case_begin "10000 PASV without data connections"
	hc pasvflood 10000 >"$T/pasv.out" 2>&1
	tt_check "$CASE: all answered with the tunnel's address ($(val "$T/pasv.out" pasv_ok), $(val "$T/pasv.out" took) s)" \
		[ "$(val "$T/pasv.out" pasv_ok)" = 10000 ]
	tt_check "$CASE: ... then NOOP: $(val "$T/pasv.out" noop)" [ "$(val "$T/pasv.out" noop | cut -c1-4)" = "200 " ]
	read -r pf _ <"$T/peak"
	tt_check "$CASE: never more than one unused listener (peak $pf descriptors so far)" \
		[ "$pf" -le $((BASE_FD + 8)) ]
	tt_check "$CASE: the server saw them all" [ "$(grep -c "^b'PASV" "$HLOG")" -eq 10000 ]
	case_end
}

group_dataflood() {
	hostile normal
	case_begin "200 connections at once to a data listener"
	hc dataflood 200 "$PAYLOAD_SIZE" >"$T/flood.out" 2>&1
	tt_check "$CASE: one got the whole payload, none part of it ($(paste -sd' ' "$T/flood.out" | tr '\t' '='))" \
		eval '[ "$(val "$T/flood.out" full)" = 1 ] && [ "$(val "$T/flood.out" partial)" = 0 ]'
	tt_check "$CASE: the 199 others refused or closed empty" \
		eval '[ "$(val "$T/flood.out" zero)" = 199 ] && [ "$(val "$T/flood.out" still_open)" = 0 ]'
	tt_check "$CASE: the session goes on: $(val "$T/flood.out" end) / $(val "$T/flood.out" noop)" \
		eval '[ "$(val "$T/flood.out" end | cut -c1-3)" = 226 ] && [ "$(val "$T/flood.out" noop | cut -c1-3)" = 200 ]'
	tt_check "$CASE: the server saw one data connection" [ "$(grep -c '^DATA' "$HLOG")" -eq 1 ]
	case_end
}

# ---- bounce in other spellings -------------------------------------------------

group_bounce() {
	hostile bounce
	BOUNCE=(
		"PORT 127,0,0,002,15,160"          # leading zeros: 127.0.0.2
		"PORT 127,000,000,001,0,21"        # the client, port 21, zero-padded
		"PORT  10,1,2,3,15,160"            # two spaces
		"PORT 127,0,0,1,0,0"               # port 0
		"EPRT !1!10.1.2.3!4000!"           # another delimiter (RFC 2428 allows it)
		"EPRT |2|::2|4000|"                # another IPv6 host
		"EPRT |1|127.0.0.1|0|"             # port 0
		"LPRT 4,4,10,1,2,3,2,15,160"       # RFC 1639, never rewritten
		"eprt |1|127.0.0.3|4000|"
	)
	case_begin "bounce in other spellings"
	hc cmds "USER a" "PASS x" "${BOUNCE[@]}" NOOP >"$T/bounce.out" 2>&1
	for c in "${BOUNCE[@]}"; do
		r=$(val "$T/bounce.out" "$c")
		tt_check "$CASE: '$c' -> '$r'" is_err "$r"
	done
	r=$(val "$T/bounce.out" NOOP)
	tt_check "$CASE: the session goes on: NOOP -> '$r'" [ "${r:0:4}" = "200 " ]
	tt_check "$CASE: none reached the server ($(grep -i -E 'PORT|EPRT' "$HLOG" | paste -sd' '))" \
		tt_quiet bash -c "! grep -q -i -E \"^b'(PORT|EPRT|LPRT)\" '$HLOG'"
	case_end
}

# ---- IAC and ABOR with urgent data -------------------------------------------------

group_iac() {
	hostile iac
	case_begin "IAC IP, IAC DM (urgent) ABOR mid-transfer"
	hc abor >"$T/abor.out" 2>&1
	tt_check "$CASE: the transfer was running ($(val "$T/abor.out" retr), $(val "$T/abor.out" before_abor))" \
		grep -q '^retr	150' "$T/abor.out"
	tt_check "$CASE: ABOR answered: $(val "$T/abor.out" abor1) / $(val "$T/abor.out" abor2)" \
		eval '[ "$(val "$T/abor.out" abor1 | cut -c1-3)" = 426 ] && [ "$(val "$T/abor.out" abor2 | cut -c1-3)" = 226 ]'
	# The urgent byte (DM) is kept in the stream (SO_OOBINLINE): the server
	# gets the whole Telnet sequence, as from a direct client.
	tt_check "$CASE: the server got IAC IP IAC DM ABOR ($(grep ABOR "$HLOG"))" \
		grep -q -x -F "b'\\xff\\xf4\\xff\\xf2ABOR\\r\\n'" "$HLOG"
	r=$(val "$T/abor.out" noop)
	tt_check "$CASE: a reply with IAC bytes passes unchanged: '$r'" \
		[ "$r" = '200 \xff\xfb\x01 NOOP \xff\xff ok' ]
	case_end
}

# ---- AUTH TLS ----------------------------------------------------------------

group_authtls() {
	hostile authtls
	case_begin "AUTH TLS with a ClientHello behind it"
	hc tls >"$T/tls.out" 2>&1
	r=$(val "$T/tls.out" auth)
	tt_check "$CASE: AUTH TLS -> '$r'" [ "${r:0:4}" = "534 " ]
	r="$(val "$T/tls.out" after) / $(val "$T/tls.out" noop)"
	tt_check "$CASE: the ClientHello gets an error or ends the session: '$r'" \
		eval '[[ "$r" =~ ^([45][0-9][0-9]\ |EOF|TIMEOUT) ]]'
	tt_check "$CASE: neither AUTH nor TLS bytes reached the server" \
		tt_quiet bash -c "! grep -q -E \"^b'(AUTH|.x16.x03)\" '$HLOG'"
	case_end
	case_begin "an unsolicited 234 from the server"
	hc cmds "USER a" "PASS x" FEAT PASV NOOP >"$T/234.out" 2>&1
	r=$(val "$T/234.out" PASV)
	tt_check "$CASE: rewriting goes on: PASV -> '$r'" grep -q '^227 .*(127,0,0,1,' <<<"$r"
	r=$(val "$T/234.out" NOOP)
	tt_check "$CASE: ... and the session: NOOP -> '$r'" [ "${r:0:4}" = "200 " ]
	case_end
}

# TT_HOSTILE_ONLY=regex runs only the groups of cases whose name matches
# (grep -E), e.g. to repeat one in a loop: TT_HOSTILE_ONLY=dataflood.
for g in longline thirdhost ports noend pasvflood dataflood bounce iac authtls; do
	[[ $g =~ ${TT_HOSTILE_ONLY:-.} ]] && "group_$g"
done

grep -E 'ending the FTP session|refused a data' "$FT_LOG" | sort | uniq -c | sort -rn | head -20 | sed 's/^/# tunnel: /' >&2
tt_done
