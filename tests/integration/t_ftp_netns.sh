#!/bin/bash
# t_ftp_netns.sh — proof that every byte of an FTP session goes through
# SSH. Three network namespaces: cli (the tunnel and the FTP clients), srv
# (sshd on SRV_IP:22, vsftpd on srv's own 127.0.0.1) and far (vsftpd on
# FAR_IP, reachable from srv only). cli's firewall lets out nothing but
# SSH to SRV_IP:22 and counts what it drops.
#
#   ftp-tunnel -L ftp/P1:127.0.0.1:SRVFTP -L ftp/P2:FAR_IP:FARFTP root@SRV_IP
#
# - srv's loopback vsftpd: every client in every mode it supports, get and
#   put of a few MiB, sha256-compared; the server must see the client's
#   PASV/EPSV as such, and PASV for a PORT/EPRT (auto mode converts: no
#   data listener on srv for another user there to take).
# - far's vsftpd: the same.
# - the drop counters stay 0 through all of it; a direct connection from
#   cli to either FTP server fails (control case); a capture on cli's veth
#   sees SSH only, no FTP command or file byte in clear.
# - FtpActiveMode=forward with the far server: vsftpd refuses the PORT
#   that names the SSH server's loopback (500 Illegal PORT command), the
#   client fails cleanly, the tunnel lives on and cleans up its forward.
# - FtpActiveMode=forward with srv's loopback server, every client that
#   can: the server sees the client's own PORT/EPRT, naming its loopback.
#
# TT_NETNS_SIZE (default 4M) is the transfer size.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init ftp_netns
SIZE=${TT_NETNS_SIZE:-4M}

tt_netns_topology far firewall || tt_die "namespaces"
tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "sshd in $NS_SRV"
tt_vsftpd "$NS_SRV" 127.0.0.1 SRVFTP || tt_die "vsftpd in $NS_SRV"
tt_vsftpd "$NS_FAR" "$FAR_IP" FARFTP || tt_die "vsftpd in $NS_FAR"
tt_pass "topology: cli $CLI_IP -> srv $SRV_IP (sshd :22, vsftpd 127.0.0.1:$SRVFTP_PORT) -> far $FAR_IP (vsftpd :$FARFTP_PORT)"

tt_mkfile "$SRVFTP_PUB/fbig" "$SIZE" srv-big
tt_mkfile "$FARFTP_PUB/fbig" "$SIZE" far-big
tt_mkfile "$SRVFTP_PUB/f1m" 1M srv-1m
tt_mkfile "$T/up/ubig" "$SIZE" up-big
chmod -R a+rX "$SRVFTP_PUB" "$FARFTP_PUB"

P1=$(tt_free_port "$NS_CLI")
P2=$(tt_free_port "$NS_CLI")
ft_tunnel -n "$NS_CLI" -vv -L "ftp/$P1:127.0.0.1:$SRVFTP_PORT" \
	-L "ftp/$P2:$FAR_IP:$FARFTP_PORT" "$SSH_USER@$SRV_IP" || tt_die "tunnel in $NS_CLI"
AUTO_PID=$FT_PID AUTO_LOG=$FT_LOG
tt_pass "ftp-tunnel in $NS_CLI: ftp/$P1 -> srv's 127.0.0.1:$SRVFTP_PORT, ftp/$P2 -> $FAR_IP:$FARFTP_PORT"

# The data commands a server logged since tt_wire_mark, as a set.
wire_set() { tt_wire_raw "$1" | awk '{ print toupper($1) }' | sort -u | paste -sd,; }

# xfer TAG SRV LPORT CLIENT MODE WANT: get and put of $SIZE through the
# tunnel at 127.0.0.1:LPORT in cli; the server (prefix SRV) must have seen
# WANT (PASV, EPSV, PORT or EPRT) as its only data command.
xfer() {
	local tag=$1 srv=$2 lport=$3 c=$4 m=$5 want=$6 op pub up w why
	pub=${srv}_PUB
	up=${srv}_UPLOAD_DIR
	for op in get put; do
		# Cells a client cannot do (wget put, lftp EPRT on IPv4...)
		# are not tests: t_fixtures_direct.sh lists them.
		tt_ftp_supports "$c" "$m" "$op" || continue
		tt_wire_mark "$srv"
		why=""
		if [ "$op" = get ]; then
			rm -f "$T/got"
			if ! tt_ftp -n "$NS_CLI" "$c" "$m" get 127.0.0.1 "$lport" pub/fbig "$T/got"; then
				why="client exit $?"
			elif ! tt_cmp "${!pub}/fbig" "$T/got"; then
				why="different: $(_tt_fdesc "$T/got")"
			fi
		else
			local dst="$c-$m"
			rm -f "${!up}/$dst"
			if ! tt_ftp -n "$NS_CLI" "$c" "$m" put 127.0.0.1 "$lport" "upload/$dst" "$T/up/ubig"; then
				why="client exit $?"
			elif ! tt_cmp "$T/up/ubig" "${!up}/$dst"; then
				why="different: $(_tt_fdesc "${!up}/$dst")"
			fi
			rm -f "${!up}/$dst"
		fi
		w=$(wire_set "$srv")
		if [ -z "$why" ] && [ "$w" != "$want" ]; then
			why="the server saw '$w', not $want"
		fi
		if [ -z "$why" ]; then
			tt_pass "$tag $c $m $op $SIZE: sha256 equal, server saw $want"
		else
			tt_fail "$tag $c $m $op: $why ($TT_FTP_LOG)"
		fi
	done
}

# ---- srv's loopback vsftpd, every client and mode --------------------------

tt_netns_drops_reset
tt_check "drop counters are 0 before the transfers" [ "$(tt_netns_drops)" -eq 0 ]
for c in $TT_FTP_CLIENTS; do
	for m in $TT_FTP_MODES; do
		case $m in
		pasv | epsv) want=$(tt_ftp_mode_cmd "$m") ;;
		*) want=PASV ;; # auto mode converts: the tunnel sends PASV itself
		esac
		xfer "srv-lo" SRVFTP "$P1" "$c" "$m" "$want"
	done
done
tt_check "auto mode: srv's loopback server never saw a PORT or EPRT" \
	tt_quiet bash -c "! grep -E 'FTP command: .*\"(PORT|EPRT) ' '$SRVFTP_LOG'"
d=$(tt_netns_drops)
tt_check "srv-lo: cli's firewall dropped nothing during the tunneled transfers ($d)" [ "$d" -eq 0 ] ||
	tt_netns_log >&2

# ---- far's vsftpd: passive as is, active converted -------------------------

tt_netns_drops_reset
for c in $TT_FTP_CLIENTS; do
	for m in $TT_FTP_MODES; do
		case $m in
		pasv | epsv) want=$(tt_ftp_mode_cmd "$m") ;;
		*) want=PASV ;; # auto mode converts: the tunnel sends PASV itself
		esac
		xfer "far" FARFTP "$P2" "$c" "$m" "$want"
	done
done
tt_check "the far server never saw a PORT or EPRT" \
	tt_quiet bash -c "! grep -E 'FTP command: .*\"(PORT|EPRT) ' '$FARFTP_LOG'"
tt_check "the far server's control peer was srv's address $SRV_FAR_IP" \
	grep -q "FTP command: Client \"$SRV_FAR_IP\"" "$FARFTP_LOG"
tt_check "auto: the tunnel converts for both, with forward mode as the fallback for srv's loopback only" \
	bash -c "grep -q 'active mode convert)' '$AUTO_LOG' && grep -q 'active mode convert, else forward)' '$AUTO_LOG' && ! grep -q 'active mode forward' '$AUTO_LOG'"
d=$(tt_netns_drops)
tt_check "far: cli's firewall dropped nothing during the tunneled transfers ($d)" [ "$d" -eq 0 ] ||
	tt_netns_log >&2

# ---- nothing in clear on the wire -------------------------------------------

tt_capture "$NS_CLI" v-cli cli-veth || tt_fail "capture on v-cli"
tt_ftp -n "$NS_CLI" curl pasv get 127.0.0.1 "$P1" pub/f1m "$T/cap.got"
tt_ftp -n "$NS_CLI" curl port get 127.0.0.1 "$P2" pub/fbig "$T/cap.far"
tt_capture_stop
tt_same "$SRVFTP_PUB/f1m" "$T/cap.got" "captured session: srv-lo curl pasv get 1 MiB"
tt_same "$FARFTP_PUB/fbig" "$T/cap.far" "captured session: far curl port get"
# A 64-byte chunk from the middle of each file must not be in the capture.
chunk=$(dd if="$SRVFTP_PUB/f1m" bs=64 skip=5000 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
n_ssh=$(tt_capture_packets "$TT_CAP_FILE" "tcp.port == 22")
n_other=$(tt_capture_packets "$TT_CAP_FILE" "not arp and not (ip.addr == $SRV_IP and tcp.port == 22)")
tt_check "capture: $n_ssh SSH packets, $n_other others on v-cli" [ "$n_ssh" -gt 100 -a "$n_other" -eq 0 ]
tt_check "capture: no FTP command (USER/RETR/PASV/PORT/227) in clear" [ \
	"$(($(tt_capture_count "$TT_CAP_FILE" "RETR ") + $(tt_capture_count "$TT_CAP_FILE" "USER anonymous") +
		$(tt_capture_count "$TT_CAP_FILE" "PASV") + $(tt_capture_count "$TT_CAP_FILE" "PORT 127") +
		$(tt_capture_count "$TT_CAP_FILE" "227 Entering")))" -eq 0 ]
tt_check "capture: no 64-byte chunk of the file in clear" \
	tt_quiet bash -c "! od -An -tx1 -v '$TT_CAP_FILE' | tr -d ' \n' | grep -q '$chunk'"
rm -f "$TT_CAP_FILE"

# ---- control case: no direct way from cli to either FTP server ---------------

tt_netns_drops_reset
if tt_in "$NS_CLI" timeout 3 bash -c "exec 3<>/dev/tcp/$SRV_IP/$SRVFTP_PORT" 2>/dev/null; then
	tt_fail "control: cli reached $SRV_IP:$SRVFTP_PORT directly"
else
	tt_pass "control: cli cannot connect to $SRV_IP:$SRVFTP_PORT"
fi
d=$(tt_netns_drops out)
tt_check "control: ... and the firewall counted it ($d dropped out)" [ "$d" -gt 0 ]
if tt_in "$NS_CLI" timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SRVFTP_PORT" 2>/dev/null; then
	tt_fail "control: cli's own 127.0.0.1:$SRVFTP_PORT answered"
else
	tt_pass "control: nothing on cli's own 127.0.0.1:$SRVFTP_PORT (the server is on srv's loopback)"
fi
if tt_in "$NS_CLI" timeout 3 bash -c "exec 3<>/dev/tcp/$FAR_IP/$FARFTP_PORT" 2>/dev/null; then
	tt_fail "control: cli reached far $FAR_IP:$FARFTP_PORT directly"
else
	tt_pass "control: cli cannot connect to far $FAR_IP:$FARFTP_PORT"
fi
TT_FTP_TIMEOUT=10 tt_ftp -n "$NS_CLI" curl pasv get "$SRV_IP" "$SRVFTP_PORT" pub/f1m "$T/direct"
tt_check "control: curl directly to $SRV_IP:$SRVFTP_PORT fails (exit $?)" [ ! -s "$T/direct" ]
TT_FTP_TIMEOUT=10 tt_ftp -n "$NS_CLI" curl pasv get "$FAR_IP" "$FARFTP_PORT" pub/fbig "$T/direct2"
tt_check "control: curl directly to $FAR_IP:$FARFTP_PORT fails (exit $?)" [ ! -s "$T/direct2" ]
# Inside srv, the same vsftpd does answer (it is alive, just not reachable).
tt_ftp -n "$NS_SRV" curl pasv get 127.0.0.1 "$SRVFTP_PORT" pub/f1m "$T/insrv" &&
	tt_ftp -n "$NS_SRV" curl pasv get "$FAR_IP" "$FARFTP_PORT" pub/fbig "$T/insrv2"
tt_check "control: both FTP servers answer from inside srv" \
	bash -c "cmp -s '$SRVFTP_PUB/f1m' '$T/insrv' && cmp -s '$FARFTP_PUB/fbig' '$T/insrv2'"

# ---- FtpActiveMode=forward with the far server --------------------------------

P3=$(tt_free_port "$NS_CLI")
P4=$(tt_free_port "$NS_CLI")
ft_tunnel -n "$NS_CLI" -vv -o FtpActiveMode=forward -L "ftp/$P3:$FAR_IP:$FARFTP_PORT" \
	-L "ftp/$P4:127.0.0.1:$SRVFTP_PORT" "$SSH_USER@$SRV_IP" || tt_die "forward-mode tunnel"
FWD_PID=$FT_PID FWD_LOG=$FT_LOG
tt_netns_drops_reset
srv_listeners() { # TCP listeners in srv other than sshd's :22 and vsftpd's
	ip netns exec "$NS_SRV" ss -Hltn "sport != :22" | awk '{ print $4 }' |
		grep -v -E ":$SRVFTP_PORT$" | sort | paste -sd' '
}
listeners_back() { [ "$(srv_listeners)" = "$before" ]; }
before=$(srv_listeners)
tt_wire_mark FARFTP
TT_FTP_TIMEOUT=20 tt_ftp -n "$NS_CLI" curl port get 127.0.0.1 "$P3" pub/fbig "$T/fwd.got"
rc=$?
tt_check "forward mode, far server: curl PORT get fails (exit $rc)" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
flog=$TT_FTP_LOG
tt_check "forward mode, far server: the tunnel sent PORT naming the SSH server's loopback" \
	grep -q "FTP command: Client \"$SRV_FAR_IP\", \"PORT 127,0,0,1," "$FARFTP_LOG"
tt_check "forward mode, far server: vsftpd answered 500 Illegal PORT command" \
	grep -q "FTP response: Client \"$SRV_FAR_IP\", \"500 Illegal PORT command" "$FARFTP_LOG"
tt_check "forward mode, far server: the client got that 500" grep -q '< 500 Illegal PORT command' "$flog"
tt_check "forward mode, far server: no file was written" [ ! -s "$T/fwd.got" ]
TT_FTP_TIMEOUT=20 tt_ftp -n "$NS_CLI" ftplib eprt get 127.0.0.1 "$P3" pub/fbig "$T/fwd2.got"
rc=$?
tt_check "forward mode, far server: ftplib EPRT get fails too (exit $rc)" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
tt_check "forward mode, far server: ... with vsftpd's 500 for the EPRT" \
	grep -q "500 Illegal EPRT command" "$TT_FTP_LOG"
tt_check "forward mode: the tunnel is still running" _tt_alive "$FWD_PID"
tt_check "forward mode: the tcpip-forward listeners on srv's loopback are gone again" \
	tt_wait_until 50 listeners_back
tt_ftp -n "$NS_CLI" curl pasv get 127.0.0.1 "$P3" pub/fbig "$T/fwd3.got" &&
	tt_same "$FARFTP_PUB/fbig" "$T/fwd3.got" "forward mode, far server: a passive get still works afterwards"
tt_ftp -n "$NS_CLI" curl port get 127.0.0.1 "$P4" pub/fbig "$T/fwd4.got" &&
	tt_same "$SRVFTP_PUB/fbig" "$T/fwd4.got" "forward mode, srv's loopback server: curl PORT get works"
d=$(tt_netns_drops)
tt_check "forward mode: cli's firewall dropped nothing ($d)" [ "$d" -eq 0 ]

# ---- FtpActiveMode=forward with srv's loopback server, every client ---------

P5=$(tt_free_port "$NS_CLI")
ft_tunnel -n "$NS_CLI" -vv -o FtpActiveMode=forward -L "ftp/$P5:127.0.0.1:$SRVFTP_PORT" \
	"$SSH_USER@$SRV_IP" || tt_die "forward-mode tunnel to srv's loopback"
tt_netns_drops_reset
for c in $TT_FTP_CLIENTS; do
	for m in port eprt; do
		xfer "forward srv-lo" SRVFTP "$P5" "$c" "$m" "$(tt_ftp_mode_cmd "$m")"
	done
done
tt_check "forward mode: PORT passed on naming srv's loopback" \
	grep -q 'FTP command: Client "127.0.0.1", "PORT 127,0,0,1,' "$SRVFTP_LOG"
d=$(tt_netns_drops)
tt_check "forward mode, srv-lo: cli's firewall dropped nothing ($d)" [ "$d" -eq 0 ]

tt_check "the auto-mode tunnel is still running" _tt_alive "$AUTO_PID"
tt_check "no tunnel logged an error" \
	tt_quiet bash -c "! grep -E 'error|refused|ending the FTP session' '$AUTO_LOG' '$FWD_LOG'"

tt_done
