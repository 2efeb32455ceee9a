#!/bin/bash
# t_wire.sh — what crosses the wire: a packet capture on the client host's
# link (its only way out) while a listener session (ftp-tunnel -L ftp/)
# and a shim session (ftp-tunnel-wrap) log in with a distinctive password,
# list, download and upload a file of distinctive content in passive and
# active mode. Not one FTP command, the password, or a byte string of the
# file may appear in the captured bytes. A control sends the same marker
# in clear over the same link, so the capture is shown to see clear text.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init wire
command -v dumpcap >/dev/null || tt_skip_all "no dumpcap (make deps-test installs tshark)"

tt_netns_topology firewall || tt_die "namespaces"
tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "sshd"
tt_vsftpd "$NS_SRV" "$SRV_IP" || tt_die "vsftpd"
MARK="ftt-wire-marker-$$-do-not-leak"
PASS="Pw-$$-wire-secret"
# A file of lines that each carry the marker: any 64 bytes of it do too.
for i in $(seq 4000); do echo "$MARK line $i"; done >"$VSFTPD_PUB/f"
cp "$VSFTPD_PUB/f" "$T/up"
chmod -R a+rX "$VSFTPD_PUB"

tt_capture "$NS_CLI" v-cli wire || tt_die "capture"

# A listener session, in the client's namespace.
LP=$(tt_free_port "$NS_CLI")
ft_tunnel -n "$NS_CLI" -L "ftp/$LP:$SRV_IP:$VSFTPD_PORT" "$SSH_USER@$SRV_IP" || tt_die "tunnel"
session() { # label port [wrapper...]: ls, get pasv, get port, put
	local label=$1 port=$2 url
	shift 2
	url="ftp://anonymous:$PASS@$SRV_HOST:$port"
	ip netns exec "$NS_CLI" "$@" curl -sS --max-time 60 -l "$url/pub/" >"$T/ls.$label" &&
		ip netns exec "$NS_CLI" "$@" curl -sS --max-time 60 -o "$T/g1.$label" "$url/pub/f" &&
		ip netns exec "$NS_CLI" "$@" curl -sS --max-time 60 -P - -o "$T/g2.$label" "$url/pub/f" &&
		ip netns exec "$NS_CLI" "$@" curl -sS --max-time 60 -T "$T/up" "$url/upload/u.$label"
}
SRV_HOST=127.0.0.1
session listener "$LP"
tt_check "listener session: the transfers went through" \
	eval 'cmp -s "$VSFTPD_PUB/f" "$T/g1.listener" && cmp -s "$VSFTPD_PUB/f" "$T/g2.listener" && cmp -s "$T/up" "$VSFTPD_UPLOAD_DIR/u.listener"'
kill "$FT_PID"

# A shim session: the program talks to the FTP server's own address.
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock" FTP_TUNNELD="$TT_BUILD/ftp-tunneld" \
	FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
mkdir -p "$T/run" && chmod 700 "$T/run"
SRV_HOST=$SRV_IP
session shim "$VSFTPD_PORT" "$TT_BUILD/ftp-tunnel-wrap" --via "$SSH_USER@$SRV_IP" \
	--ports "$VSFTPD_PORT" -i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" \
	-o StrictHostKeyChecking=yes
tt_check "shim session: the transfers went through" \
	eval 'cmp -s "$VSFTPD_PUB/f" "$T/g1.shim" && cmp -s "$VSFTPD_PUB/f" "$T/g2.shim" && cmp -s "$T/up" "$VSFTPD_UPLOAD_DIR/u.shim"'
dp=$(ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" status 2>/dev/null | awk '/^pid:/ {print $2}')
[ -n "$dp" ] && tt_track "$dp"
ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1

# The control: the marker in clear, to the SSH port (the firewall lets
# that through; sshd drops it as a bad banner).
ip netns exec "$NS_CLI" bash -c "exec 3<>/dev/tcp/$SRV_IP/$SSHD_PORT; echo 'CONTROL $MARK' >&3; sleep 0.5" 2>/dev/null
sleep 0.5
tt_capture_stop
tt_check "control: the capture sees clear text ($(tt_capture_count "$TT_CAP_FILE" "CONTROL $MARK") times)" \
	[ "$(tt_capture_count "$TT_CAP_FILE" "CONTROL $MARK")" -ge 1 ]
tt_check "SSH packets were captured ($(tt_capture_packets "$TT_CAP_FILE" "tcp.port == $SSHD_PORT"))" \
	[ "$(tt_capture_packets "$TT_CAP_FILE" "tcp.port == $SSHD_PORT")" -gt 100 ]
for s in "$PASS" "USER anonymous" "PASS " "RETR " "STOR " "NLST" "PASV" "EPSV" "PORT " "EPRT " "227 " "229 " \
	"150 " "226 " "line 1234" "$MARK line"; do
	n=$(tt_capture_count "$TT_CAP_FILE" "$s")
	tt_check "not on the wire in clear: \"$s\" ($n times)" [ "$n" = 0 ]
done
tt_done
