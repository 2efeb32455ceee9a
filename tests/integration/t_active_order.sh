#!/bin/bash
# t_active_order.sh — through ftp-tunnel -L ftp/ in forward active mode
# (-o FtpActiveMode=forward, PORT forwarded: the FTP server connects to
# the SSH server's loopback; auto converts instead), the
# server's replies must not overtake its data connection: vsftpd connects
# to the client, then answers 150 and 226, and a client that reads 226
# while its listener is still empty gives up on the file (curl: exit 8,
# "weird server reply"; within a URL glob its exit status hides it).
# active_order.py fetches 100 small files in one session and checks, for
# every file, that the data connection is there before any reply after
# RETR, and the bytes. ftp-tunnel runs under valgrind when it is there
# (slower: the window is wider); without the fix about a quarter of the
# files failed under valgrind, a few percent without.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init active_order

tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
for i in $(seq 100); do tt_mkfile "$VSFTPD_PUB/f$i" $((i * 331)) "f$i" || tt_die "files"; done
chmod -R a+rX "$VSFTPD_PUB"

ft=$TT_BUILD/ftp-tunnel slow=""
# Not the ASan build (make check-asan): valgrind cannot run it.
if [ "${TT_SANITIZED:-0}" != 1 ] && command -v valgrind >/dev/null; then
	ft=$T/vg-cli slow=" under valgrind"
	cat >"$ft" <<SH
#!/bin/sh
exec valgrind --tool=memcheck --log-file=$T/logs/vg-cli.%p "$TT_BUILD/ftp-tunnel" "\$@"
SH
	chmod +x "$ft"
fi
LP=$(tt_free_port)
TT_FT_BIN=$ft TT_READY_TENTHS=600 ft_tunnel -vv -o FtpActiveMode=forward -L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" \
	"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "ftp-tunnel$slow"
out="$T/logs/active_order.out"
python3 "$TT_LIB_DIR/helpers/active_order.py" 127.0.0.1 "$LP" 1 100 "$VSFTPD_PUB" >"$out" 2>&1
rc=$?
sed 's/^/# /' "$out" | tail -12 >&2
tt_check "100 active-mode RETRs$slow: each data connection before its replies, every file equal ($(tail -1 "$out"))" [ "$rc" = 0 ]
tt_check "ftp-tunnel$slow forwards active mode" grep -q "active mode forward" "$FT_LOG"
tt_done
