#!/bin/bash
# t_valgrind.sh — memcheck on the two programs that hold sessions: the
# daemon (started by the shim through a wrapper script) carries 100
# transfers (curl: one FTP session of 50 in PASV, one of 50 in PORT), then
# stops; ftp-tunnel -L ftp/ carries 100 more the same way. valgrind must
# report no error and no definitely or indirectly lost block (its exit
# status says so: --error-exitcode with leaks counted as errors).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init valgrind
command -v valgrind >/dev/null || tt_skip_all "no valgrind (make deps-test installs it)"

tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
for i in $(seq 100); do head -c $((i * 331)) /dev/urandom >"$VSFTPD_PUB/f$i"; done
chmod -R a+rX "$VSFTPD_PUB"
VG=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no)

# curl fetches f1..f100 in one FTP session, half of them active.
hundred() { # host port outdir
	mkdir -p "$3"
	curl -sS --max-time 240 -o "$3/f#1" "ftp://$1:$2/pub/f[1-50]" &&
		curl -sS --max-time 240 -P - -o "$3/f#1" "ftp://$1:$2/pub/f[51-100]"
}
same_hundred() { # outdir label
	local i bad=0
	for i in $(seq 100); do cmp -s "$VSFTPD_PUB/f$i" "$1/f$i" || bad=$((bad + 1)); done
	tt_check "$2: 100 files, all equal ($bad differ)" [ "$bad" = 0 ]
}

# --- the daemon -------------------------------------------------------
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock"
mkdir -p "$T/run" && chmod 700 "$T/run"
cat >"$T/vg-daemon" <<SH
#!/bin/sh
exec ${VG[*]} --log-file=$T/logs/vg-daemon.%p "$TT_BUILD/ftp-tunneld" "\$@"
SH
chmod +x "$T/vg-daemon"
export FTP_TUNNELD="$T/vg-daemon" FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
"$TT_BUILD/ftp-tunnel-wrap" --via "$SSH_USER@127.0.0.1:$SSHD_PORT" --ports "$VSFTPD_PORT" \
	-i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" \
	bash -c "$(declare -f hundred); hundred 127.0.0.1 $VSFTPD_PORT $T/got-daemon" \
	>"$T/logs/daemon-run.log" 2>&1
tt_check "through the daemon under valgrind: curl succeeded" [ $? = 0 ]
same_hundred "$T/got-daemon" "daemon"
dp=$("$TT_BUILD/ftp-tunnel" status 2>/dev/null | awk '/^pid:/ {print $2}')
[ -n "$dp" ] && tt_track "$dp"
"$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
for i in $(seq 200); do [ -n "$dp" ] && _tt_alive "$dp" || break; sleep 0.1; done
vlog=$(ls "$T"/logs/vg-daemon.* 2>/dev/null | head -1)
tt_check "the daemon ran under valgrind ($vlog)" [ -n "$vlog" ]
tt_check "daemon: valgrind's summary: $(grep -h 'ERROR SUMMARY' $vlog | sed 's/^==[0-9]*== //')" \
	grep -q "ERROR SUMMARY: 0 errors" $vlog
tt_check "daemon: it exited and valgrind counted the heap" grep -q "HEAP SUMMARY" $vlog
tt_check "daemon: no block definitely or indirectly lost" \
	eval '! grep -E "(definitely|indirectly) lost: [1-9]" $vlog'

# --- ftp-tunnel -L ftp/ -------------------------------------------------
LP=$(tt_free_port)
TT_FT_BIN_SAVED=$TT_FT_BIN
cat >"$T/vg-cli" <<SH
#!/bin/sh
exec ${VG[*]} --log-file=$T/logs/vg-cli.%p "$TT_BUILD/ftp-tunnel" "\$@"
SH
chmod +x "$T/vg-cli"
TT_FT_BIN="$T/vg-cli" TT_READY_TENTHS=600 ft_tunnel -L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" \
	"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "ftp-tunnel under valgrind"
hundred 127.0.0.1 "$LP" "$T/got-cli" >"$T/logs/cli-run.log" 2>&1
tt_check "through ftp-tunnel under valgrind: curl succeeded" [ $? = 0 ]
same_hundred "$T/got-cli" "ftp-tunnel"
kill -TERM "$FT_PID"
rc=0
for i in $(seq 300); do _tt_alive "$FT_PID" || break; sleep 0.1; done
vlog=$(ls "$T"/logs/vg-cli.* 2>/dev/null | head -1)
tt_check "ftp-tunnel: valgrind's summary: $(grep -h 'ERROR SUMMARY' $vlog | sed 's/^==[0-9]*== //')" \
	grep -q "ERROR SUMMARY: 0 errors" $vlog
tt_check "ftp-tunnel: it exited and valgrind counted the heap" grep -q "HEAP SUMMARY" $vlog
tt_check "ftp-tunnel: no block definitely or indirectly lost" \
	eval '! grep -E "(definitely|indirectly) lost: [1-9]" $vlog'
TT_FT_BIN=$TT_FT_BIN_SAVED

tt_done
