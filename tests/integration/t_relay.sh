#!/bin/bash
# t_relay.sh — the relay half of "data listeners accept only the expected
# peer" (DESIGN.md, Security properties): an -L ftp/ listener bound to a
# non-loopback address serves FTP clients of other hosts, and the passive
# data listener it opens for one of them must take only a connection from
# that client's address (the control connection's peer), and only one.
#
#   NS_SRV (SRV_IP):  sshd :22, vsftpd on 127.0.0.1, and
#                     ftp-tunnel -L ftp/SRV_IP:P:127.0.0.1:VSFTPD root@SRV_IP
#   NS_CLI:           the FTP client from CLI_IP, a stranger from
#                     STRANGER_IP (a second address on the same veth)
#
# For PASV and EPSV: the client learns the data port; the stranger
# connects to it first and must get no byte and be closed at once (the
# tunnel logs the refusal); the client's own data connection is then
# accepted and RETR brings the whole file (sha256); a second connection
# from the client's address, after its own, is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init relay
PY=$TT_PYTHON
LEGIT="$TT_LIB_DIR/helpers/theft_client.py"
THIEF="$TT_LIB_DIR/helpers/theft_thief.py"

tt_netns_topology || tt_die "namespaces"
STRANGER_IP="10.200.$NS_X.3"
ip -n "$NS_CLI" addr add "$STRANGER_IP/24" dev v-cli || tt_die "second address in $NS_CLI"
tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "sshd in $NS_SRV"
tt_vsftpd "$NS_SRV" 127.0.0.1 SRVFTP || tt_die "vsftpd in $NS_SRV"
tt_mkfile "$SRVFTP_PUB/fbig" 3M relay-big
chmod -R a+rX "$SRVFTP_PUB"

P=$(tt_free_port "$NS_SRV")
ft_tunnel -n "$NS_SRV" -vv -L "ftp/$SRV_IP:$P:127.0.0.1:$SRVFTP_PORT" \
	"$SSH_USER@$SRV_IP" || tt_die "tunnel in $NS_SRV"
tt_pass "relay: ftp-tunnel in $NS_SRV listens on $SRV_IP:$P; client $CLI_IP, stranger $STRANGER_IP"

# steal MODE: one round as described at the top.
steal() {
	local mode=$1 d lpid tpid dport before r
	d=$(mktemp -d "$T/steal-$mode.XXXX")
	tt_in "$NS_CLI" "$PY" "$LEGIT" "$SRV_IP" "$P" "$mode" "$d" "$CLI_IP" >"$d/legit.out" 2>&1 &
	lpid=$!
	tt_wait_until 100 test -s "$d/port" ||
		{ tt_fail "$mode: no passive reply ($(cat "$d/legit.out"))"; kill "$lpid"; return; }
	dport=$(cat "$d/port")
	r=$(ft_reply_of "$d/legit.out" passive)
	if [ "$mode" = pasv ]; then
		tt_check "$mode: the reply names the relay address ($r)" \
			bash -c "case '$r' in *'(${SRV_IP//./,},'*) exit 0 ;; *) exit 1 ;; esac"
	fi
	before=$(grep -c "refused a data connection from $STRANGER_IP" "$FT_LOG")
	: >"$d/thief.out"
	tt_in "$NS_CLI" "$PY" "$THIEF" "$SRV_IP" "$dport" "$STRANGER_IP" >"$d/thief.out" 2>&1 &
	tpid=$!
	tt_wait_until 50 grep -q . "$d/thief.out"
	touch "$d/go"
	wait "$tpid"
	wait "$lpid"
	ft_theft_verdict "$mode (stranger $STRANGER_IP, client $CLI_IP, data port $dport)" "$d" \
		"$FT_LOG" "refused a data connection from $STRANGER_IP" "$before" "$SRVFTP_PUB/fbig"
}

steal pasv
steal epsv
grep 'refused a data connection' "$FT_LOG" | sed 's/^/# tunnel: /' >&2
tt_check "the tunnel is still running" kill -0 "$FT_PID"
tt_done
