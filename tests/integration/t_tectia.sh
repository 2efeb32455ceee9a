#!/bin/bash
# t_tectia.sh — `ftp-tunnel import-tectia FILE` on SSH Tectia
# ssh-broker-config.xml files: a profile with local FTP and TCP tunnels, a
# remote tunnel, allow-relay and a static tunnel prints the expected
# Profile blocks, with warnings naming file:line on stderr; each kind of
# bad file prints one "error: FILE:LINE:" line and exits 2. Then the
# profile for the test's own sshd and vsftpd, started by name from the XML
# itself, from its import and through a TectiaConfig line, carries real
# FTP downloads, passive and active. <filter-engine> ftp-proxy rules print
# as Routes with Sftp yes that the configuration parser takes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init tectia

FT=$TT_FT_BIN
[ -x "$FT" ] || tt_die "no $FT (run make first)"

# ------------------------------------------------------------ the import
x=$T/broker.xml
cat >"$x" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE secsh-broker SYSTEM "/opt/tectia/share/auxdata/ssh-broker-ng/ssh-broker-ng-config-1.dtd">
<secsh-broker>
  <general>
    <crypto-lib mode="standard" />
    <strict-host-key-checking enable="yes" />
  </general>
  <default-settings>
    <ciphers><cipher name="aes128-ctr" /></ciphers>
    <keepalive-interval time="30" />
  </default-settings>
  <profiles>
    <profile id="id1" name="ftpserver" host="sshserver.example.com" port="2222" user="alice">
      <authentication-methods>
        <auth-publickey><identity file="/home/alice/.ssh/id_ed25519" /></auth-publickey>
      </authentication-methods>
      <tunnels>
        <local-tunnel type="FTP" listen-port="1234" dst-host="127.0.0.1" dst-port="21" allow-relay="NO" />
        <local-tunnel type="TCP" listen-port="8080" dst-host="web.example.com" dst-port="80" allow-relay="yes" />
        <local-tunnel type="ftp" listen-port="1235" listen-address="::1" dst-host="::1" dst-port="21" />
        <remote-tunnel type="FTP" listen-port="2121" dst-host="localhost" dst-port="21" />
      </tunnels>
    </profile>
    <profile id="id2" host="mail.example.com" />
  </profiles>
  <static-tunnels>
    <tunnel type="TCP" listen-port="143" dst-host="imap.example.com" dst-port="143" allow-relay="no" profile="id2" />
  </static-tunnels>
</secsh-broker>
EOF
cat >"$T/want.out" <<EOF
# Imported from $x (SSH Tectia ssh-broker-config.xml)
# by ftp-tunnel import-tectia. A <static-tunnels> entry is a LocalForward
# of the profile it names.

Profile ftpserver
    HostName sshserver.example.com
    User alice
    Port 2222
    ServerAliveInterval 30
    StrictHostKeyChecking yes
    IdentityFile /home/alice/.ssh/id_ed25519
    LocalForward ftp/1234 127.0.0.1:21
    LocalForward *:8080 web.example.com:80
    LocalForward ftp/[::1]:1235 [::1]:21
    RemoteForward ftp/2121 localhost:21

Profile id2
    HostName mail.example.com
    ServerAliveInterval 30
    StrictHostKeyChecking yes
    LocalForward 143 imap.example.com:143
EOF
cat >"$T/want.err" <<EOF
ftp-tunnel: warning: $x:5: <crypto-lib> is not used by ftp-tunnel; ignored
ftp-tunnel: warning: $x:9: <ciphers> is not used by ftp-tunnel; ignored
EOF
"$FT" import-tectia "$x" >"$T/got.out" 2>"$T/got.err"
rc=$?
tt_check "import: exit 0 (got $rc)" [ "$rc" -eq 0 ]
if diff -u "$T/want.out" "$T/got.out" >"$T/diff.out"; then
	tt_pass "import: the expected Profile blocks"
else
	tt_fail "import: output differs: $(cat "$T/diff.out")"
fi
if diff -u "$T/want.err" "$T/got.err" >"$T/diff.err"; then
	tt_pass "import: warnings name file:line and the element"
else
	tt_fail "import: warnings differ: $(cat "$T/diff.err")"
fi

# ------------------------------------------------------------ bad files
# bad NAME LINE PATTERN BODY: BODY (inside <secsh-broker>, which is line 1)
# must fail with exit 2 and one line "ftp-tunnel: error: FILE:LINE: ...".
bad() {
	local f=$T/$1.xml
	printf '<secsh-broker>\n%s\n</secsh-broker>\n' "$4" >"$f"
	ft_run_fail 2 "^ftp-tunnel: error: $f:$2: $3" import-tectia "$f"
}
bad malformed 4 "malformed XML: mismatched tag" \
	'<profiles>
<profile id="a" host="h">
</profiles>'
bad unknown 4 "unknown element <frobnicate> in <tunnels>" \
	'<profiles><profile id="a" host="h">
<tunnels>
<frobnicate/>
</tunnels></profile></profiles>'
bad port 3 "bad listen-port '70000' in <local-tunnel>" \
	'<profiles><profile id="a" host="h"><tunnels>
<local-tunnel type="FTP" listen-port="70000" dst-host="h" dst-port="21"/>
</tunnels></profile></profiles>'
bad missing 3 "<local-tunnel> has no dst-port attribute" \
	'<profiles><profile id="a" host="h"><tunnels>
<local-tunnel type="FTP" listen-port="1234" dst-host="h"/>
</tunnels></profile></profiles>'
bad type 2 "bad type 'SOCKS' in <remote-tunnel>" \
	'<profiles><profile id="a" host="h"><tunnels><remote-tunnel type="SOCKS" listen-port="1" dst-host="h" dst-port="2"/>
</tunnels></profile></profiles>'
bad duplicate 4 "duplicate profile id 'a' \(first at line 3\)" \
	'<profiles>
<profile id="a" host="h"/>
<profile id="a" host="h2"/>
</profiles>'
bad static 3 "static tunnel names profile 'b', which is not defined" \
	'<static-tunnels>
<tunnel type="tcp" listen-port="143" dst-host="imap" dst-port="143" profile="b"/>
</static-tunnels>'
ft_run_fail 2 "^ftp-tunnel: error: $T/none.xml: No such file or directory" \
	import-tectia "$T/none.xml"
ft_run_fail 2 "^usage: ftp-tunnel import-tectia FILE" import-tectia

# ------------------------------------------------------------ owner and permissions
# The XML says where the profiles connect and which keys they use, as a
# native configuration does: the same check (yours or root's, writable by
# nobody else), read directly (-F), through TectiaConfig, or imported.
trust() { # label file
	local f=$2
	FT_WHAT="finding 9: $1 Tectia XML refused (-F)" \
		ft_run_fail 2 "^ftp-tunnel: error: $f: bad owner or permissions .*chmod go-w" -F "$f" ftpserver
	printf 'TectiaConfig %s\n' "$f" >"$T/trust.conf"
	chmod 600 "$T/trust.conf"
	FT_WHAT="finding 9: $1 Tectia XML refused (TectiaConfig)" \
		ft_run_fail 2 "^ftp-tunnel: error: $f: bad owner or permissions" -F "$T/trust.conf" ftpserver
	FT_WHAT="finding 9: $1 Tectia XML refused (import-tectia)" \
		ft_run_fail 2 "^ftp-tunnel: error: $f: bad owner or permissions" import-tectia "$f"
}
install -m 664 "$x" "$T/gw.xml"
trust "group-writable" "$T/gw.xml"
install -m 646 "$x" "$T/ow.xml"
trust "writable by others" "$T/ow.xml"
install -m 644 -o 65534 -g 65534 "$x" "$T/foreign.xml"
trust "another user's" "$T/foreign.xml"

# ------------------------------------------------------------ FTP-SFTP rules
# Three <filter-engine> ftp-proxy rules become Routes with Sftp yes (one
# on any host with hostname-from-app: a Route without Via, the SSH server
# being the host dialed); a block rule is reported by line. The output is a native configuration:
# ftp-tunnel-wrap's parser takes it.
z=$T/rules.xml
cat >"$z" <<'EOF'
<secsh-broker>
  <profiles>
    <profile id="gw1" name="sftpgw" host="sftp.example.com" user="alice" />
  </profiles>
  <filter-engine>
    <network id="office">
      <rule host="ftp.example.com" ports="21-22" action="ftp-proxy" profile-id="gw1" />
    </network>
    <rule ip-address="10.1.2.3" action="ftp-proxy" hostname-from-app="yes" username-from-app="yes" />
    <rule host="old.example.com" action="block" />
    <rule action="ftp-proxy" ports="21" hostname-from-app="yes" />
  </filter-engine>
</secsh-broker>
EOF
chmod 600 "$z"
cat >"$T/rules.want" <<EOF
# Imported from $z (SSH Tectia ssh-broker-config.xml)
# by ftp-tunnel import-tectia. A <static-tunnels> entry is a LocalForward
# of the profile it names.
# A <filter-engine> ftp-proxy rule is a Route with Sftp yes (FTP to SFTP
# conversion).

Profile sftpgw
    HostName sftp.example.com
    User alice

# <rule action="ftp-proxy"> at $z:7
Route ftp.example.com:21 ftp.example.com:22
    Via sftpgw
    Sftp yes
    SftpLogin tunnel

# <rule action="ftp-proxy"> at $z:9 (no ports: FTP's port 21)
Route 10.1.2.3
    Via 10.1.2.3
    Sftp yes
    SftpLogin ftp

# <rule action="ftp-proxy"> at $z:11
Route 0.0.0.0/0:21 [::/0]:21
    Sftp yes
    SftpLogin tunnel
EOF
"$FT" import-tectia "$z" >"$T/rules.out" 2>"$T/rules.err"
rc=$?
tt_check "ftp-proxy rules: exit 0" test "$rc" -eq 0
tt_check "ftp-proxy rules: the expected Routes" diff -u "$T/rules.want" "$T/rules.out"
tt_check "ftp-proxy rules: the block rule warned by line" \
	grep -q "^ftp-tunnel: warning: $z:10: <rule action=\"block\"> is not supported" "$T/rules.err"
tt_check "ftp-proxy rules: no other warning (the any-host rule is imported)" \
	[ "$(wc -l <"$T/rules.err")" -eq 1 ]
chmod 600 "$T/rules.out"
# ftp-tunnel-wrap starts a daemon for a file with routes: ours, on a
# socket of the test's, stopped after (not the user's own).
mkdir -p "$T/run" && chmod 700 "$T/run"
tt_check "ftp-proxy rules: the output parses back (ftp-tunnel-wrap -F)" \
	env FTP_TUNNELD="$TT_BUILD/ftp-tunneld" FTP_TUNNEL_SOCKET="$T/run/parse.sock" \
	FTP_TUNNEL_LOG="$T/parse.log" "$TT_BUILD/ftp-tunnel-wrap" -F "$T/rules.out" true
FTP_TUNNEL_SOCKET="$T/run/parse.sock" "$FT" stop >/dev/null 2>&1
sed 's/SftpLogin ftp/SftpLogin bogus/' "$T/rules.out" >"$T/rules.bad"
chmod 600 "$T/rules.bad"
tt_check "ftp-proxy rules: ... and the parser does check it" \
	eval '! "$TT_BUILD/ftp-tunnel-wrap" -F "$T/rules.bad" true 2>/dev/null'

# ------------------------------------------------------------ imported settings at work
TT_SSHD_EXTRA="Subsystem sftp internal-sftp" tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/f" 1M
chmod -R a+rX "$VSFTPD_PUB"
lport=$(tt_free_port)
y=$T/live.xml
cat >"$y" <<EOF
<secsh-broker>
  <general>
    <strict-host-key-checking enable="yes" />
    <known-hosts path="$SSH_KNOWN_HOSTS" />
    <key-stores><key-store type="software" init="key_files($SSH_KEY)" /></key-stores>
  </general>
  <profiles>
    <profile id="live" host="127.0.0.1" port="$SSHD_PORT" user="$SSH_USER">
      <keepalive-interval time="15" />
      <tunnels>
        <local-tunnel type="FTP" listen-port="$lport" dst-host="127.0.0.1" dst-port="$VSFTPD_PORT" allow-relay="no" />
      </tunnels>
    </profile>
  </profiles>
</secsh-broker>
EOF
"$FT" import-tectia "$y" >"$T/live.out" 2>"$T/live.err"
rc=$?
tt_check "live import: exit 0, no warnings" test "$rc" -eq 0 -a ! -s "$T/live.err"
tt_check "live import: the forward is ftp/$lport 127.0.0.1:$VSFTPD_PORT" \
	grep -qx "    LocalForward ftp/$lport 127.0.0.1:$VSFTPD_PORT" "$T/live.out"
chmod 600 "$y" "$T/live.out"
printf 'TectiaConfig %s\n' "$y" >"$T/include.conf"
chmod 600 "$T/include.conf"

# The profile started by name three ways: the XML read directly (-F), the
# import used as the native configuration, and the XML through a
# TectiaConfig line; each carries passive and active downloads.
by_name() { # label ftp-tunnel-args...
	local label=$1 mode
	shift
	if ft_tunnel -e -o BatchMode=yes "$@" live; then
		for mode in pasv port; do
			ft_transfer "$label" "" curl "$mode" get 127.0.0.1 "$lport" \
				"$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR"
		done
		kill "$FT_PID"
		for i in $(seq 30); do _tt_alive "$FT_PID" || break; sleep 0.1; done
	else
		tt_fail "$label: the profile live did not come up"
	fi
}
by_name "ftp-tunnel -F broker.xml live" -F "$y"
by_name "ftp-tunnel -F imported.conf live" -F "$T/live.out"
by_name "TectiaConfig broker.xml, ftp-tunnel live" -F "$T/include.conf"
# The live profile's import as an FTP-SFTP Route, used by an unmodified
# client under ftp-tunnel-wrap: the daemon answers 127.0.0.9:21 (where
# nothing listens) from the test sshd's SFTP.
if ss -Hltn 'sport = :21' | grep -q .; then
	tt_skip "ftp-proxy rule at work: something listens on port 21 here"
else
	w=$T/sftp.xml
	sed "s|</profiles>|</profiles>\n  <filter-engine><rule host=\"127.0.0.9\" ports=\"21\" action=\"ftp-proxy\" profile-id=\"live\" /></filter-engine>|" "$y" >"$w"
	chmod 600 "$w"
	"$FT" import-tectia "$w" >"$T/sftp.conf" 2>"$T/sftp.err"
	chmod 600 "$T/sftp.conf"
	tt_check "ftp-proxy rule at work: imported as a Route with Sftp yes" \
		grep -qx "Route 127.0.0.9:21" "$T/sftp.conf"
	mkdir -p "$T/run" && chmod 700 "$T/run"
	rm -f "$T/sftp.got"
	if FTP_TUNNELD="$TT_BUILD/ftp-tunneld" FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so" \
		FTP_TUNNEL_CLI="$FT" FTP_TUNNEL_SOCKET="$T/run/daemon.sock" \
		FTP_TUNNEL_LOG="$T/sftpd.log" \
		"$TT_BUILD/ftp-tunnel-wrap" -F "$T/sftp.conf" \
		curl -sS --max-time 30 "ftp://x:y@127.0.0.9/%2F${VSFTPD_PUB#/}/f" -o "$T/sftp.got" 2>"$T/sftp.curl"; then
		tt_same "$VSFTPD_PUB/f" "$T/sftp.got" "ftp-proxy rule at work: curl get through the imported Route"
	else
		tt_fail "ftp-proxy rule at work: curl: $(tail -3 "$T/sftp.curl" "$T/sftpd.log" | tr '\n' ' ')"
	fi
	tt_check "ftp-proxy rule at work: the daemon answered from SFTP" \
		grep -q "answered from SFTP" "$T/sftpd.log"
	FTP_TUNNEL_SOCKET="$T/run/daemon.sock" "$FT" stop >/dev/null 2>&1
fi
# The first example's import is a good native file too.
chmod 600 "$T/got.out"
ft_run_fail 2 "no tunnel given" -F "$T/got.out" nosuchprofile
tt_done
