#!/bin/bash
# t_ftp_remote.sh — remote FTP tunnels, `ftp-tunnel -R ftp/RPORT:HOST:PORT`:
# the listener is on the SSH server (its loopback: GatewayPorts no) and the
# FTP server is reached from the tunnel's host. Everything is on loopback
# here, so the clients connect to 127.0.0.1:RPORT, which is sshd's
# listener. Against vsftpd, pure-ftpd and proftpd: every client in every
# mode it supports, get and put of 0 B, 1 B and a few MiB (sha256), a
# listing, and the data command each server saw (PASV/EPSV as such; by
# default PORT/EPRT converted to PASV). Then forward mode, asked for
# (FtpActiveMode=forward: PORT/EPRT pass on, naming the tunnel's host, the
# server's control peer), the data listeners really are sshd's (the
# client's data connections go to sshd, not to ftp-tunnel), sessions one
# after another leave no forward behind, and two sessions at once.
#
# TT_REMOTE_BIG (default 4M) sets the large file's size; TT_REMOTE_SERVERS
# (default "VSFTPD PUREFTPD PROFTPD") which servers; TT_REMOTE_LIGHT
# (default PROFTPD) the servers that only get the large file both ways
# (no 0 B, 1 B, ls), to keep the run under two minutes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init ftp_remote
BIG=${TT_REMOTE_BIG:-4M}
SERVERS=${TT_REMOTE_SERVERS:-VSFTPD PUREFTPD PROFTPD}
LIGHT=" ${TT_REMOTE_LIGHT-PROFTPD} "

tt_sshd || tt_die "sshd"
for srv in $SERVERS; do
	case $srv in
	VSFTPD) tt_vsftpd || tt_die "vsftpd" ;;
	PUREFTPD) tt_pureftpd || tt_die "pure-ftpd" ;;
	PROFTPD) tt_proftpd || tt_die "proftpd" ;;
	esac
	pub=${srv}_PUB
	tt_mkfile "${!pub}/f0" 0
	tt_mkfile "${!pub}/f1" 1
	tt_mkfile "${!pub}/fbig" "$BIG"
	chmod -R a+rX "${!pub}"
done
tt_mkfile "$T/up/u0" 0
tt_mkfile "$T/up/u1" 1
tt_mkfile "$T/up/ubig" "$BIG"

# One remote tunnel per server, all on one SSH connection.
declare -A RPORT
args=()
for srv in $SERVERS; do
	port=${srv}_PORT
	RPORT[$srv]=$(tt_free_port)
	args+=(-R "ftp/${RPORT[$srv]}:127.0.0.1:${!port}")
done
ft_tunnel -vv "${args[@]}" "$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel"
# Our sshd and its session processes (other tests' sshds may be running).
sshd_pids() {
	local level=$SSHD_PID next found=$SSHD_PID
	while [ -n "$level" ]; do
		next=$(pgrep -P "${level// /,}" | paste -sd' ')
		found="$found $next"
		level=$next
	done
	echo "$found"
}
# sshd_listens PORT: true if one of our sshd processes listens on PORT.
sshd_listens() {
	local pid line
	line=$(ss -Hltnp "sport = :$1")
	for pid in $(sshd_pids); do
		grep -q "pid=$pid," <<<"$line" && return 0
	done
	return 1
}
# sshd_ports: the ports our sshd processes listen on.
sshd_ports() {
	local pid
	for pid in $(sshd_pids); do
		ss -Hltnp | grep "pid=$pid," | awk '{ print $4 }' | sed 's/.*://'
	done | sort -u
}
for srv in $SERVERS; do
	name=${srv}_NAME
	tt_check "-R ftp/${RPORT[$srv]} -> ${!name}: sshd listens on 127.0.0.1:${RPORT[$srv]}" \
		sshd_listens "${RPORT[$srv]}"
done

# cell SRV CLIENT MODE: every operation of one matrix cell through the
# remote tunnel to SRV.
cell() {
	local srv=$1 c=$2 m=$3 name pub up tag f op port w dst gets="f0 f1 fbig" puts="u0 u1 ubig" ops="get put ls"
	case $LIGHT in *" $srv "*) gets=fbig puts=ubig ops="get put" ;; esac
	name=${srv}_NAME
	pub=${srv}_PUB
	up=${srv}_UPLOAD_DIR
	port=${RPORT[$srv]}
	tag="-R ${!name} $c $m"
	for op in $ops; do
		# Cells a client cannot do at all (wget put, lftp EPRT on IPv4)
		# are not tests here; t_fixtures_direct.sh lists them.
		tt_ftp_supports "$c" "$m" "$op" || continue
		if tt_ftp_known_broken "${!name}" "$c" "$m" "$op"; then
			tt_skip "$tag $op: $TT_FTP_WHY (fails without a tunnel too)"
			continue
		fi
		[ "${!name}" != pure-ftpd ] && tt_wire_mark "$srv"
		case $op in
		get)
			for f in $gets; do
				rm -f "$T/got"
				if ! tt_ftp "$c" "$m" get 127.0.0.1 "$port" "pub/$f" "$T/got"; then
					tt_fail "$tag get $f: client exit $? ($TT_FTP_LOG)"
					continue
				fi
				tt_same "${!pub}/$f" "$T/got" "$tag get $f" >/dev/null ||
					tt_log "see $TT_FTP_LOG"
			done ;;
		put)
			for f in $puts; do
				dst="$c-$m-$f"
				rm -f "${!up}/$dst"
				if ! tt_ftp "$c" "$m" put 127.0.0.1 "$port" "upload/$dst" "$T/up/$f"; then
					tt_fail "$tag put $f: client exit $? ($TT_FTP_LOG)"
					continue
				fi
				tt_same "$T/up/$f" "${!up}/$dst" "$tag put $f" >/dev/null ||
					tt_log "see $TT_FTP_LOG"
				rm -f "${!up}/$dst"
			done ;;
		ls)
			rm -f "$T/list"
			if tt_ftp "$c" "$m" ls 127.0.0.1 "$port" pub "$T/list" && grep -q fbig "$T/list"; then
				tt_pass "$tag ls"
			else
				tt_fail "$tag ls ($TT_FTP_LOG)"
			fi ;;
		esac
		# pure-ftpd keeps no command log.
		if [ "${!name}" != pure-ftpd ]; then
			local want
			w=$(tt_wire_raw "$srv" | awk '{ print toupper($1) }' | sort -u | paste -sd,)
			case $m in
			pasv | epsv) want=$(tt_ftp_mode_cmd "$m") ;;
			*) want=PASV ;; # auto converts PORT/EPRT
			esac
			tt_check "$tag $op: the server saw only $want (saw: $w)" [ "$w" = "$want" ]
		fi
	done
}

t0=$(date +%s)
for srv in $SERVERS; do
	for c in $TT_FTP_CLIENTS; do
		for m in $TT_FTP_MODES; do
			cell "$srv" "$c" "$m"
		done
	done
done
tt_log "matrix took $(($(date +%s) - t0)) s"

# Forward mode, asked for: a PORT through a remote tunnel reaches the
# server naming the tunnel's own address (the server's control peer):
# vsftpd's strict check passes.
if [ -n "${VSFTPD_LOG:-}" ]; then
	main_pid=$FT_PID main_log=$FT_LOG
	RF=$(tt_free_port)
	ft_tunnel -vv -o FtpActiveMode=forward -R "ftp/$RF:127.0.0.1:$VSFTPD_PORT" \
		"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "forward-mode tunnel"
	for c in $TT_FTP_CLIENTS; do
		for m in port eprt; do
			tt_ftp_supports "$c" "$m" get || continue
			tt_wire_mark VSFTPD
			rm -f "$T/got"
			tt_ftp "$c" "$m" get 127.0.0.1 "$RF" pub/fbig "$T/got" &&
				tt_same "$VSFTPD_PUB/fbig" "$T/got" "-R forward: $c $m get" >/dev/null
			tt_check "-R forward: $c $m: vsftpd saw the client's own command ($(tt_wire VSFTPD))" \
				tt_wire_only VSFTPD "$m"
		done
	done
	tt_check "vsftpd: the PORTs it got named 127.0.0.1 (the tunnel's side)" \
		grep -q 'FTP command: Client "127.0.0.1", "PORT 127,0,0,1,' "$VSFTPD_LOG"
	tt_check "vsftpd: no PORT or EPRT refused" \
		tt_quiet bash -c "! grep -q 'Illegal \(PORT\|EPRT\)' '$VSFTPD_LOG'"
	tt_kill "$FT_PID"
	FT_PID=$main_pid FT_LOG=$main_log
fi

# The data connections of a passive session go to sshd: hold a PASV
# session open and look at who listens on the port in the 227.
srv=$(echo "$SERVERS" | awk '{ print $1 }')
"$TT_PYTHON" - "${RPORT[$srv]}" >"$T/pasv.out" 2>&1 <<'PY' &
import socket, sys, re, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode()
        if re.match(r"^\d{3} ", l):
            return l.strip()
reply()
s.sendall(b"USER anonymous\r\n"); r = reply()
if r.startswith("331"):
    s.sendall(b"PASS ftt@\r\n"); reply()
s.sendall(b"PASV\r\n"); r = reply()
print(r, flush=True)
m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r)
print("PORT", int(m.group(5)) * 256 + int(m.group(6)), flush=True)
time.sleep(3)
s.sendall(b"QUIT\r\n")
PY
ppid=$!
tt_wait_until 100 grep -q '^PORT' "$T/pasv.out"
dport=$(awk '/^PORT/ { print $2 }' "$T/pasv.out")
tt_check "-R passive: the 227 names 127.0.0.1 ($(head -1 "$T/pasv.out"))" \
	grep -q '(127,0,0,1,' "$T/pasv.out"
tt_check "-R passive: the data port $dport is sshd's tcpip-forward listener" \
	sshd_listens "${dport:-0}"
wait "$ppid"
tt_check "-R passive: ... and it is gone when the session ends" \
	tt_wait_until 50 bash -c "[ -z \"\$(ss -Hltn 'sport = :$dport')\" ]"

# Nothing left behind: sshd listens only on its own port and the tunnels'.
extra=$(sshd_ports | grep -v -x -E "$SSHD_PORT|$(echo "${RPORT[@]}" | tr ' ' '|')" | paste -sd' ')
tt_check "no data forward left on sshd after the matrix (${extra:-none})" [ -z "$extra" ]

# Two sessions at once through one remote tunnel, both directions.
up=${srv}_UPLOAD_DIR
pub=${srv}_PUB
rm -f "$T/two1" "${!up}/two2"
tt_ftp lftp pasv get 127.0.0.1 "${RPORT[$srv]}" pub/fbig "$T/two1" &
job1=$!
tt_ftp curl port put 127.0.0.1 "${RPORT[$srv]}" upload/two2 "$T/up/ubig" &
job2=$!
wait "$job1"; ra=$?
wait "$job2"; rb=$?
tt_check "two sessions at once: both clients succeeded ($ra, $rb)" [ "$ra" = 0 -a "$rb" = 0 ]
tt_same "${!pub}/fbig" "$T/two1" "two sessions at once: download"
tt_same "$T/up/ubig" "${!up}/two2" "two sessions at once: upload"

tt_check "the tunnel is still running" _tt_alive "$FT_PID"
tt_check "the tunnel logged no refused data connection or ended session" \
	tt_quiet bash -c "! grep -E 'refused a data connection|ending the FTP session|data connection failed' '$FT_LOG'"

tt_done
