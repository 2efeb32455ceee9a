#!/bin/bash
# t_shim_datatheft.sh — a wrapped program's data connections reach only
# the tunnel daemon, never whoever else listens on loopback. Another local
# user listens on 127.0.0.1 at a port the program connects to on the FTP
# server's host (a passive port the tunnel has closed, another port of
# that host; curl's second URL) and connects to the program's own
# listener: it must receive nothing, the program's connects to those
# ports fail, the stranger's connection is not reported as the FTP
# server's, and real active and passive transfers still arrive intact.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init shim_datatheft
[ -x "$TT_BUILD/libftptunnel.so" ] && [ -x "$TT_BUILD/ftp-tunnel-wrap" ] &&
	[ -x "$TT_BUILD/ftp-tunneld" ] || tt_die "build first (make)"

tt_netns_topology firewall || tt_die "namespaces"
tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "sshd"
tt_vsftpd "$NS_SRV" "$SRV_IP" || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/f" 2M
want=$(tt_sha "$VSFTPD_PUB/f")

export FTP_TUNNEL_SOCKET="$T/run/daemon.sock"
export FTP_TUNNELD="$TT_BUILD/ftp-tunneld"
export FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
mkdir -p "$T/run" && chmod 700 "$T/run"
WRAP="$TT_BUILD/ftp-tunnel-wrap --via $SSH_USER@$SRV_IP --ports $VSFTPD_PORT -i $SSH_KEY -o UserKnownHostsFile=$SSH_KNOWN_HOSTS -o StrictHostKeyChecking=yes"
H="$TT_TOP/tests/integration/helpers"

stranger="ftt-dt$$"
useradd -M -d /nonexistent -s /usr/sbin/nologin "$stranger" || tt_die "useradd"
SPID=""
_dt_exit() {
	local rc=$?
	[ -n "$SPID" ] && tt_kill "$SPID"
	userdel "$stranger" >/dev/null 2>&1
	(exit "$rc")
	_tt_exit
}
trap '_dt_exit' EXIT

D="$T/meet"
mkdir -p "$D" && chmod 777 "$D"
other=$(tt_free_port "$NS_CLI") || tt_die "no free port"
tt_spawn -n "$NS_CLI" -o "$T/stranger.out" setpriv --reuid="$stranger" \
	--regid=nogroup --clear-groups /usr/bin/python3 "$H/datatheft_stranger.py" "$D" "$other"
SPID=$TT_PID
tt_wait_until 100 test -e "$D/ready" || tt_die "the stranger did not start"

ip netns exec "$NS_CLI" $WRAP /usr/bin/python3 "$H/datatheft_client.py" \
	"$SRV_IP" "$VSFTPD_PORT" "$D" "$other" >"$T/client.out" 2>"$T/client.err"
tt_log "client: $(tr '\t\n' ' ;' <"$T/client.out")"
tt_log "client stderr: $(tr '\n' ';' <"$T/client.err")"
val() { awk -F'\t' -v k="$1" '$1 == k {print $2}' "$T/client.out"; }

# curl in an FTP session fetches a second URL on the FTP server's host:
# through the tunnel or not at all, never to the stranger's port.
ip netns exec "$NS_CLI" $WRAP curl -sS --max-time 20 \
	"ftp://$SRV_IP:$VSFTPD_PORT/pub/f" -o "$T/curl.f" \
	"http://$SRV_IP:$other/secret" -o "$T/curl.http" 2>"$T/curl.err"
tt_log "curl: exit $?, $(tr '\n' ';' <"$T/curl.err")"

touch "$D/done"
tt_wait_until 100 grep -q '^end' "$T/stranger.out"
tt_log "stranger: $(tr '\t\n' ' ;' <"$T/stranger.out")"

stale=$(cat "$D/stale" 2>/dev/null)
tt_check "finding 4: the stranger could listen on the closed passive port $stale" \
	eval '! grep -q "^stale.cannot" "$T/stranger.out"'
tt_check "finding 4: a connect to the closed passive port fails ($(val stale))" \
	eval '[ "$(val stale)" = "refused (ECONNREFUSED)" ]'
tt_check "finding 4: a connect to port $other of the FTP server's host fails ($(val other))" \
	eval '[ "$(val other)" = "refused (ECONNREFUSED)" ]'
tt_check "finding 4: the stranger received no connection of the program's" \
	eval '! grep -q "^conn" "$T/stranger.out"'
tt_check "finding 4: the stranger's connection is not reported as the FTP server's ($(val accepted))" \
	[ "$(val accepted)" = 127.0.0.1 ]
tt_check "finding 4: a real active-mode connection is reported as the FTP server's ($(val active_peer))" \
	[ "$(val active_peer)" = "$SRV_IP" ]
tt_check "finding 4: active RETR arrives intact" [ "$(val active_sha)" = "$want" ]
tt_check "finding 4: passive RETR arrives intact" [ "$(val passive_sha)" = "$want" ]
tt_same "$VSFTPD_PUB/f" "$T/curl.f" "curl: the FTP file, beside its second URL"
tt_check "finding 4: curl's second URL reached nobody" [ ! -s "$T/curl.http" ]

ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
tt_done
