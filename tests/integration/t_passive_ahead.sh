#!/bin/bash
# t_passive_ahead.sh — the PASV sent ahead (FtpPassiveAhead, default yes):
# after each passive transfer ftp-tunnel -L ftp/ asks the FTP server for
# the next PASV and answers the client's PASV, EPSV or converted PORT from
# it. Against vsftpd, proftpd and pure-ftpd, in active modes auto
# (converted) and forward, helpers/passive_ahead.py checks every reply a
# client sees around it, in order (PASV at once after a 226, after SIZE
# and MDTM pipelined, other commands pipelined, RETR without PASV, PORT,
# EPSV, QUIT), and
# the bytes. Proof that the speculation was used: the server's own
# command log (vsftpd, proftpd) shows PASV where the client sent EPSV or
# PORT, and ftp-tunnel counts the PASVs it answered ahead; with
# FtpPassiveAhead=no the server sees what the client sent.
# And when a passive data connection's channel opens: with the client's
# next command, not as the 227 passes (helpers/open_with_cmd.py).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init passive_ahead

tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_proftpd || tt_die "proftpd"
tt_pureftpd || tt_die "pure-ftpd"
for s in VSFTPD PROFTPD PUREFTPD; do
	pub=${s}_PUB
	for i in 1 2 3 4 5 6; do
		tt_mkfile "${!pub}/f$i" $((i * 1000 + 7)) "f$i" || tt_die "files"
	done
	chmod -R a+rX "${!pub}"
done

# run SERVER MODE AHEAD WANT_USED WANT_WIRE: one session of the helper
# through a tunnel of its own.
run() {
	local s=$1 mode=$2 ahead=$3 used=$4 wire=$5 port=${1}_PORT pub=${1}_PUB
	local name=${1}_NAME lp out rc got w
	lp=$(tt_free_port)
	ft_tunnel -vv -o "FtpActiveMode=$mode" -o "FtpPassiveAhead=$ahead" \
		-L "ftp/$lp:127.0.0.1:${!port}" "$SSH_USER@127.0.0.1:$SSHD_PORT" ||
		{
			tt_fail "${!name} $mode ahead=$ahead: ftp-tunnel did not start"
			return
		}
	tt_wire_mark "$s"
	out="$T/logs/ahead-${!name}-$mode-$ahead.out"
	python3 "$TT_LIB_DIR/helpers/passive_ahead.py" 127.0.0.1 "$lp" "${!pub}" pub/ >"$out" 2>&1
	rc=$?
	grep -v '^ok' "$out" | sed 's/^/# /' >&2
	tt_check "${!name}, FtpActiveMode=$mode, FtpPassiveAhead=$ahead: every reply in order, every file equal ($(tail -1 "$out"))" [ "$rc" = 0 ]
	tt_wait_until 50 grep -q "PASV answered ahead" "$FT_LOG"
	got=$(sed -n 's/.*, \([0-9]*\) PASV answered ahead).*/\1/p' "$FT_LOG" | tail -1)
	tt_check "${!name}, $mode, ahead=$ahead: $used client commands answered from a PASV sent ahead (got ${got:-none})" [ "$got" = "$used" ]
	if [ -n "$wire" ]; then
		w=$(tt_wire "$s")
		tt_check "${!name}, $mode, ahead=$ahead: the server saw $wire (got: $w)" [ "$w" = "$wire" ]
	fi
	tt_kill "$FT_PID"
}

# The client sends PASV f1, f2, f3, f5, EPSV f6 and PORT f4. auto
# converts PORT: every transfer is passive on the server's side, and the
# first command after each one but f1 (a PASV) takes a PASV ahead along:
# SIZE f3 (for f3's PASV), NOOP (for f4's PORT), SIZE f5, MDTM f6 (for
# the EPSV), so the server sees PASV only. forward: the PORT drops the
# one sent with NOOP and none goes with SIZE f5 (after an active
# transfer): f3 and f6 use one.
run VSFTPD auto yes 4 "PASV x6"
run VSFTPD forward yes 2 "PASV x6, PORT x1"
run VSFTPD auto no 0 "EPSV x1, PASV x5"
run PROFTPD auto yes 4 "PASV x6"
run PROFTPD forward yes 2 "PASV x6, PORT x1"
run PUREFTPD auto yes 4 ""
run PUREFTPD forward yes 2 ""

# The channel opens with the command: sent ahead of it, sshd (Nagle, no
# TCP_NODELAY) sent its lone open confirmation first and held the data
# for a round trip. Before the change the SSH server had connected to
# vsftpd's data port 1 s before the RETR ("connected before RETR: 1").
LP=$(tt_free_port)
ft_tunnel -vv -L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" "$SSH_USER@127.0.0.1:$SSHD_PORT" ||
	tt_die "ftp-tunnel for the channel open"
OUT="$T/logs/open_with_cmd.out"
python3 "$TT_LIB_DIR/helpers/open_with_cmd.py" \
	127.0.0.1 "$LP" "$VSFTPD_PUB" "$FT_LOG" "$VSFTPD_PORT" >"$OUT" 2>&1
rc=$?
sed 's/^/# /' "$OUT" >&2
tt_check "RETR before the data connection, and the data connection 1 s before RETR: replies in order, files equal" [ "$rc" = 0 ]
tt_check "ss sees the SSH server's control connection to vsftpd ($(grep '^control' "$OUT"))" \
	grep -q "^control connections seen: [1-9]" "$OUT"
tt_check "after PASV, no channel to the server's data port until the client's next command ($(grep '^connected' "$OUT"))" \
	grep -q "^connected before RETR: 0$" "$OUT"
tt_check "the log says the channel opened with the client's command" \
	grep -q "data 1: opening its channel with the client's command" "$FT_LOG"
tt_check "and, the connection first and no command, after a short wait" \
	grep -q "data 2: opening its channel after its connection (no command came)" "$FT_LOG"
tt_kill "$FT_PID"
tt_done
