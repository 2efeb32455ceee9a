#!/bin/bash
# t_pump_refill.sh — a download through ftp-tunnel -L ftp/ must not stall
# when the pump's buffer was full and the socket side drains it inside the
# channel service: libssh2 then holds the rest of the window (2 MiB) that
# nothing on the SSH socket will announce again, so the pump has to read
# again at once. Before the fix, 4 of 24 EPSV downloads of 50 MiB on a
# loaded machine stopped with "window in 2097152 (queued 2097152)" and an
# empty pump in the SIGUSR1 dump. 12 downloads of 50 MiB (PASV and EPSV
# alternating), each compared by sha256; a data connection silent for
# 15 s counts as a stall. The race needs a loaded machine: at load ~12
# the old build stalled in 2 of 12 downloads twice (a repro loop with the
# same client); at load ~4 this test passed on it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init pump_refill

tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/fbig" 50M pump-refill || tt_die "file"
chmod -R a+rX "$VSFTPD_PUB"
LP=$(tt_free_port)
ft_tunnel -v -L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" "$SSH_USER@127.0.0.1:$SSHD_PORT" ||
	tt_die "ftp-tunnel"
want=$(tt_sha "$VSFTPD_PUB/fbig")
bad=0
for i in $(seq 12); do
	mode=epsv
	[ $((i % 2)) = 0 ] && mode=pasv
	r=$(python3 "$TT_LIB_DIR/helpers/retr_watch.py" 127.0.0.1 "$LP" "$mode" pub/fbig "$T/got" 2>&1)
	if [ "${r#ok}" = "$r" ] || [ "$(tt_sha "$T/got")" != "$want" ]; then
		bad=$((bad + 1))
		tt_log "download $i ($mode): $r"
	fi
	rm -f "$T/got"
done
tt_check "12 downloads of 50 MiB, none stalled, all equal ($bad bad)" [ "$bad" = 0 ]
tt_check "the tunnel is still running" kill -0 "$FT_PID"
tt_done
