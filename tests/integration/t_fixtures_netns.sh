#!/bin/bash
# t_fixtures_netns.sh — self-test of the namespace fixtures, with no tunnel:
# the cli / srv / far topology and the cli firewall (only SSH to srv gets
# through; the drop counter counts the rest), sshd inside srv, vsftpd on
# srv's own loopback and on far, what a plain `ssh -L` does and does not
# carry (control yes, data no: the problem ftp-tunnel solves), a packet
# capture, and the cleanup itself (a child test killed with TERM must
# leave no process, namespace, mount or directory behind).

. "$(dirname "$0")/lib.sh"
tt_init fixtures_netns

# ---- topology ---------------------------------------------------------------

tt_netns_topology far firewall || tt_die "tt_netns_topology"
tt_pass "namespaces $NS_CLI ($CLI_IP) - $NS_SRV ($SRV_IP, $SRV_FAR_IP) - $NS_FAR ($FAR_IP)"
tt_check "cli has lo ::1" tt_quiet ip -n "$NS_CLI" -6 addr show dev lo

# ---- servers ----------------------------------------------------------------

tt_sshd "$NS_SRV" || tt_die "sshd in $NS_SRV"
tt_pass "sshd in $NS_SRV listens on $SSHD_HOST:$SSHD_PORT, key login works from inside srv"
cfg=$(tt_ssh_config)
tt_check "ssh from cli through the firewall to srv:22 (key login, known host)" \
	tt_quiet tt_in "$NS_CLI" timeout 20 ssh -F "$cfg" "$SRV_IP" true

tt_vsftpd "$NS_SRV" 127.0.0.1 SRVFTP || tt_die "vsftpd in $NS_SRV"
tt_mkfile "$SRVFTP_PUB/f1m" 1M
tt_vsftpd "$NS_FAR" "$FAR_IP" FARFTP || tt_die "vsftpd in $NS_FAR"
tt_mkfile "$FARFTP_PUB/f1m" 1M far-seed
# One that advertises srv's veth address in its 227, as a server behind
# NAT would: a client that believes it leaks a connection out of cli.
TT_VSFTPD_EXTRA="pasv_address=$SRV_IP" tt_vsftpd "$NS_SRV" 127.0.0.1 SRVNAT || tt_die "vsftpd (NAT) in $NS_SRV"
tt_pureftpd "$NS_SRV" 127.0.0.1 SRVPURE || tt_die "pure-ftpd in $NS_SRV"
tt_mkfile "$SRVPURE_PUB/f1m" 1M
tt_pass "vsftpd on srv's 127.0.0.1:$SRVFTP_PORT, on far $FAR_IP:$FARFTP_PORT, pure-ftpd on srv's 127.0.0.1:$SRVPURE_PORT"

# Inside srv: its own FTP servers (loopback) and far's, every mode.
for m in pasv epsv port eprt; do
	tt_ftp -n "$NS_SRV" curl "$m" get 127.0.0.1 "$SRVFTP_PORT" pub/f1m "$T/out/srv-$m" &&
		tt_same "$SRVFTP_PUB/f1m" "$T/out/srv-$m" "curl $m inside srv from srv's vsftpd"
	tt_ftp -n "$NS_SRV" curl "$m" get "$FAR_IP" "$FARFTP_PORT" pub/f1m "$T/out/far-$m" &&
		tt_same "$FARFTP_PUB/f1m" "$T/out/far-$m" "curl $m inside srv from far's vsftpd"
done
tt_ftp -n "$NS_SRV" ftplib epsv put 127.0.0.1 "$SRVPURE_PORT" upload/x "$SRVFTP_PUB/f1m" &&
	tt_same "$SRVFTP_PUB/f1m" "$SRVPURE_UPLOAD_DIR/x" "ftplib epsv put inside srv to srv's pure-ftpd"

# ---- isolation ----------------------------------------------------------------

tt_netns_drops_reset
d0=$(tt_netns_drops)
tt_check "drop counter starts at 0 (got $d0)" [ "$d0" -eq 0 ]
# From cli, srv's FTP port on its veth address is closed (servers bind
# srv's loopback) and filtered: the SYN is dropped in cli.
if tt_in "$NS_CLI" timeout 3 bash -c "exec 3<>/dev/tcp/$SRV_IP/$SRVFTP_PORT" 2>/dev/null; then
	tt_fail "cli reached $SRV_IP:$SRVFTP_PORT"
else
	tt_pass "cli cannot open $SRV_IP:$SRVFTP_PORT"
fi
d1=$(tt_netns_drops out)
tt_check "the firewall counted the dropped SYN(s) ($d1)" [ "$d1" -gt 0 ]
tt_netns_drops_reset
tt_check "tt_netns_drops_reset zeroes the counters" [ "$(tt_netns_drops)" -eq 0 ]
if tt_in "$NS_CLI" timeout 3 bash -c "exec 3<>/dev/tcp/$FAR_IP/$FARFTP_PORT" 2>/dev/null; then
	tt_fail "cli reached far $FAR_IP:$FARFTP_PORT"
else
	tt_pass "cli cannot reach far at all"
fi
if tt_in "$NS_FAR" timeout 3 bash -c "exec 3<>/dev/tcp/$CLI_IP/22" 2>/dev/null; then
	tt_fail "far reached cli"
else
	tt_pass "far cannot reach cli (srv does not forward)"
fi
tt_check "cli has no route to far" tt_quiet bash -c "! ip -n '$NS_CLI' route get '$FAR_IP'"

# ---- plain ssh -L: the control channel goes through, the data channel not --

tt_capture "$NS_CLI" v-cli cli-veth || tt_fail "capture on v-cli"
tt_netns_drops_reset
lport=$(tt_free_port "$NS_CLI")
tt_spawn -n "$NS_CLI" -o "$T/logs/ssh-L.log" ssh -F "$cfg" -N -o ExitOnForwardFailure=yes \
	-L "127.0.0.1:$lport:127.0.0.1:$SRVFTP_PORT" "$SRV_IP"
sshl=$TT_PID
tt_wait_port "$lport" "$NS_CLI" || tt_fail "ssh -L listener in cli"
tt_check "FTP greeting through ssh -L in cli" _tt_greets "$NS_CLI" 127.0.0.1 "$lport"
TT_FTP_TIMEOUT=15 tt_ftp -n "$NS_CLI" curl pasv get 127.0.0.1 "$lport" pub/f1m "$T/out/ssh-L"
rc=$?
tt_check "a passive transfer through plain ssh -L fails (curl exit $rc)" [ "$rc" -ne 0 ]
tt_check "... and nothing was dropped: curl connected to cli's own 127.0.0.1" [ "$(tt_netns_drops)" -eq 0 ]
tt_kill "$sshl"
# Through ssh -L to the server that advertises $SRV_IP: wget believes the
# 227 (tnftp and inetutils-ftp refuse a 227 that names another host than
# the control peer), connects to $SRV_IP:port from cli: dropped.
lport=$(tt_free_port "$NS_CLI")
tt_spawn -n "$NS_CLI" -o "$T/logs/ssh-L-nat.log" ssh -F "$cfg" -N -o ExitOnForwardFailure=yes \
	-L "127.0.0.1:$lport:127.0.0.1:$SRVNAT_PORT" "$SRV_IP"
sshl=$TT_PID
tt_wait_port "$lport" "$NS_CLI" || tt_fail "ssh -L listener in cli"
TT_FTP_TIMEOUT=5 tt_ftp -n "$NS_CLI" wget pasv get 127.0.0.1 "$lport" pub/README "$T/out/ssh-L-nat"
rc=$?
tt_check "wget through ssh -L to a server advertising $SRV_IP fails (exit $rc)" [ "$rc" -ne 0 ]
d2=$(tt_netns_drops)
tt_check "... its data connection to $SRV_IP was dropped in cli ($d2 packets)" [ "$d2" -gt 0 ]
tt_kill "$sshl"
tt_capture_stop
tt_check "the capture saw SSH to $SRV_IP:22" [ "$(tt_capture_packets "$TT_CAP_FILE" "tcp.port == 22")" -gt 0 ]
tt_check "no FTP command crossed v-cli in clear" [ "$(tt_capture_count "$TT_CAP_FILE" "RETR ")" -eq 0 ]

# ---- cleanup of a killed test ------------------------------------------------

child="$T/child.sh"
cat >"$child" <<EOF
. "$TT_LIB_DIR/lib.sh"
tt_init fixtures_child
tt_netns_topology far firewall || exit 1
tt_sshd "\$NS_SRV" || exit 1
tt_vsftpd "\$NS_SRV" || exit 1
tt_pureftpd || exit 1
tt_proftpd "\$NS_FAR" "\$FAR_IP" || exit 1
tt_spawn sleep 300
echo "\$T \$NS_SRV \$NS_CLI \$NS_FAR \$SSHD_PID \$VSFTPD_PID \$PUREFTPD_PID \$PROFTPD_PID \$TT_PID" >"$T/child.facts"
wait "\$TT_PID"
EOF
bash "$child" >"$T/logs/child.log" 2>&1 &
cpid=$!
tt_track "$cpid"
tt_wait_until 300 test -s "$T/child.facts" || tt_fail "child test did not start its fixtures"
read -r ct cns1 cns2 cns3 cpids <"$T/child.facts"
kill -TERM "$cpid"
wait "$cpid"
crc=$?
tt_untrack "$cpid"
tt_check "TERMed child exits non-zero ($crc)" [ "$crc" -ne 0 ]
alive=""
for p in $cpids; do
	_tt_alive "$p" && alive="$alive $p"
	_tt_group_alive "$p" && alive="$alive -$p"
done
tt_check "no process of the child survives ($cpids)" [ -z "$alive" ]
tt_check "the child's namespaces are gone" \
	[ -z "$(ip netns list | awk -v a="$cns1" -v b="$cns2" -v c="$cns3" '$1 == a || $1 == b || $1 == c')" ]
tt_check "the child's temp dir is gone ($ct)" [ ! -e "$ct" ]
tt_check "the child's cleanup printed the fixtures' logs" grep -q -- "----- end of logs" "$T/logs/child.log"

tt_done
