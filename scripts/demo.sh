#!/bin/bash
# demo.sh — `make demo`: a private sshd and vsftpd, and real FTP clients
# tunneled: curl through `ftp-tunnel -L ftp/...`, then an unmodified
# inetutils-ftp through `ftp-tunnel-wrap --via` (the transparent mode).
# The FTP servers run in a network namespace of their own, behind a
# firewall that lets only SSH through: every byte the clients get went
# through SSH. Needs root (namespaces); cleans up after itself.
TT_NAME=demo
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/tunnel.sh"

say() { printf '  %s\n' "$*"; }
step() { printf '\n%s\n' "$*"; }

[ -x "$TT_FT_BIN" ] || { echo "demo: build first (make)" >&2; exit 1; }
tt_init demo >/dev/null
# Step 8 gives the client host an /etc/hosts of its own, in /etc/netns.
trap 'rc=$?; [ -n "${NS_CLI:-}" ] && rm -rf "/etc/netns/$NS_CLI"
[ "${NETNS_ETC_MADE:-0}" = 1 ] && rmdir /etc/netns 2>/dev/null; (exit $rc); _tt_exit' EXIT
echo "ftp-tunnel demo: FTP through SSH, control and data channels"

step "1. Two hosts: a client host and a server host (network namespaces)."
tt_netns_topology firewall || tt_die "namespaces"
say "client host $CLI_IP; server host $SRV_IP; the client host's firewall lets"
say "only SSH (tcp port 22 to $SRV_IP) out."

step "2. On the server host: OpenSSH's sshd on $SRV_IP:22 and vsftpd on 127.0.0.1."
tt_sshd "$NS_SRV" "$SRV_IP" >/dev/null || tt_die "sshd"
tt_vsftpd "$NS_SRV" 127.0.0.1 >/dev/null || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/report.bin" 20M
tt_mkfile "$T/upload.bin" 5M
say "sshd is up; vsftpd serves pub/report.bin (20 MiB) on the server's own loopback."

step "3. A direct FTP connection from the client host cannot reach it:"
if ip netns exec "$NS_CLI" curl -s --max-time 3 "ftp://$SRV_IP:$VSFTPD_PORT/" >/dev/null 2>&1; then
	say "unexpected: the FTP server was reachable directly"
else
	say "curl ftp://$SRV_IP:$VSFTPD_PORT/ -> fails (port closed, firewall)"
fi

tt_netns_drops_reset

step "4. The tunnel, on the client host:"
lport=2121
say "\$ ftp-tunnel -L ftp/$lport:127.0.0.1:$VSFTPD_PORT root@$SRV_IP"
ft_tunnel -n "$NS_CLI" -vv -L "ftp/$lport:127.0.0.1:$VSFTPD_PORT" "$SSH_USER@$SRV_IP" ||
	tt_die "tunnel"
say "up: it listens on 127.0.0.1:$lport of the client host."

step "5. An unmodified FTP client (curl) on the client host, through the tunnel:"
fail=0
run() { # label curl-args...
	local label=$1
	shift
	if ip netns exec "$NS_CLI" curl -s --max-time 60 "$@"; then
		say "$label: ok"
	else
		say "$label: FAILED"
		fail=1
	fi
}
run "passive download (EPSV)" -o "$T/got.epsv" "ftp://127.0.0.1:$lport/pub/report.bin"
run "active download (EPRT)" -P - -o "$T/got.eprt" "ftp://127.0.0.1:$lport/pub/report.bin"
run "passive upload (PASV)" --disable-epsv -T "$T/upload.bin" "ftp://127.0.0.1:$lport/upload/up.pasv"
run "active upload (PORT)" -P - --disable-eprt -T "$T/upload.bin" "ftp://127.0.0.1:$lport/upload/up.port"

step "6. What arrived, by sha256:"
check() { # label a b
	if tt_cmp "$2" "$3"; then
		say "$1: identical ($(tt_sha "$2" | cut -c1-16)...)"
	else
		say "$1: DIFFERENT"
		fail=1
	fi
}
check "downloaded, passive" "$VSFTPD_PUB/report.bin" "$T/got.epsv"
check "downloaded, active " "$VSFTPD_PUB/report.bin" "$T/got.eprt"
check "uploaded, passive  " "$T/upload.bin" "$VSFTPD_UPLOAD_DIR/up.pasv"
check "uploaded, active   " "$T/upload.bin" "$VSFTPD_UPLOAD_DIR/up.port"

step "7. Proof that it all went through SSH:"
say "packets the client host's firewall dropped since step 3 (anything"
say "that tried to leave other than SSH): $(tt_netns_drops)"
say "SSH channels the tunnel opened for data: $(grep -c 'chan .* data [0-9]*: closed' "$FT_LOG")"
grep 'chan .* data [0-9]*: closed' "$FT_LOG" | sed 's/^ftp-tunnel: debug: /    /'

step "8. The transparent mode: an unmodified program, its FTP tunneled by ftp-tunnel-wrap."
# ftp.example.test: a second vsftpd, on the server host's own address and
# the usual port 21, slowed down (anon_max_rate) so that `ftp-tunnel
# status` can be asked during a transfer. The client host resolves the
# name through its own /etc/hosts: `ip netns exec` bind-mounts
# /etc/netns/NAME/hosts there.
TT_VSFTPD_PORT=21 TT_VSFTPD_EXTRA="anon_max_rate=4000000" \
	tt_vsftpd "$NS_SRV" "$SRV_IP" EXAMPLE >/dev/null || tt_die "vsftpd on port 21"
tt_mkfile "$EXAMPLE_PUB/release.tar" 8M
[ -d /etc/netns ] || { mkdir /etc/netns && NETNS_ETC_MADE=1; }
mkdir -p "/etc/netns/$NS_CLI"
{ cat /etc/hosts; echo "$SRV_IP ftp.example.test"; } >"/etc/netns/$NS_CLI/hosts"
say "ftp.example.test is $SRV_IP for the client host (its /etc/hosts); vsftpd"
say "listens there on port 21, behind the same firewall. The shim starts the"
say "user's daemon, ftp-tunneld, which makes the SSH connection."
# The daemon of this demo: its own socket and log, the build's programs.
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock" FTP_TUNNEL_LOG="$T/daemon.log"
export FTP_TUNNELD="$TT_BUILD/ftp-tunneld" FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
mkdir -p "$T/run" && chmod 700 "$T/run"
tt_log_add daemon.log "$FTP_TUNNEL_LOG"
cat >"$T/ftp.in" <<EOF
user anonymous demo@
binary
get pub/release.tar $T/got.wrap
put $T/upload.bin upload/up.wrap
quit
EOF
tt_netns_drops_reset
say "\$ ftp-tunnel-wrap --via $SSH_USER@$SRV_IP inetutils-ftp ftp.example.test"
say "ftp> get pub/release.tar (8 MiB), then put upload.bin, in active mode,"
say "inetutils-ftp's default:"
ip netns exec "$NS_CLI" "$TT_BUILD/ftp-tunnel-wrap" --via "$SSH_USER@$SRV_IP" \
	-i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
	inetutils-ftp -n -v ftp.example.test <"$T/ftp.in" >"$T/ftp.out" 2>&1 &
ftp_pid=$!
tt_track "$ftp_pid"
# `ftp-tunnel status` while the download runs: the SSH session, the
# control connection and its data connection.
data_listed() {
	"$TT_BUILD/ftp-tunnel" status >"$T/status" 2>&1 && grep -q '^ *data [0-9]*: ' "$T/status"
}
tt_wait_until 100 data_listed
wait "$ftp_pid"
tt_untrack "$ftp_pid"
grep -E '^(150|200|226) |bytes (received|sent)' "$T/ftp.out" | sed 's/^/    ftp| /'
[ "$(grep -c '^226 ' "$T/ftp.out")" = 2 ] || fail=1
say "\$ ftp-tunnel status   (during the download)"
sed 's/^/    /' "$T/status"
grep -q '^ *data [0-9]*: active' "$T/status" || { say "no data connection listed"; fail=1; }
DPID=$(awk '/^pid:/ {print $2}' "$T/status")
[ -n "$DPID" ] && tt_track "$DPID"

step "9. What arrived, and the proof, for the transparent mode:"
check "downloaded, active " "$EXAMPLE_PUB/release.tar" "$T/got.wrap"
check "uploaded, active   " "$T/upload.bin" "$EXAMPLE_UPLOAD_DIR/up.wrap"
say "the FTP server was asked for data with: $(grep -o -E '"(PORT|EPRT|PASV|EPSV)' "$EXAMPLE_LOG" | tr -d '"' | paste -sd' ')"
say "(the daemon answers the client's PORT itself and fetches the data in"
say "passive mode, over SSH)"
say "packets the client host's firewall dropped during step 8: $(tt_netns_drops)"
[ "$(tt_netns_drops)" = 0 ] || fail=1
"$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
if [ "$fail" = 0 ]; then
	echo
	echo "demo: all transfers went through SSH and arrived intact."
	tt_pass "demo" >/dev/null
else
	echo
	echo "demo: something failed; logs in $T (kept)"
	TT_KEEP=1
	exit 1
fi
