#!/bin/bash
# t_ssh_config.sh — OpenSSH's client configuration read by ftp-tunnel and
# ftp-tunneld, so an alias in ~/.ssh/config works unchanged:
#  1. ftp-tunnel -L ftp/… myalias: HostName, User, Port, IdentityFile,
#     UserKnownHostsFile from ~/.ssh/config (HOME=$T/home, the alias in a
#     file it Includes); get and put sha256-equal; -v names the files and
#     blocks; the first value wins over `Host *` below it; without any
#     file, the default key and known_hosts under ~/.ssh. ~ is the
#     password entry's home, as for ssh (tt_own_home: $T/home mounted
#     there): a HOME naming another directory, with its own .ssh, changes
#     nothing;
#  2. ftp-tunnel-wrap --via myalias curl …: the daemon reads the same file;
#     get and put; the session is named by the alias; another destination
#     for the same server gets its own session, the alias again does not;
#  3. -o on the command line wins over the file (a wrong Port fails, a
#     wrong User is refused); FTP_TUNNEL_SSH_CONFIG replaces the user file
#     and a bad value there names file and line;
#  4. ProxyJump in the file for the host: one clear line, exit 255, from
#     ftp-tunnel and through the wrapper;
#  5. the machine's /etc/ssh/ssh_config (Debian's: Include, Host *,
#     SendEnv, HashKnownHosts, GSSAPIAuthentication) read without complaint.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_own_home "$@"
tt_init ssh_config

for f in ftp-tunnel ftp-tunneld ftp-tunnel-wrap libftptunnel.so; do
	[ -f "$TT_BUILD/$f" ] || tt_skip_all "$TT_BUILD/$f is not built (make)"
done
unset FTP_TUNNEL_VIA FTP_TUNNEL_OPTIONS FTP_TUNNEL_PORTS FTP_TUNNEL_DEBUG \
	FTP_TUNNEL_CONFIG LD_PRELOAD SSH_AUTH_SOCK
export FTP_TUNNELD=$TT_BUILD/ftp-tunneld FTP_TUNNEL_SHIM=$TT_BUILD/libftptunnel.so
export FTP_TUNNEL_SOCKET=$T/run/daemon.sock
mkdir -m 700 "$T/run"

tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/f" 2M
tt_mkfile "$T/up" 1M

# The user's files, as ssh finds them: ~/.ssh/config in the password
# entry's home (HOME here), the alias in a file it includes, defaults at
# the end that must not win.
unset FTP_TUNNEL_SSH_CONFIG
mkdir -p -m 700 "$HOME/.ssh/config.d"
# The key and known_hosts named with ~/, as users write them.
install -m 600 "$SSH_KEY" "$HOME/.ssh/tt_key"
install -m 600 "$SSH_KNOWN_HOSTS" "$HOME/.ssh/tt_known_hosts"
cat >"$HOME/.ssh/config.d/tt.conf" <<'EOF'
Host myalias
    HostName 127.0.0.1
    User @USER@
    Port @PORT@
    IdentityFile ~/.ssh/tt_key
    UserKnownHostsFile ~/.ssh/tt_known_hosts
    StrictHostKeyChecking yes
EOF
cat >"$HOME/.ssh/config" <<EOF
# ~/.ssh/config of the test user.
Include config.d/*.conf

Host bastion-* !bastion-ok
    ProxyJump jump.example.com

Host *
    BatchMode yes
    Port 1
    User nobody
    SendEnv LANG LC_*
    HashKnownHosts yes
    GSSAPIAuthentication yes
    ControlMaster auto
EOF
sed -i -e "s/@USER@/$SSH_USER/" -e "s/@PORT@/$SSHD_PORT/" "$HOME/.ssh/config.d/tt.conf"
chmod 600 "$HOME/.ssh/config" "$HOME/.ssh/config.d/tt.conf"
proxy_line=$(grep -n ProxyJump "$HOME/.ssh/config" | cut -d: -f1)

# ------------------------------------------------------------ 1. ftp-tunnel
echo "# 1. ftp-tunnel -L ftp/... myalias"
lport=$(tt_free_port)
if ft_tunnel -e -v -L "ftp/$lport:127.0.0.1:$VSFTPD_PORT" myalias; then
	tt_pass "ftp-tunnel myalias: up with only ~/.ssh/config's settings"
	for m in pasv epsv; do
		for op in get put; do
			ft_transfer cli "" curl "$m" "$op" 127.0.0.1 "$lport" \
				"$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR"
		done
	done
	tt_check "-v: the user file was read" grep -q "reading ssh config ~/.ssh/config for myalias" "$FT_LOG"
	tt_check "-v: the included file was read" grep -q "reading ssh config ~/.ssh/config.d/tt.conf" "$FT_LOG"
	tt_check "-v: the block that applied" grep -q "tt.conf line 1: Host myalias applies to myalias" "$FT_LOG"
	tt_check "-v: the alias and its HostName" grep -q "myalias is 127.0.0.1" "$FT_LOG"
	tt_kill "$FT_PID"
else
	tt_fail "ftp-tunnel myalias did not come up"
fi
tt_check "ftp-tunnel --check myalias (what the wrapper runs on a terminal)" \
	timeout 20 "$TT_FT_BIN" --check myalias </dev/null
# Without -i or UserKnownHostsFile: the default key and known_hosts in
# ~/.ssh, as ssh takes them: the password entry's home, whatever HOME
# says. HOME names another directory with a .ssh of its own: its config
# sends myalias to a closed port, it has no key.
install -m 600 "$SSH_KEY" "$HOME/.ssh/id_ed25519"
install -m 600 "$SSH_KNOWN_HOSTS" "$HOME/.ssh/known_hosts"
mkdir -p -m 700 "$T/home2/.ssh"
printf 'Host myalias\n    Port 1\n    User nobody\n' >"$T/home2/.ssh/config"
chmod 600 "$T/home2/.ssh/config"
tt_check "finding 9: HOME=$T/home2: --check uses the password entry's default key and known_hosts, not HOME's (none)" \
	env HOME="$T/home2" FTP_TUNNEL_SSH_CONFIG=none timeout 20 "$TT_FT_BIN" \
	--check -o StrictHostKeyChecking=yes -p "$SSHD_PORT" "$SSH_USER@127.0.0.1" </dev/null
tt_check "finding 9: HOME=$T/home2: myalias comes from the password entry's ~/.ssh/config, not HOME's (Port 1)" \
	env HOME="$T/home2" timeout 20 "$TT_FT_BIN" --check myalias </dev/null
rm -f "$HOME/.ssh/id_ed25519" "$HOME/.ssh/known_hosts"

# ------------------------------------------------------------ 2. the wrapper
echo "# 2. ftp-tunnel-wrap --via myalias"
status() { "$TT_FT_BIN" status 2>/dev/null; }
TT_FTP_WRAP="$TT_BUILD/ftp-tunnel-wrap --via myalias --ports $VSFTPD_PORT"
for op in get put; do
	ft_transfer wrap "" curl pasv "$op" 127.0.0.1 "$VSFTPD_PORT" \
		"$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR"
done
TT_FTP_WRAP=""
dpid=$(status | awk '/^pid:/ {print $2}')
if [ -n "$dpid" ]; then
	tt_track "$dpid"
	tt_pass "the wrapper started the daemon (pid $dpid)"
else
	tt_fail "no daemon answers STATUS"
fi
tt_check "the daemon's session is named by the alias" \
	eval 'status | grep -q "myalias ($SSH_USER@127.0.0.1:$SSHD_PORT) .* ready"'
# The same server by address and explicit options: another session; the
# alias again: the same one.
"$TT_BUILD/ftp-tunnel-wrap" --via "$SSH_USER@127.0.0.1:$SSHD_PORT" --ports "$VSFTPD_PORT" \
	-i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" \
	curl -sS --max-time 20 -o "$T/g2" "ftp://127.0.0.1:$VSFTPD_PORT/pub/f"
tt_same "$VSFTPD_PUB/f" "$T/g2" "by address and options, beside the alias"
"$TT_BUILD/ftp-tunnel-wrap" --via myalias --ports "$VSFTPD_PORT" \
	curl -sS --max-time 20 -o "$T/g3" "ftp://127.0.0.1:$VSFTPD_PORT/pub/f"
tt_same "$VSFTPD_PUB/f" "$T/g3" "the alias once more"
n=$("$TT_FT_BIN" status --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sessions"]))')
tt_check "two sessions: the alias's and the address's ($n)" [ "$n" -eq 2 ]

# The wrapper's ProxyJump host: the program's connect fails, the user is
# told why in one line, nothing goes out in clear text.
out=$("$TT_BUILD/ftp-tunnel-wrap" --via bastion-1 --ports "$VSFTPD_PORT" \
	curl -sS --max-time 20 -o "$T/g4" "ftp://127.0.0.1:$VSFTPD_PORT/pub/f" 2>&1)
rc=$?
tt_check "wrapper, ProxyJump host: curl fails (exit $rc), nothing fetched" \
	eval '[ "$rc" -ne 0 ] && [ ! -s "$T/g4" ]'
tt_check "wrapper, ProxyJump host: the reason reaches the user ($(echo "$out" | head -1 | cut -c1-100))" \
	eval 'echo "$out" | grep -q "line $proxy_line: ProxyJump (Host bastion-\* !bastion-ok) is not supported by ftp-tunnel"'
"$TT_FT_BIN" stop >/dev/null

# ------------------------------------------------------------ 3. precedence
echo "# 3. the command line wins, FTP_TUNNEL_SSH_CONFIG"
bad=$(tt_free_port)
ft_run_fail 255 "cannot connect to 127.0.0.1 port $bad \(myalias\)" \
	-o "Port=$bad" --check myalias
ft_run_fail 255 "Permission denied" -l nosuchuser --check myalias
ft_run_fail 255 "cannot connect to 127.0.0.1 port $bad \(myalias\)" \
	--check "myalias:$bad"
cat >"$T/alt.conf" <<EOF
Host alt
    HostName 127.0.0.1
    Port $SSHD_PORT
    IdentityFile $SSH_KEY
    UserKnownHostsFile $SSH_KNOWN_HOSTS
Host myalias
    Port nope
EOF
chmod 600 "$T/alt.conf"
tt_check "FTP_TUNNEL_SSH_CONFIG=FILE: its alias works" \
	env FTP_TUNNEL_SSH_CONFIG="$T/alt.conf" timeout 20 "$TT_FT_BIN" --check -o BatchMode=yes alt </dev/null
FTP_TUNNEL_SSH_CONFIG="$T/alt.conf" \
	ft_run_fail 255 "^ftp-tunnel: error: $T/alt.conf line 7: bad value 'nope' for option Port\$" \
	--check myalias
chmod 666 "$T/alt.conf"
FTP_TUNNEL_SSH_CONFIG="$T/alt.conf" \
	ft_run_fail 255 "alt.conf: bad owner or permissions" --check alt
FTP_TUNNEL_SSH_CONFIG=none \
	ft_run_fail 255 "cannot resolve myalias" -o ConnectTimeout=5 --check myalias

# ------------------------------------------------------------ 4. ProxyJump
echo "# 4. ProxyJump"
ft_run_fail 255 "^ftp-tunnel: error: ~/.ssh/config line $proxy_line: ProxyJump \(Host bastion-\* !bastion-ok\) is not supported by ftp-tunnel; connect to the jump host's forwarded port instead, or use ssh -L to it\$" \
	-L "ftp/$(tt_free_port):127.0.0.1:$VSFTPD_PORT" bastion-1
ft_run_fail 255 "cannot resolve bastion-ok" -o ConnectTimeout=5 --check bastion-ok
ft_run_fail 255 "cannot connect to 127.0.0.1 port $bad \(bastion-2\)" \
	-o ProxyJump=none -o HostName=127.0.0.1 -o "Port=$bad" --check bastion-2

# ------------------------------------------------------------ 5. /etc/ssh
echo "# 5. the machine's /etc/ssh/ssh_config"
if [ -f /etc/ssh/ssh_config ]; then
	out=$(FTP_TUNNEL_SSH_SYSTEM_CONFIG= timeout 20 "$TT_FT_BIN" -v --check myalias 2>&1 </dev/null)
	rc=$?
	tt_check "read and connected (exit $rc)" [ "$rc" -eq 0 ]
	tt_check "it was read" eval 'echo "$out" | grep -q "reading ssh config /etc/ssh/ssh_config for myalias"'
	tt_check "no complaint: $(echo "$out" | grep -E 'error|warning' | head -1)" \
		eval '! echo "$out" | grep -qE "error|warning"'
else
	tt_skip "no /etc/ssh/ssh_config on this machine"
fi

tt_done
