#!/bin/bash
# t_ftp_matrix.sh — `ftp-tunnel -L ftp/...` with real FTP clients against
# vsftpd, pure-ftpd and proftpd behind a real sshd: every client in every
# mode it can be made to use (PASV, EPSV, PORT, EPRT), downloads and uploads
# of 0 B, 1 B and 50 MiB compared by sha256, a listing, 20 files in one
# session (active mode converted to PASV, FtpActiveMode=auto's way); then
# an IPv6 client side, two sessions at once, and forward mode
# (FtpActiveMode=forward: PORT/EPRT passed on naming the SSH server's
# loopback).
#
# TT_MATRIX_BIG (default 50M) sets the large file's size.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init ftp_matrix
BIG=${TT_MATRIX_BIG:-50M}

tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_pureftpd || tt_die "pure-ftpd"
tt_proftpd || tt_die "proftpd"

for srv in VSFTPD PUREFTPD PROFTPD; do
	pub=${srv}_PUB
	tt_mkfile "${!pub}/f0" 0
	tt_mkfile "${!pub}/f1" 1
	tt_mkfile "${!pub}/fbig" "$BIG"
	mkdir -p "${!pub}/many"
	for i in $(seq 20); do tt_mkfile "${!pub}/many/m$i" $((i * 3))K; done
	chmod -R a+rX "${!pub}"
done
tt_mkfile "$T/up/u0" 0
tt_mkfile "$T/up/u1" 1
tt_mkfile "$T/up/ubig" "$BIG"

# One tunnel per server, all on one SSH connection; IPv6 listeners too.
declare -A LPORT LPORT6
args=()
for srv in VSFTPD PUREFTPD PROFTPD; do
	port=${srv}_PORT
	LPORT[$srv]=$(tt_free_port)
	LPORT6[$srv]=$(tt_free_port)
	args+=(-L "ftp/${LPORT[$srv]}:127.0.0.1:${!port}" -L "ftp/[::1]:${LPORT6[$srv]}:127.0.0.1:${!port}")
done
ft_tunnel -v "${args[@]}" "$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel"

# why: the end of the last client run's log, for a failure report.
why() { tail -n 6 "$TT_FTP_LOG" | sed 's/^/      | /'; }

# cell SRV CLIENT MODE HOST PORT: every operation of one matrix cell.
cell() {
	local srv=$1 c=$2 m=$3 host=$4 port=$5 name pub up tag f
	name=${srv}_NAME
	pub=${srv}_PUB
	up=${srv}_UPLOAD_DIR
	local w="$T/w.$srv"
	mkdir -p "$w"
	tag="${!name} $c $m${host//[^:]/}"
	[ "$host" = ::1 ] && tag="${!name} $c $m [::1]"
	for op in get put ls mget; do
		if ! tt_ftp_supports "$c" "$m" "$op" "$host"; then
			tt_skip "$tag $op: $TT_FTP_WHY"
			continue
		fi
		if tt_ftp_known_broken "${!name}" "$c" "$m" "$op" "$host"; then
			tt_skip "$tag $op: $TT_FTP_WHY (fails without a tunnel too)"
			continue
		fi
		case $op in
		get)
			for f in f0 f1 fbig; do
				rm -f "$w/got"
				tt_ftp "$c" "$m" get "$host" "$port" "pub/$f" "$w/got" ||
					{ tt_fail "$tag get $f: client exit $?"; why; grep ": cut:" "$FT_LOG" | tail -3; continue; }
				tt_same "${!pub}/$f" "$w/got" "$tag get $f" ||
					why
			done ;;
		put)
			for f in u0 u1 ubig; do
				local dst="$c-$m-$f-${port}"
				tt_ftp "$c" "$m" put "$host" "$port" "upload/$dst" "$T/up/$f" ||
					{ tt_fail "$tag put $f: client exit $?"; why; continue; }
				tt_same "$T/up/$f" "${!up}/$dst" "$tag put $f"
				rm -f "${!up}/$dst"
			done ;;
		ls)
			rm -f "$w/list"
			if tt_ftp "$c" "$m" ls "$host" "$port" pub "$w/list" &&
				grep -q fbig "$w/list"; then
				tt_pass "$tag ls"
			else
				tt_fail "$tag ls"
				why
			fi ;;
		mget)
			rm -rf "$w/mget"
			tt_ftp "$c" "$m" mget "$host" "$port" pub/many "$w/mget"
			local ok=0
			for i in $(seq 20); do
				tt_cmp "${!pub}/many/m$i" "$w/mget/m$i" && ok=$((ok + 1))
			done
			tt_check "$tag mget: $ok/20 files in one session" [ "$ok" -eq 20 ] ||
				why ;;
		esac
	done
}

# The three servers' cells run side by side (most of the time goes to
# client start-up and round trips, not to the CPU); each writes its
# results to a file that is counted here afterwards.
pids=()
for srv in VSFTPD PUREFTPD PROFTPD; do
	(
		for c in $TT_FTP_CLIENTS; do
			for m in $TT_FTP_MODES; do
				cell "$srv" "$c" "$m" 127.0.0.1 "${LPORT[$srv]}"
			done
		done
		# The client side on IPv6 ([::1] listener), the server IPv4.
		if [ "$srv" = VSFTPD ]; then
			for c in $TT_FTP_CLIENTS; do
				for m in epsv eprt; do
					cell VSFTPD "$c" "$m" ::1 "${LPORT6[VSFTPD]}"
				done
			done
		fi
	) >"$T/results.$srv" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for srv in VSFTPD PUREFTPD PROFTPD; do
	while IFS= read -r line; do
		case $line in
		"ok   "*) tt_pass "${line#ok   }" ;;
		"FAIL "*) tt_fail "${line#FAIL }" ;;
		"skip "*) tt_skip "${line#skip }" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$T/results.$srv"
done

# The data commands the server saw: by default (FtpActiveMode=auto) a
# PORT or EPRT is converted, the server gets PASV.
tt_wire_mark VSFTPD
tt_ftp curl port get 127.0.0.1 "${LPORT[VSFTPD]}" pub/f1 "$T/w1" &&
	tt_ftp curl eprt get 127.0.0.1 "${LPORT[VSFTPD]}" pub/f1 "$T/w2"
w=$(tt_wire VSFTPD)
tt_check "auto: vsftpd saw PASV for curl's PORT and EPRT ($w)" [ "$w" = "PASV x2" ]

# Forward mode, asked for: PORT and EPRT pass on, naming the SSH server's
# loopback (the FTP server shares it), for every client that can.
FP=$(tt_free_port)
ft_tunnel -v -o FtpActiveMode=forward -L "ftp/$FP:127.0.0.1:$VSFTPD_PORT" \
	"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "forward-mode tunnel"
for c in $TT_FTP_CLIENTS; do
	for m in port eprt; do
		tt_ftp_supports "$c" "$m" get 127.0.0.1 || continue
		tt_wire_mark VSFTPD
		rm -f "$T/wf"
		tt_ftp "$c" "$m" get 127.0.0.1 "$FP" pub/many/m20 "$T/wf" &&
			tt_same "$VSFTPD_PUB/many/m20" "$T/wf" "forward: $c $m get"
		tt_check "forward: $c $m: vsftpd saw the client's own command ($(tt_wire VSFTPD))" \
			tt_wire_only VSFTPD "$m"
	done
done
tt_check "forward: the rewritten PORT named 127.0.0.1 (the SSH server side)" \
	grep -q 'FTP command: Client "127.0.0.1", "PORT 127,0,0,1,' "$VSFTPD_LOG"
tt_kill "$FT_PID"

# Two sessions at once, both directions.
rm -f "$T/two1" "$VSFTPD_UPLOAD_DIR/two2"
tt_ftp lftp pasv get 127.0.0.1 "${LPORT[VSFTPD]}" pub/fbig "$T/two1" &
a=$!
tt_ftp curl port put 127.0.0.1 "${LPORT[VSFTPD]}" upload/two2 "$T/up/ubig" &
b=$!
wait "$a"; ra=$?
wait "$b"; rb=$?
tt_check "two sessions at once: both clients succeeded ($ra, $rb)" test "$ra" = 0 -a "$rb" = 0
tt_same "$VSFTPD_PUB/fbig" "$T/two1" "two sessions at once: download"
tt_same "$T/up/ubig" "$VSFTPD_UPLOAD_DIR/two2" "two sessions at once: upload"

tt_done
