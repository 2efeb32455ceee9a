#!/bin/bash
# demo.sh — `make demo`: a private sshd and vsftpd, and a real FTP client
# (curl) tunneled through `ftp-tunnel -L ftp/...`. The FTP server runs in a
# network namespace of its own, on that namespace's loopback: nothing
# outside can reach it except through sshd, so every byte the client gets
# went through SSH. Needs root (namespaces); cleans up after itself.
TT_NAME=demo
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/tunnel.sh"

say() { printf '  %s\n' "$*"; }
step() { printf '\n%s\n' "$*"; }

[ -x "$TT_FT_BIN" ] || { echo "demo: build first (make)" >&2; exit 1; }
tt_init demo >/dev/null
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
