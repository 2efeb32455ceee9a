#!/bin/bash
# clients.sh — drivers that run real, unmodified FTP clients
# non-interactively for the integration tests (sourced by lib.sh).
#
#   tt_ftp [-n NETNS] CLIENT MODE OP HOST PORT REMOTE LOCAL
#   tt_ftp_supports CLIENT MODE OP [HOST]
#
# CLIENT: curl lftp tnftp inetutils wget ftplib ncftp
# MODE:   pasv epsv port eprt (the data-connection command the client is
#         made to send; see the table below)
# OP:     get   download REMOTE (a file path) to the file LOCAL
#         put   upload the file LOCAL to REMOTE (a file path)
#         ls    LIST the directory REMOTE into the file LOCAL
#         mget  download every file of the directory REMOTE into the
#               directory LOCAL, in one FTP session where the client can
# HOST:   an address; an IPv6 literal (::1) is bracketed where needed.
# REMOTE: relative to the login directory (the anonymous root), e.g.
#         pub/f1; a leading / is ignored.
#
# Environment: TT_FTP_USER/TT_FTP_PASS (anonymous), TT_FTP_TIMEOUT (60 s
# per run), TT_FTP_WRAP (a command prefix, e.g. "ftp-tunnel-wrap" or
# "env LD_PRELOAD=..."), HOME is $T/home for every client (no user
# configuration is read or written). Each run appends its command line and
# the client's own output (verbose: the protocol exchange) to a new log
# file, TT_FTP_LOG. tt_ftp returns the client's status (124: timeout);
# for tnftp and inetutils-ftp, whose scripted sessions exit 0 whatever
# happened, it returns 1 unless the server confirmed every transfer.
#
# What each (client, mode) sends, read from the servers' command logs
# (vsftpd log_ftp_protocol, proftpd ExtendedLog); t_fixtures_direct.sh
# checks it again on every run, with tt_wire_only. "-" = impossible:
# tt_ftp_supports says no and tests count the cell as skipped.
#
#   IPv4 control connection (one command per data connection, no other):
#   client     pasv   epsv            port   eprt
#   curl       PASV   EPSV            PORT   EPRT |1|
#   lftp       PASV   EPSV            PORT   -   (lftp has EPRT on IPv6 only)
#   tnftp      PASV   EPSV            PORT   EPRT |1|
#   inetutils  PASV   EPSV            PORT   EPRT |1|
#   wget       PASV   -               PORT   -   (EPSV/EPRT on IPv6 only)
#   ftplib     PASV   EPSV (forced)   PORT   EPRT |1| (forced)
#   ncftp      PASV   -               PORT   -
#
#   IPv6 control connection (HOST ::1): pasv and port cannot name an IPv6
#   address, so those cells are "-"; ncftp has no IPv6 at all.
#   client     epsv     eprt
#   curl       EPSV     EPRT |2|::1|p|
#   lftp       EPSV     EPRT |2|::|p|  <- the unspecified address ::, on a
#                       loopback control connection; vsftpd accepts it (and
#                       connects to ::, i.e. this host), proftpd and
#                       pure-ftpd refuse it (tt_ftp_known_broken)
#   tnftp      EPSV     EPRT |2|::1|p|
#   inetutils  EPSV     EPRT |2|::1|p|
#   wget       EPSV 2   EPRT |2|::1|p|
#   ftplib     EPSV     EPRT |2|::1|p|
#
# Listing commands (vsftpd's log): ls is "LIST <dir>" (lftp, tnftp,
# inetutils, ftplib), CWD then "LIST" (curl, ncftpls) or "LIST -a" (wget).
# mget: tnftp and inetutils CWD <dir>, "NLST *", RETR each; ncftp
# "NLST <dir>/*"; ftplib "NLST <dir>"; lftp and wget LIST; curl is two
# sessions: NLST, then every RETR on one reused connection (curl 7.88 then
# often stalls 1 s before a passive data connect: its own timer, seen
# without any tunnel; don't time curl's mget).
#
# How each mode is obtained, and the fallbacks a client makes on its own if
# the server refuses the command (our servers never make them take one,
# except lftp's, see above; the wire check catches a fallback):
#   curl: pasv --disable-epsv; epsv default (falls back to PASV); port
#     --ftp-port - --disable-eprt (the control connection's local address);
#     eprt --ftp-port - (falls back to PORT). On IPv6 curl always uses
#     EPSV/EPRT. Ignores the address in a 227 (uses the control peer).
#   lftp: ftp:passive-mode on|off, ftp:prefer-epsv yes|no; after a refused
#     PORT/EPRT it switches to passive by itself ("Switching passive mode
#     on").
#   tnftp: "passive on|off" and FTPMODE=passive|active (no silent switch
#     between them), "epsv4 on|off" / "epsv6 on" (EPSV/EPRT fall back to
#     PASV/PORT, on IPv6 to LPSV/LPRT). Refuses a 227 naming another host
#     than the control peer ("Passive mode address mismatch.").
#   inetutils: "passive" toggles (off by default: PORT), "epsv4" toggles
#     EPSV/EPRT on IPv4 (off by default); IPv6 always EPSV/EPRT. Refuses a
#     227 naming another host, like tnftp.
#   wget: passive by default, --no-passive-ftp for PORT (IPv6: EPSV 2 then
#     LPSV; EPRT then LPRT). Cannot upload; ls writes wget's HTML index of
#     the directory. Believes the address in a 227.
#   ftplib: a few lines of Python 3 using the stdlib's ftplib; set_pasv
#     False for PORT/EPRT; EPSV and EPRT on IPv4 through ftplib's own
#     parse229 / sendeprt (it uses them on IPv6 only). Ignores a 227's
#     address.
#   ncftp: ncftpget / ncftpput / ncftpls, -F (PASV) or -E (PORT); -r 0 (no
#     redial: it would sleep 20 s per retry).

TT_FTP_TIMEOUT=${TT_FTP_TIMEOUT:-60}
TT_FTP_USER=${TT_FTP_USER:-anonymous}
TT_FTP_PASS=${TT_FTP_PASS:-ftt-test}
TT_FTP_CLIENTS="curl lftp tnftp inetutils wget ftplib ncftp"
TT_FTP_MODES="pasv epsv port eprt"
TT_FTP_OPS="get put ls mget"
# Python 3 from Debian (not a user's pyenv): ftplib is in its stdlib.
TT_PYTHON=${TT_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

# tt_ftp_supports CLIENT MODE OP [HOST]: true if the client can be made to
# do OP in MODE over HOST's family; otherwise false, with the reason in
# TT_FTP_WHY.
tt_ftp_supports() {
	local c=$1 m=$2 op=$3 host=${4:-127.0.0.1} v6=0 modes
	TT_FTP_WHY=""
	case $host in *:*) v6=1 ;; esac
	case $c in
	curl | tnftp | inetutils | ftplib) modes4="pasv epsv port eprt" ;;
	lftp) modes4="pasv epsv port" ;;
	wget | ncftp) modes4="pasv port" ;;
	*)
		TT_FTP_WHY="unknown client $c"
		return 1
		;;
	esac
	modes6="epsv eprt"
	[ "$c" = ncftp ] && modes6=""
	if [ "$v6" = 1 ]; then modes=$modes6; else modes=$modes4; fi
	case " $modes " in
	*" $m "*) ;;
	*)
		if [ "$v6" = 1 ] && [ -z "$modes6" ]; then
			TT_FTP_WHY="$c has no IPv6"
		elif [ "$v6" = 1 ]; then
			TT_FTP_WHY="$m cannot carry an IPv6 address ($c sends EPSV/EPRT on IPv6)"
		else
			TT_FTP_WHY="$c cannot be made to send $(echo "$m" | tr a-z A-Z) on IPv4"
		fi
		return 1
		;;
	esac
	case $c:$op in
	wget:put)
		TT_FTP_WHY="wget cannot upload"
		return 1
		;;
	*:get | *:put | *:ls | *:mget) ;;
	*)
		TT_FTP_WHY="unknown op $op"
		return 1
		;;
	esac
	return 0
}

# tt_ftp_known_broken SERVER CLIENT MODE OP [HOST]: true (reason in
# TT_FTP_WHY) for the cells that fail even without any tunnel, because of
# the server's policy or the client's own behaviour (t_fixtures_direct.sh
# proves each). SERVER is vsftpd, pure-ftpd or proftpd (FTP_NAME).
tt_ftp_known_broken() {
	local srv=$1 c=$2 m=$3 op=$4 host=${5:-127.0.0.1}
	TT_FTP_WHY=""
	case $srv:$c:$op in
	pure-ftpd:tnftp:mget | pure-ftpd:inetutils:mget | pure-ftpd:ncftp:mget)
		# "The NLST command doesn't perform globbing any more" (pure-ftpd
		# 1.0.48 changelog): 550 Can't check for file existence.
		TT_FTP_WHY="$c expands mget with NLST <glob>; pure-ftpd >= 1.0.48 does no globbing in NLST"
		return 0
		;;
	esac
	case $srv:$c:$m:$host in
	pure-ftpd:lftp:eprt:*:* | proftpd:lftp:eprt:*:*)
		# lftp 4.9.2 on an IPv6 loopback control connection sends
		# "EPRT |2|::|port|"; vsftpd accepts it (and connects to ::, the
		# local host), proftpd says "500 Illegal EPRT command", pure-ftpd
		# "500 I won't open a connection to ::... (only to ::1)".
		TT_FTP_WHY="lftp sends EPRT |2|::|port| (unspecified address), which $srv refuses"
		return 0
		;;
	esac
	return 1
}

# tt_wire_mark PREFIX: remember where the command log of the server
# started with PREFIX (VSFTPD, PROFTPD, ...: its PREFIX_LOG) ends.
# tt_wire PREFIX: the data-connection commands logged since the mark,
# normalised and counted, e.g. "EPRT |1| x3, PASV x1" (PORT h,h,h,h,p,p
# -> PORT; EPRT |af|addr|port| -> EPRT |af|); nothing for pure-ftpd,
# which logs no commands. tt_wire_raw PREFIX: those commands verbatim.
tt_wire_mark() {
	local log=${1}_LOG
	eval "TT_WIRE_FROM_$1=$(($(wc -l <"${!log}") + 1))"
}
tt_wire_raw() {
	local log=${1}_LOG name=${1}_NAME from
	from=TT_WIRE_FROM_$1
	from=${!from:-1}
	case ${!name} in
	vsftpd) tail -n +"$from" "${!log}" | sed -n 's/.*FTP command: Client "[^"]*", "\(.*\)"$/\1/p' ;;
	proftpd) tail -n +"$from" "${!log}" | sed -n 's/^[^ ]* [^ ]* [^ ]* "\(.*\)" [0-9-]*$/\1/p' ;;
	*) return 0 ;;
	esac | awk 'toupper($1) ~ /^(PASV|EPSV|PORT|EPRT|LPSV|LPRT|SPSV|P@SW)$/'
}
tt_wire() {
	tt_wire_raw "$1" | awk '
		toupper($1) == "PORT" { print "PORT"; next }
		toupper($1) == "EPRT" { split($2, a, substr($2, 1, 1)); print "EPRT |" a[2] "|"; next }
		{ print }' | sort | uniq -c |
		awk '{ c = $1; $1 = ""; sub(/^ /, ""); printf "%s%s x%d", sep, $0, c; sep = ", " }'
}
# tt_wire_only PREFIX MODE: true if every data command since the mark is
# MODE's (see tt_ftp_mode_cmd) and there was at least one.
tt_wire_only() {
	local want w
	want=$(tt_ftp_mode_cmd "$2")
	w=$(tt_wire_raw "$1" | awk '{ print toupper($1) }' | sort -u)
	[ "$w" = "$want" ]
}

# tt_ftp_mode_cmd MODE: the command a client in MODE must send.
tt_ftp_mode_cmd() {
	case $1 in
	pasv) echo PASV ;;
	epsv) echo EPSV ;;
	port) echo PORT ;;
	eprt) echo EPRT ;;
	esac
}

# tt_ftp [-n NETNS] CLIENT MODE OP HOST PORT REMOTE LOCAL: see the top.
tt_ftp() {
	local ns="" OPTIND=1 o
	while getopts "n:" o; do
		case $o in
		n) ns=$OPTARG ;;
		*) return 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 7 ] || {
		echo "usage: tt_ftp [-n NETNS] CLIENT MODE OP HOST PORT REMOTE LOCAL" >&2
		return 2
	}
	local c=$1 m=$2 op=$3 host=$4 port=$5 remote=${6#/} local=$7
	if ! tt_ftp_supports "$c" "$m" "$op" "$host"; then
		echo "tt_ftp: $c $m $op: $TT_FTP_WHY" >&2
		return 3
	fi
	TT_FTP_LOG=$(mktemp "$T/clients/$c-$m-$op.XXXXXX.log")
	TT_FTP_NS=$ns
	case $op in
	get | ls) mkdir -p "$(dirname "$local")" ;;
	mget) mkdir -p "$local" ;;
	esac
	"_tt_ftp_$c" "$m" "$op" "$host" "$port" "$remote" "$local"
}

# _tt_ftp_run STDIN CMD...: run CMD with the timeout, in TT_FTP_NS, after
# TT_FTP_WRAP, HOME=$T/home, output to TT_FTP_LOG. Waits with `wait` so
# the test's signal traps run at once; the run is registered for cleanup
# meanwhile (as a process group: timeout(1) makes one).
_tt_ftp_run() {
	local in=$1 pid rc
	shift
	local pre=()
	[ -n "${TT_FTP_NS:-}" ] && pre=(ip netns exec "$TT_FTP_NS")
	local wrap=()
	[ -n "${TT_FTP_WRAP:-}" ] && read -r -a wrap <<<"$TT_FTP_WRAP"
	printf '$ %s\n' "$*" >>"$TT_FTP_LOG"
	timeout -k 5 "$TT_FTP_TIMEOUT" "${pre[@]}" env HOME="$T/home" "${wrap[@]}" "$@" \
		<"$in" >>"$TT_FTP_LOG" 2>&1 &
	pid=$!
	tt_track -g "$pid"
	wait "$pid"
	rc=$?
	tt_untrack "$pid"
	[ "$rc" -eq 124 ] && echo "tt_ftp: timed out after ${TT_FTP_TIMEOUT}s" >>"$TT_FTP_LOG"
	printf '$ exit %d\n' "$rc" >>"$TT_FTP_LOG"
	return "$rc"
}

_tt_ftp_url() { # HOST PORT PATH
	local u=${TT_FTP_USER//@/%40} pw=${TT_FTP_PASS//@/%40}
	printf 'ftp://%s:%s@%s:%s/%s' "${u//:/%3A}" "${pw//:/%3A}" "$(tt_urlhost "$1")" "$2" "$3"
}

# ---- curl
_tt_ftp_curl() {
	local m=$1 op=$2 h=$3 p=$4 r=$5 l=$6 a=(curl -q -sS -v --trace-time -g)
	case $m in
	pasv) a+=(--ftp-pasv --disable-epsv) ;;
	epsv) a+=(--ftp-pasv) ;;
	port) a+=(--ftp-port - --disable-eprt) ;;
	eprt) a+=(--ftp-port -) ;;
	esac
	case $op in
	get)
		_tt_ftp_run /dev/null "${a[@]}" -o "$l" "$(_tt_ftp_url "$h" "$p" "$r")" ;;
	put) _tt_ftp_run /dev/null "${a[@]}" -T "$l" "$(_tt_ftp_url "$h" "$p" "$r")" ;;
	ls) _tt_ftp_run /dev/null "${a[@]}" -o "$l" "$(_tt_ftp_url "$h" "$p" "${r%/}/")" ;;
	mget)
		_tt_ftp_run /dev/null "${a[@]}" --list-only -o "$l/.names" \
			"$(_tt_ftp_url "$h" "$p" "${r%/}/")" || return
		local n urls=()
		while IFS= read -r n; do
			n=${n%$'\r'}
			n=${n##*/}
			# pure-ftpd lists . and .. in NLST.
			case $n in "" | . | ..) continue ;; esac
			urls+=(-o "$l/$n" "$(_tt_ftp_url "$h" "$p" "${r%/}/$n")")
		done <"$l/.names"
		rm -f "$l/.names"
		[ ${#urls[@]} -gt 0 ] || return 0
		_tt_ftp_run /dev/null "${a[@]}" "${urls[@]}"
		;;
	esac
}

# ---- lftp
_tt_ftp_lftp() {
	local m=$1 op=$2 h=$3 p=$4 r=$5 l=$6 s
	s="set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 20;"
	s="$s set net:reconnect-interval-base 1; set ftp:ssl-allow no;"
	s="$s set xfer:clobber yes; set cmd:interactive no; debug 3;"
	case $m in
	pasv) s="$s set ftp:passive-mode on; set ftp:prefer-epsv no;" ;;
	epsv) s="$s set ftp:passive-mode on; set ftp:prefer-epsv yes;" ;;
	port | eprt) s="$s set ftp:passive-mode off;" ;;
	esac
	s="$s open -u $TT_FTP_USER,$TT_FTP_PASS ftp://$(tt_urlhost "$h"):$p;"
	case $op in
	get) s="$s get $r -o $l;" ;;
	put) s="$s put $l -o $r;" ;;
	ls) s="$s ls $r > $l;" ;;
	mget) s="$s mget -O $l ${r%/}/*;" ;;
	esac
	_tt_ftp_run /dev/null lftp -c "$s bye"
}

# ---- tnftp and inetutils-ftp: a scripted interactive session.
# Both exit 0 whatever the server answered; success is judged from the
# verbose log: each transfer needs its 226 (or 250) and nothing may have
# been refused (4xx/5xx after login) or broken off by the client.
_tt_ftp_script() { # CLIENT MODE OP HOST REMOTE LOCAL -> commands on stdout
	local c=$1 m=$2 op=$3 h=$4 r=$5 l=$6 v6=0
	case $h in *:*) v6=1 ;; esac
	echo "user $TT_FTP_USER $TT_FTP_PASS"
	echo "binary"
	if [ "$c" = tnftp ]; then
		echo "prompt off"
		case $m in
		pasv | epsv) echo "passive on" ;;
		*) echo "passive off" ;;
		esac
		case $m in
		pasv | port) echo "epsv4 off" ;;
		*) echo "epsv4 on" ;;
		esac
		[ "$v6" = 1 ] && echo "epsv6 on"
	else
		# inetutils-ftp: toggles only; starts with passive and epsv4 off.
		echo "prompt"
		case $m in pasv | epsv) echo "passive" ;; esac
		if [ "$v6" = 0 ]; then
			case $m in epsv | eprt) echo "epsv4" ;; esac
		fi
	fi
	case $op in
	get) echo "get $r $l" ;;
	put) echo "put $l $r" ;;
	ls) echo "ls $r $l" ;;
	mget)
		echo "lcd $l"
		echo "cd $r"
		echo "mget *"
		;;
	esac
	echo "quit"
}

_tt_ftp_scripted() { # CLIENT MODE OP HOST PORT REMOTE LOCAL
	local c=$1 m=$2 op=$3 h=$4 p=$5 r=$6 l=$7 in want got bad
	in="$TT_FTP_LOG.in"
	_tt_ftp_script "$c" "$m" "$op" "$h" "$r" "$l" >"$in"
	local env=() bin
	if [ "$c" = tnftp ]; then
		bin=(tnftp -n -v)
		case $m in pasv | epsv) env=(FTPMODE=passive) ;; *) env=(FTPMODE=active) ;; esac
	else
		bin=(inetutils-ftp -n -v)
	fi
	local start
	start=$(wc -l <"$TT_FTP_LOG")
	_tt_ftp_run "$in" env "${env[@]}" "${bin[@]}" "$h" "$p" || return
	# Judge from the session's replies.
	want=1
	if [ "$op" = mget ]; then
		# The NLST behind mget's glob is silent: one 226 per file.
		want=$(_tt_ftp_mget_count "$l")
		[ "$want" -gt 0 ] || want=1
	fi
	got=$(tail -n +"$((start + 1))" "$TT_FTP_LOG" | grep -c -E '^(226|250 Transfer)')
	bad=$(tail -n +"$((start + 1))" "$TT_FTP_LOG" |
		grep -E '^(42[0-9]|45[0-9]|5[0-9][0-9]) |Not connected|ftp: |No control connection|Passive mode address mismatch|Illegal|lost connection|Connection refused|Connection timed out' |
		grep -v -E '^500 (SIZE|MDTM)|^550 (Could not get file size|SIZE|.*: Not a plain file)|^502 |^500 .*FEAT|^5[0-9][0-9] .*(MLST|MLSD|SITE|FEAT|OPTS)' |
		head -3)
	if [ -n "$bad" ]; then
		echo "tt_ftp: refused or failed: $bad" >>"$TT_FTP_LOG"
		return 1
	fi
	if [ "$got" -lt "$want" ]; then
		echo "tt_ftp: $got transfer replies, $want expected" >>"$TT_FTP_LOG"
		return 1
	fi
	return 0
}
# For mget, how many files arrived (the session itself says how many it
# tried only in its log; the test compares files anyway).
_tt_ftp_mget_count() { find "$1" -maxdepth 1 -type f | wc -l; }

_tt_ftp_tnftp() { _tt_ftp_scripted tnftp "$@"; }
_tt_ftp_inetutils() { _tt_ftp_scripted inetutils "$@"; }

# ---- wget
_tt_ftp_wget() {
	local m=$1 op=$2 h=$3 p=$4 r=$5 l=$6 a=(wget -d --no-config -t 1 -T 20)
	case $m in
	port | eprt) a+=(--no-passive-ftp) ;;
	esac
	case $op in
	get) _tt_ftp_run /dev/null "${a[@]}" -O "$l" "$(_tt_ftp_url "$h" "$p" "$r")" ;;
	ls) _tt_ftp_run /dev/null "${a[@]}" -O "$l" "$(_tt_ftp_url "$h" "$p" "${r%/}/")" ;;
	mget) _tt_ftp_run /dev/null "${a[@]}" -nd -P "$l" "$(_tt_ftp_url "$h" "$p" "${r%/}/*")" ;;
	esac
}

# ---- Python ftplib
_tt_ftp_ftplib() {
	local m=$1 op=$2 h=$3 p=$4 r=$5 l=$6
	_tt_ftp_run /dev/null "$TT_PYTHON" -c "$TT_FTPLIB_PY" "$m" "$op" "$h" "$p" "$r" "$l" \
		"$TT_FTP_USER" "$TT_FTP_PASS"
}

TT_FTPLIB_PY='
import ftplib, os, socket, sys
mode, op, host, port, remote, local, user, pw = sys.argv[1:9]

class FTP(ftplib.FTP):
    # ftplib sends EPSV and EPRT only on IPv6; force them on IPv4.
    def makepasv(self):
        if mode == "epsv" and self.af == socket.AF_INET:
            return ftplib.parse229(self.sendcmd("EPSV"), self.sock.getpeername())
        return super().makepasv()
    def sendport(self, host, port):
        if mode == "eprt":
            return self.sendeprt(host, port)
        return super().sendport(host, port)

f = FTP(timeout=30)
f.set_debuglevel(1)
f.connect(host, int(port))
f.login(user, pw)
f.set_pasv(mode in ("pasv", "epsv"))
if op == "get":
    with open(local, "wb") as o:
        f.retrbinary("RETR " + remote, o.write)
elif op == "put":
    with open(local, "rb") as i:
        f.storbinary("STOR " + remote, i)
elif op == "ls":
    with open(local, "w") as o:
        f.retrlines("LIST " + remote, lambda s: o.write(s + "\n"))
elif op == "mget":
    for n in f.nlst(remote):
        n = n.rsplit("/", 1)[-1]
        if n in (".", ".."):
            continue
        with open(os.path.join(local, n), "wb") as o:
            f.retrbinary("RETR " + remote.rstrip("/") + "/" + n, o.write)
f.quit()
'

# ---- ncftp (ncftpget / ncftpput / ncftpls)
_tt_ftp_ncftp() {
	local m=$1 op=$2 h=$3 p=$4 r=$5 l=$6 a
	a=(-P "$p" -u "$TT_FTP_USER" -p "$TT_FTP_PASS" -t 20 -r 0)
	case $m in
	pasv) a+=(-F) ;;
	port) a+=(-E) ;;
	esac
	local d="$TT_FTP_LOG.debug" rc
	a+=(-d "$d")
	case $op in
	get) _tt_ftp_run /dev/null ncftpget -V "${a[@]}" -C "$h" "$r" "$l" ;;
	put) _tt_ftp_run /dev/null ncftpput -V "${a[@]}" -C "$h" "$l" "$r" ;;
	ls)
		# ncftpls prints the listing on stdout: keep it apart from the log.
		_tt_ftp_run /dev/null sh -c 'exec "$@" >"$0"' "$l" \
			ncftpls "${a[@]}" -l "ftp://$h/${r%/}/"
		;;
	mget) _tt_ftp_run /dev/null ncftpget -V "${a[@]}" "$h" "$l" "${r%/}/*" ;;
	esac
	rc=$?
	[ -f "$d" ] && cat "$d" >>"$TT_FTP_LOG" && rm -f "$d"
	return "$rc"
}
