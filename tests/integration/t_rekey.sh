#!/bin/bash
# t_rekey.sh — key re-exchanges in the middle of transfers (sshd with a
# small RekeyLimit): plain forwards and FTP data channels must lose,
# duplicate or cut nothing while libssh2 re-keys under them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init rekey
TT_SSHD_EXTRA="RekeyLimit 4M" tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/big" 60M
tt_mkfile "$T/up" 40M
src=$(tt_free_port)
tt_spawn socat -U "TCP-LISTEN:$src,bind=127.0.0.1,reuseaddr,fork" "OPEN:$VSFTPD_PUB/big"
tt_wait_port "$src" || tt_die "socat"

lp=$(tt_free_port); fp=$(tt_free_port)
ft_tunnel -v -L "$lp:127.0.0.1:$src" -L "ftp/$fp:127.0.0.1:$VSFTPD_PORT" \
	"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel"

timeout 60 socat -u "TCP:127.0.0.1:$lp" "CREATE:$T/got.fwd"
tt_same "$VSFTPD_PUB/big" "$T/got.fwd" "plain forward, 60 MiB across ~15 re-keys"
for m in pasv epsv port eprt; do
	rm -f "$T/got.$m"
	tt_ftp curl "$m" get 127.0.0.1 "$fp" pub/big "$T/got.$m"
	tt_same "$VSFTPD_PUB/big" "$T/got.$m" "FTP $m download across re-keys"
	tt_ftp curl "$m" put 127.0.0.1 "$fp" "upload/up.$m" "$T/up"
	tt_same "$T/up" "$VSFTPD_UPLOAD_DIR/up.$m" "FTP $m upload across re-keys"
done
tt_check "the tunnel cut no channel" eval '! grep -q ": cut:" "$FT_LOG"'
tt_done
