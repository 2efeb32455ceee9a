#!/bin/bash
# t_sftp_wrap.sh — the transparent way to SFTP: `ftp-tunnel-wrap --sftp`
# and a Route with `Sftp yes`. Unmodified clients dial an FTP server that
# does not exist (nothing listens on port 21 anywhere); ftp-tunneld
# answers their control connections itself from the SSH server's SFTP,
# and the shim brings their data connections to it. With --via, through
# the given server; without, the host the program dialed is the SSH
# server (port 22, in namespaces whose firewall lets only SSH out), and a
# Route with Sftp yes may leave out Via for the same (Tectia's
# hostname-from-app, imported by import-tectia). Whose login: the
# daemon's own when an SSH user is given, else each FTP login's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init sftp_wrap

U="ftt-sw$$" PW="Pw-$$-sw"
R="$T/home"
_wrap_exit() {
	local rc=$?
	FTP_TUNNEL_SOCKET="$T/run/daemon.sock" "$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
	FTP_TUNNEL_SOCKET="$T/run2/daemon.sock" "$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
	if id -u "$U" >/dev/null 2>&1; then
		pkill -KILL -U "$(id -u "$U")" 2>/dev/null
		userdel "$U" >/dev/null 2>&1 || userdel -f "$U" >/dev/null 2>&1
	fi
	(exit "$rc")
	_tt_exit
}
trap '_wrap_exit' EXIT

# The SSH user's home is the tree the FTP logins start in.
mkdir -p "$R/pub" "$R/up"
useradd -M -d "$R" -U -s /bin/sh "$U" && echo "$U:$PW" | chpasswd || tt_die "useradd $U"
chown -R "$U:$U" "$R"
chmod 755 "$T"
for s in 0 1 1048589; do
	tt_mkfile "$R/pub/f$s" "$s"
	tt_mkfile "$T/src$s" "$s" "up$s"
done
chmod -R a+rX "$T"/src*

if ss -Hltn 'sport = :21' | grep -q .; then
	tt_skip_all "something listens on port 21 here: the test needs it free"
fi

TT_SSHD_EXTRA="Subsystem sftp internal-sftp" tt_sshd || tt_die "sshd"
export FTP_TUNNELD="$TT_BUILD/ftp-tunneld" FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
export FTP_TUNNEL_CLI="$TT_BUILD/ftp-tunnel"
mkdir -p "$T/run" "$T/run2" && chmod 700 "$T/run" "$T/run2"
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock" FTP_TUNNEL_LOG="$T/daemon.log"
tt_log_add daemon.log "$FTP_TUNNEL_LOG"

# cells LABEL HOST CLIENTS MODES [-n NS]: get and put of each size.
cells() {
	local label=$1 host=$2 clients=$3 modes=$4 c m s n ns=()
	[ -n "${5:-}" ] && ns=(-n "$5")
	for c in $clients; do
		for m in $modes; do
			tt_ftp_supports "$c" "$m" get "$host" || continue
			for s in 0 1 1048589; do
				rm -f "$T/got"
				if tt_ftp "${ns[@]}" "$c" "$m" get "$host" 21 "pub/f$s" "$T/got"; then
					tt_same "$R/pub/f$s" "$T/got" "$label $c $m get $s B"
				else
					tt_fail "$label $c $m get $s B: $(tail -3 "$TT_FTP_LOG" | tr '\n' ' ')"
				fi
			done
			tt_ftp_supports "$c" "$m" put "$host" || continue
			n="up/$label-$c-$m"
			rm -f "$R/$n"
			if tt_ftp "${ns[@]}" "$c" "$m" put "$host" 21 "$n" "$T/src1048589"; then
				tt_same "$T/src1048589" "$R/$n" "$label $c $m put"
			else
				tt_fail "$label $c $m put: $(tail -3 "$TT_FTP_LOG" | tr '\n' ' ')"
			fi
		done
	done
}

# ---- --sftp --via: the program dials 127.0.0.7:21, where nothing listens
TT_FTP_WRAP="$TT_BUILD/ftp-tunnel-wrap --sftp --via $U@127.0.0.1:$SSHD_PORT -i $SSH_KEY -o UserKnownHostsFile=$SSH_KNOWN_HOSTS"
# A passive port waits 60 s for its data connection (fsdata.h), then takes
# none, not even one the shim hands over (it used to, after the timeout:
# the listener stayed open and DATA gave it the connection, which was
# then never closed). Started now, it waits while the clients run.
LATE="/usr/bin/python3 $TT_TOP/tests/integration/helpers/late_data.py 127.0.0.7 21 anonymous x"
$TT_FTP_WRAP $LATE 0 >"$T/late0.out" 2>&1
tt_spawn -o "$T/late.out" $TT_FTP_WRAP $LATE 62
late_pid=$TT_PID
cells via 127.0.0.7 "curl lftp tnftp inetutils ftplib wget ncftp" "pasv epsv port"
tt_check "a passive port takes its data connection in time ($(tr '\t\n' ' ;' <"$T/late0.out"))" \
	grep -qx "$(printf 'connect\tconnected')" "$T/late0.out"
tt_wait_until 900 grep -q '^connect' "$T/late.out"
tt_check "a passive port 62 s old takes no connection from the shim ($(tr '\t\n' ' ;' <"$T/late.out"))" \
	grep -qx "$(printf 'connect\trefused (ECONNREFUSED)')" "$T/late.out"
wait "$late_pid" 2>/dev/null
tt_untrack "$late_pid"
rm -f "$T/ls"
if tt_ftp ftplib pasv ls 127.0.0.7 21 pub "$T/ls" && grep -q f1048589 "$T/ls"; then
	tt_pass "via: ftplib ls"
else
	tt_fail "via: ftplib ls: $(tail -3 "$TT_FTP_LOG" | tr '\n' ' ')"
fi
tt_check "the daemon served them from SFTP" grep -q "answered from SFTP" "$FTP_TUNNEL_LOG"
tt_check "no channel to an FTP port was opened" eval '! grep -q "direct-tcpip\|FTP control connection to" "$FTP_TUNNEL_LOG"'
unset TT_FTP_WRAP

# ---- a Route with Sftp yes --------------------------------------------
cat >"$T/route.conf" <<EOF
Route 127.0.0.8:21
    Via $U@127.0.0.1:$SSHD_PORT
    Sftp yes
    IdentityFile $SSH_KEY
    UserKnownHostsFile $SSH_KNOWN_HOSTS
EOF
TT_FTP_WRAP="$TT_BUILD/ftp-tunnel-wrap -F $T/route.conf"
cells route 127.0.0.8 "curl lftp" "epsv port"
unset TT_FTP_WRAP
"$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1

# ---- -o SftpLogin=ftp: each FTP login is its own SSH login (a password) --
TT_SSHD_EXTRA="Subsystem sftp internal-sftp
Match User $U
    PasswordAuthentication yes" tt_sshd || tt_die "sshd with passwords"
TT_FTP_WRAP="$TT_BUILD/ftp-tunnel-wrap --sftp --via 127.0.0.1:$SSHD_PORT -o SftpLogin=ftp -o UserKnownHostsFile=$SSH_KNOWN_HOSTS"
TT_FTP_USER=$U TT_FTP_PASS=$PW cells login 127.0.0.7 "curl lftp" "epsv port"
out=$($TT_FTP_WRAP curl -sS "ftp://$U:wrong@127.0.0.7/pub/f1" -o /dev/null 2>&1)
tt_check "SftpLogin=ftp through the shim: a wrong password is 530 ($out)" eval 'echo "$out" | grep -q 530'
# A login's SSH connection runs off the daemon's main thread (which only
# answers requests): a 64 MiB download costs the process CPU time, the
# main thread next to none of it.
tt_mkfile "$R/pub/big" $((64 * 1048576))
dpid=$("$TT_BUILD/ftp-tunnel" status 2>/dev/null | awk '/^pid:/ { print $2 }')
cpu0=$(tt_cpu "$dpid")
$TT_FTP_WRAP curl -sS "ftp://$U:$PW@127.0.0.7/pub/big" -o "$T/big.got" 2>"$T/big.err"
tt_same "$R/pub/big" "$T/big.got" "SftpLogin=ftp through the shim: 64 MiB get"
tt_check_off_main "the login's transfer ran off the daemon's main thread" "$dpid" "$cpu0"
rm -f "$R/pub/big" "$T/big.got"
unset TT_FTP_WRAP

# ---- the default without an SSH user is SftpLogin=ftp -------------------
# --via without a user, with our key given: under SftpLogin=tunnel the
# daemon's own login (root, by that key) would let any FTP password in.
TT_FTP_WRAP="$TT_BUILD/ftp-tunnel-wrap --sftp --via 127.0.0.1:$SSHD_PORT -i $SSH_KEY -o UserKnownHostsFile=$SSH_KNOWN_HOSTS"
TT_FTP_USER=$U TT_FTP_PASS=$PW cells nouser 127.0.0.7 "curl" "epsv"
out=$($TT_FTP_WRAP curl -sS "ftp://$U:wrong@127.0.0.7/pub/f1" -o /dev/null 2>&1)
tt_check "--via host without a user: a wrong password is 530 ($out)" eval 'echo "$out" | grep -q 530'
unset TT_FTP_WRAP
# A Route whose Via has no user, likewise.
cat >"$T/route-nouser.conf" <<EOF
Route 127.0.0.9:21
    Via 127.0.0.1:$SSHD_PORT
    Sftp yes
    IdentityFile $SSH_KEY
    UserKnownHostsFile $SSH_KNOWN_HOSTS
EOF
TT_FTP_WRAP="$TT_BUILD/ftp-tunnel-wrap -F $T/route-nouser.conf"
TT_FTP_USER=$U TT_FTP_PASS=$PW cells route-nouser 127.0.0.9 "curl" "epsv"
out=$(timeout 30 $TT_FTP_WRAP curl -sS "ftp://$U:wrong@127.0.0.9/pub/f1" -o /dev/null 2>&1)
tt_check "a Route with Sftp yes, Via without a user: a wrong password is 530 ($out)" eval 'echo "$out" | grep -q 530'
unset TT_FTP_WRAP
tt_check "the logins were password logins as $U" grep -q "Accepted password for $U" "$SSHD_LOG"
tt_check "and never a key" eval '! grep -q "publickey for $U" "$SSHD_LOG"'
"$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1

# ---- --sftp without --via: the dialed host's port 22 ------------------
tt_netns_topology firewall || tt_die "namespaces (with the firewall)"
TT_SSHD_EXTRA="Subsystem sftp internal-sftp
Match User $U
    PasswordAuthentication yes" tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "sshd in $NS_SRV"
export FTP_TUNNEL_SOCKET="$T/run2/daemon.sock" FTP_TUNNEL_LOG="$T/daemon2.log"
tt_log_add daemon2.log "$FTP_TUNNEL_LOG"
tt_netns_drops_reset
TT_FTP_WRAP="$TT_BUILD/ftp-tunnel-wrap --sftp -o User=$U -i $SSH_KEY -o UserKnownHostsFile=$SSH_KNOWN_HOSTS"
cells dialed "$SRV_IP" "curl lftp ftplib" "pasv port" "$NS_CLI"
unset TT_FTP_WRAP
# No user at all: each FTP login is its own SSH login (our key, root's,
# is given and never used).
TT_FTP_WRAP="$TT_BUILD/ftp-tunnel-wrap --sftp -i $SSH_KEY -o UserKnownHostsFile=$SSH_KNOWN_HOSTS"
TT_FTP_USER=$U TT_FTP_PASS=$PW cells dialed-nouser "$SRV_IP" "curl lftp" "pasv" "$NS_CLI"
out=$(tt_in "$NS_CLI" timeout 30 $TT_FTP_WRAP curl -sS "ftp://$U:wrong@$SRV_IP/pub/f1" -o /dev/null 2>&1)
tt_check "--sftp without --via or a user: a wrong password is 530 ($out)" eval 'echo "$out" | grep -q 530'
unset TT_FTP_WRAP

# ---- a Route with Sftp yes and no Via: the host dialed ------------------
# Written by hand, with a User (so the daemon's own login, by key: any
# FTP login gets in) ...
cat >"$T/route-dialed.conf" <<EOF
Route $SRV_IP
    Sftp yes
    User $U
    IdentityFile $SSH_KEY
    UserKnownHostsFile $SSH_KNOWN_HOSTS
EOF
TT_FTP_WRAP="$TT_BUILD/ftp-tunnel-wrap -F $T/route-dialed.conf"
cells route-dialed "$SRV_IP" "curl lftp" "pasv port" "$NS_CLI"
unset TT_FTP_WRAP
# ... and imported from a Tectia rule on any host (hostname-from-app and
# username-from-app: each FTP login's own, by password).
cat >"$T/rule.xml" <<EOF
<secsh-broker>
  <filter-engine>
    <rule action="ftp-proxy" hostname-from-app="yes" username-from-app="yes" />
  </filter-engine>
</secsh-broker>
EOF
chmod 600 "$T/rule.xml"
"$TT_BUILD/ftp-tunnel" import-tectia "$T/rule.xml" >"$T/route-tectia.conf" 2>"$T/import.err"
tt_check "import-tectia: a hostname-from-app rule on any host is imported ($(head -c 300 "$T/import.err"))" \
	eval '[ ! -s "$T/import.err" ] && ! grep -q "^ *Via" "$T/route-tectia.conf"'
echo "    UserKnownHostsFile $SSH_KNOWN_HOSTS" >>"$T/route-tectia.conf"
chmod 600 "$T/route-tectia.conf"
TT_FTP_WRAP="$TT_BUILD/ftp-tunnel-wrap -F $T/route-tectia.conf"
TT_FTP_USER=$U TT_FTP_PASS=$PW cells route-tectia "$SRV_IP" "curl lftp" "epsv port" "$NS_CLI"
out=$(tt_in "$NS_CLI" timeout 30 $TT_FTP_WRAP curl -sS "ftp://$U:wrong@$SRV_IP/pub/f1" -o /dev/null 2>&1)
tt_check "the imported Route: a wrong password is 530 ($out)" eval 'echo "$out" | grep -q 530'
unset TT_FTP_WRAP
tt_check "only SSH left $NS_CLI ($(tt_netns_drops) packets dropped)" \
	[ "$(tt_netns_drops)" -eq 0 ]
tt_check "the daemon went to $SRV_IP port 22" grep -q "$SRV_IP:22" "$FTP_TUNNEL_LOG"

tt_done
