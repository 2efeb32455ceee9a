#!/bin/bash
# t_jump.sh — FTP through jump hosts: ProxyJump (-J, ~/.ssh/config, a
# profile, a Route) and ProxyCommand (ssh -W, nc on the bastion). Three
# namespaces in a row: cli (its firewall lets out only SSH to the
# bastion, SRV_IP:22), srv (the bastion: sshd on SRV_IP:22, and a second
# bastion's sshd on SRV_FAR_IP:22; MTU 9000 towards far) and far (the
# inner SSH server on FAR_IP:22, and vsftpd on far's own 127.0.0.1, which
# nothing outside far reaches). Each sshd has its own host key and its
# own user key: every hop is checked and logs in on its own, with its own
# ssh_config block.
#
# - ftp-tunnel -J root@bastion: curl EPSV and PORT, lftp, inetutils-ftp,
#   get and put, sha256-compared; the firewall dropped nothing; 20 small
#   files with lftp, none of their EOFs held by the bastion's delayed ACK;
# - the same through a ProxyJump alias, two jumps (bastion, bastion2),
#   ProxyCommand ssh -W %h:%p, ProxyCommand ssh bastion nc %h %p;
# - ftp-tunnel-wrap --via inner -J bastion curl, a Route whose profile
#   has a ProxyJump, a tunnel held by the daemon (-f -J); `ftp-tunnel
#   status` shows the path;
# - a changed host key on the bastion, then on the inner server: refused,
#   the message names the hop; a dead bastion: a clear error within 10 s;
#   the bastion's sshd killed mid-transfer: the client fails, the daemon
#   connects again on the next use;
# - no ProxyCommand process outlives its session or ftp-tunnel; a host
#   name with shell syntax never reaches ProxyCommand's shell.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init jump
SIZE=${TT_JUMP_SIZE:-3M}

tt_netns_topology far firewall || tt_die "namespaces"
# Jumbo frames between the bastion and the inner server (as in a data
# centre, or both on one host): a small file's data is then one segment
# below the MSS, which Nagle and delayed ACKs act on (section 1).
ip -n "$NS_SRV" link set v-srvfar mtu 9000 && ip -n "$NS_FAR" link set v-far mtu 9000 ||
	tt_die "mtu 9000 between bastion and inner server"
tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "bastion sshd"
B_PID=$SSHD_PID B_KEY=$SSH_KEY B_KH=$SSH_KNOWN_HOSTS B_DIR=$SSHD_DIR B_LOG=$SSHD_LOG
tt_sshd "$NS_SRV" "$SRV_FAR_IP" || tt_die "second bastion sshd"
B2_KEY=$SSH_KEY B2_KH=$SSH_KNOWN_HOSTS B2_LOG=$SSHD_LOG
tt_sshd "$NS_FAR" "$FAR_IP" || tt_die "inner sshd"
I_PID=$SSHD_PID I_KEY=$SSH_KEY I_KH=$SSH_KNOWN_HOSTS I_DIR=$SSHD_DIR I_LOG=$SSHD_LOG
tt_vsftpd "$NS_FAR" 127.0.0.1 || tt_die "vsftpd in $NS_FAR"
tt_log_add bastion-sshd "$B_LOG"
tt_log_add inner-sshd "$I_LOG"
tt_pass "topology: cli $CLI_IP -> bastion $SRV_IP:22 (-> bastion2 $SRV_FAR_IP:22) -> inner $FAR_IP:22, vsftpd on inner's 127.0.0.1:$VSFTPD_PORT"

tt_mkfile "$VSFTPD_PUB/fbig" "$SIZE" jump-down
for i in $(seq 10 29); do tt_mkfile "$VSFTPD_PUB/small/s$i" 4K "jump-small-$i"; done
tt_mkfile "$T/up/ubig" "$SIZE" jump-up
chmod -R a+rX "$VSFTPD_PUB"

# One known_hosts for all three, as a user would have it; each hop is
# looked up under its own name (address, port 22).
cat "$B_KH" "$B2_KH" "$I_KH" >"$T/known_hosts"
# The ssh_config a user of OpenSSH would write; OpenSSH's ssh reads it too
# (ProxyCommand ssh -F ...).
cat >"$T/ssh_config" <<EOF
Host bastion
    HostName $SRV_IP
    IdentityFile $B_KEY
Host bastion2
    HostName $SRV_FAR_IP
    IdentityFile $B2_KEY
Host inner
    HostName $FAR_IP
    IdentityFile $I_KEY
Host inner-j
    HostName $FAR_IP
    IdentityFile $I_KEY
    ProxyJump bastion
Host inner-jj
    HostName $FAR_IP
    IdentityFile $I_KEY
    ProxyJump bastion,bastion2
Host inner-pc
    HostName $FAR_IP
    IdentityFile $I_KEY
    ProxyCommand ssh -F $T/ssh_config -W %h:%p bastion
Host inner-nc
    HostName $FAR_IP
    IdentityFile $I_KEY
    ProxyCommand ssh -F $T/ssh_config bastion nc %h %p
Host inner-sleep
    HostName $FAR_IP
    IdentityFile $I_KEY
    ProxyCommand sh -c 'sleep 300 & exec ssh -F $T/ssh_config -W %h:%p bastion'
Host *
    User root
    IdentitiesOnly yes
    UserKnownHostsFile $T/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 5
    ControlMaster no
    ControlPath none
EOF
export FTP_TUNNEL_SSH_CONFIG="$T/ssh_config" FTP_TUNNEL_SSH_SYSTEM_CONFIG=none

# Control case: nothing but the bastion's SSH port is reachable from cli.
tt_netns_drops_reset
if tt_in "$NS_CLI" curl -s --max-time 3 "ftp://$FAR_IP:22/" >/dev/null 2>&1 ||
	tt_in "$NS_CLI" timeout 3 bash -c "exec 3<>/dev/tcp/$FAR_IP/22" 2>/dev/null; then
	tt_fail "control case: the inner server is reachable from cli"
else
	tt_pass "control case: the inner server is out of cli's reach"
fi
tt_netns_drops_reset

# xfer TAG PORT CLIENT MODE: get and put of $SIZE through the tunnel on
# cli's 127.0.0.1:PORT, sha256-compared.
xfer() {
	local tag=$1 port=$2 c=$3 m=$4 why
	why=""
	rm -f "$T/got"
	if ! tt_ftp -n "$NS_CLI" "$c" "$m" get 127.0.0.1 "$port" pub/fbig "$T/got"; then
		why="get: client exit $? ($TT_FTP_LOG)"
	elif ! tt_cmp "$VSFTPD_PUB/fbig" "$T/got"; then
		why="get: different: $(_tt_fdesc "$T/got")"
	fi
	tt_check "$tag: $c $m get $SIZE${why:+: $why}" [ -z "$why" ]
	why=""
	rm -f "$VSFTPD_UPLOAD_DIR/u-$c-$m"
	if ! tt_ftp -n "$NS_CLI" "$c" "$m" put 127.0.0.1 "$port" "upload/u-$c-$m" "$T/up/ubig"; then
		why="put: client exit $? ($TT_FTP_LOG)"
	elif ! tt_cmp "$T/up/ubig" "$VSFTPD_UPLOAD_DIR/u-$c-$m"; then
		why="put: different: $(_tt_fdesc "$VSFTPD_UPLOAD_DIR/u-$c-$m")"
	fi
	rm -f "$VSFTPD_UPLOAD_DIR/u-$c-$m"
	tt_check "$tag: $c $m put $SIZE${why:+: $why}" [ -z "$why" ]
}

# tunnel TAG DEST ARGS...: ftp-tunnel in cli, -L ftp/P to the FTP server on
# the inner server's loopback; sets P.
tunnel() {
	local tag=$1
	shift
	P=$(tt_free_port "$NS_CLI")
	ft_tunnel -n "$NS_CLI" -e -v -L "ftp/$P:127.0.0.1:$VSFTPD_PORT" "$@" ||
		{ tt_fail "$tag: ftp-tunnel $* did not come up"; return 1; }
	tt_pass "$tag: ftp-tunnel $* is up"
}

# ---- 1. -J on the command line, every client -------------------------------
echo "# 1. ftp-tunnel -J root@bastion"
if tunnel "-J" -J root@bastion inner; then
	J_PID=$FT_PID
	xfer "-J" "$P" curl epsv
	xfer "-J" "$P" curl port
	xfer "-J" "$P" lftp pasv
	xfer "-J" "$P" inetutils pasv
	tt_check "-J: the log names the path (jump host bastion)" \
		grep -q "through jump host bastion" "$FT_LOG"
	# Small files: the inner sshd sends a file's data, then its EOF, and
	# Nagle holds the EOF until the bastion ACKs the data, which its
	# kernel delays by 40 ms unless it has something to send the inner
	# sshd along: ftp-tunnel's poke (ssh.c). lftp mget of 20 files of
	# 4 KiB in one session, under strace -tt: the median wait from a
	# file's data to its data connection's EOF (40 ms held, else ~1).
	names=$(cd "$VSFTPD_PUB/small" && ls | tr '\n' ' ')
	mkdir -p "$T/sink"
	tt_in "$NS_CLI" timeout 60 strace -tt -e trace=read -o "$T/small.strace" lftp -c "
		set cmd:fail-exit yes; set net:max-retries 1; set ftp:ssl-allow no;
		set ftp:passive-mode on; set xfer:clobber on;
		open -p $P 127.0.0.1; cd pub/small; lcd $T/sink; mget $names" >"$T/small.err" 2>&1
	rc=$?
	# Per fd: the time of its last read with data, then of its read of "".
	eof_ms=$(awk '/ read\([0-9]+, / {
			split($1, h, ":"); t = h[1] * 3600 + h[2] * 60 + h[3]
			fd = $2; sub(/read\(/, "", fd); sub(/,.*/, "", fd)
			if ($0 ~ /= [1-9][0-9]*$/) last[fd] = t
			else if ($0 ~ /, "", [0-9]+\) += 0$/ && fd in last) { printf "%d\n", (t - last[fd]) * 1000; delete last[fd] }
		}' "$T/small.strace" | sort -n | awk '{ v[NR] = $1 } END { print NR, v[int((NR + 1) / 2)] }')
	tt_check "-J: lftp mget of 20 files of 4 KiB (exit $rc, $(ls "$T/sink" | wc -l) files): EOFs seen, median ms from data to EOF: ${eof_ms:-none} (< 20: no delayed ACK of the bastion's in it)" \
		bash -c "[ $rc -eq 0 ] && [ \$(ls '$T/sink' | wc -l) -eq 20 ] && set -- $eof_ms && [ \$1 -ge 20 ] && [ \$2 -lt 20 ]"
	tt_check "-J: cli's firewall dropped nothing ($(tt_netns_drops))" [ "$(tt_netns_drops)" -eq 0 ]
	tt_kill "$J_PID"
fi

# ---- 2. ssh_config aliases: one jump, two jumps, ProxyCommand --------------
echo "# 2. ProxyJump and ProxyCommand in ssh_config"
for alias in inner-j inner-jj inner-pc inner-nc; do
	if tunnel "$alias" "$alias"; then
		xfer "$alias" "$P" curl epsv
		xfer "$alias" "$P" curl port
		[ "$alias" = inner-jj ] &&
			tt_check "inner-jj: the second bastion's sshd saw the login" \
				grep -q "Accepted publickey" "$B2_LOG"
		tt_kill "$FT_PID"
	fi
done
tt_in "$NS_CLI" timeout 20 "$TT_FT_BIN" --check -o ProxyJump=none -o ConnectTimeout=2 inner-j </dev/null >"$T/none.out" 2>&1
tt_check "-o ProxyJump=none wins over the file's ProxyJump: a direct connect, which cli cannot make ($(head -c 120 "$T/none.out"))" \
	grep -q "^ftp-tunnel: error: cannot connect to $FAR_IP port 22 (inner-j)" "$T/none.out"

# ---- 3. no ProxyCommand process left behind ---------------------------------
echo "# 3. ProxyCommand processes end with their session"
# pgids: the ProxyCommand's process group (its own).
pc_group() { ps -e -o pgid=,ppid=,pid=,args= | awk -v p="$1" '$2 == p && $4 == "sh" {print $1; exit}'; }
pc_members() { ps -e -o pgid= | awk -v g="$1" '$1 == g' | wc -l; }
if tunnel "inner-sleep" inner-sleep; then
	# The command is "sh -c 'sleep 300 & exec ssh ...'": sh becomes ssh,
	# the sleep is a grandchild in the same group.
	G=$(ps -e -o pgid=,ppid=,args= | awk -v p="$FT_PID" '$2 == p && / -W / {print $1; exit}')
	tt_check "the ProxyCommand runs in its own process group ($G, $(pc_members "${G:-0}") processes)" \
		bash -c "[ -n '$G' ] && [ '$G' != '$FT_PID' ] && [ $(pc_members "${G:-0}") -ge 2 ]"
	kill -TERM "$FT_PID"
	tt_wait_until 50 bash -c "! kill -0 $FT_PID 2>/dev/null"
	tt_check "ftp-tunnel stopped with SIGTERM: no process of the ProxyCommand's group is left" \
		tt_wait_until 30 bash -c "[ \$(ps -e -o pgid= | awk -v g='${G:-0}' '\$1 == g' | wc -l) -eq 0 ]"
fi
if tunnel "inner-sleep (session end)" inner-sleep; then
	G=$(ps -e -o pgid=,ppid=,args= | awk -v p="$FT_PID" '$2 == p && / -W / {print $1; exit}')
	PCPID=$(ps -e -o pid=,ppid=,args= | awk -v p="$FT_PID" '$2 == p && / -W / {print $1; exit}')
	# The session ends from the other side: the ssh -W is killed.
	kill -KILL "$PCPID" 2>/dev/null
	tt_wait_until 100 bash -c "! kill -0 $FT_PID 2>/dev/null"
	tt_check "the session ended when its ProxyCommand died (its sleep still holding the socket): ftp-tunnel exited, saying so" \
		grep -q "^ftp-tunnel: error: ProxyCommand 'sh -c .*' was killed by signal 9" "$FT_LOG"
	tt_check "no process of the ProxyCommand's group is left (the sleep it started is gone too)" \
		tt_wait_until 30 bash -c "[ \$(ps -e -o pgid= | awk -v g='${G:-0}' '\$1 == g' | wc -l) -eq 0 ]"
fi

# A name with shell syntax in it never reaches the shell through %h.
rm -f "$T/pwned"
tt_in "$NS_CLI" timeout 20 "$TT_FT_BIN" --check -o "HostName=x;touch $T/pwned;" \
	-o "ProxyCommand=nc %h %p" inner </dev/null >"$T/meta.out" 2>&1
tt_check "ProxyCommand: a host name with shell syntax is refused, nothing run ($(head -c 120 "$T/meta.out"))" \
	bash -c "[ ! -e '$T/pwned' ] && grep -q 'has characters a shell would interpret; refused' '$T/meta.out'"

# ---- 4. transparent mode: --via inner -J bastion, and a Route -------------
echo "# 4. ftp-tunnel-wrap and Route"
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock"
export FTP_TUNNELD="$TT_BUILD/ftp-tunneld" FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
export FTP_TUNNEL_LOG="$T/daemon.log"
mkdir -p "$T/run" && chmod 700 "$T/run"
tt_log_add daemon.log "$FTP_TUNNEL_LOG"
WRAP="$TT_BUILD/ftp-tunnel-wrap --via inner -J bastion --ports $VSFTPD_PORT -o Connections=1"
track_daemon() {
	DPID=$(tt_in "$NS_CLI" "$TT_BUILD/ftp-tunnel" status 2>/dev/null | awk '/^pid:/ {print $2}')
	[ -n "$DPID" ] && tt_track "$DPID"
}
wrap_get() { # OUT: curl through the wrapper, EPSV
	tt_in "$NS_CLI" env HOME="$T" $WRAP curl -sS --max-time 60 -o "$1" \
		"ftp://127.0.0.1:$VSFTPD_PORT/pub/fbig" 2>"$T/wrap.err"
}
rm -f "$T/got"
tt_check "wrap --via inner -J bastion: curl get $SIZE, sha256 equal$(cat "$T/wrap.err" 2>/dev/null)" \
	bash -c "$(declare -f wrap_get tt_in); T='$T' WRAP='$WRAP' NS_CLI='$NS_CLI' VSFTPD_PORT='$VSFTPD_PORT' wrap_get '$T/got' && cmp -s '$T/got' '$VSFTPD_PUB/fbig'"
track_daemon
tt_in "$NS_CLI" "$TT_BUILD/ftp-tunnel" status >"$T/status.txt" 2>&1
tt_check "status shows the path: bastion → inner ($(grep path "$T/status.txt" | head -1))" \
	grep -q "path bastion → inner" "$T/status.txt"
tt_in "$NS_CLI" env HOME="$T" $WRAP curl -sS --max-time 60 -T "$T/up/ubig" \
	"ftp://127.0.0.1:$VSFTPD_PORT/upload/wrap-up" 2>"$T/wrap.err"
tt_check "wrap --via inner -J bastion: curl put $SIZE, sha256 equal" \
	tt_cmp "$T/up/ubig" "$VSFTPD_UPLOAD_DIR/wrap-up"

# A Route whose profile goes through the bastion.
cat >"$T/route.conf" <<EOF
Profile inner-prof
    HostName $FAR_IP
    User root
    IdentityFile $I_KEY
    ProxyJump bastion
Route 127.0.0.1:$VSFTPD_PORT
    Via inner-prof
EOF
rm -f "$T/got2"
tt_in "$NS_CLI" env HOME="$T" LD_PRELOAD="$FTP_TUNNEL_SHIM" FTP_TUNNEL_CONFIG="$T/route.conf" \
	curl -sS --max-time 60 -o "$T/got2" "ftp://127.0.0.1:$VSFTPD_PORT/pub/fbig" 2>"$T/route.err"
tt_check "Route via a profile with ProxyJump: curl get $SIZE, sha256 equal $(head -c 200 "$T/route.err")" \
	tt_cmp "$VSFTPD_PUB/fbig" "$T/got2"

# A held tunnel (ftp-tunnel -f): the daemon holds it through the bastion.
HP=$(tt_free_port "$NS_CLI")
out=$(tt_in "$NS_CLI" "$TT_FT_BIN" -f -J bastion -L "ftp/$HP:127.0.0.1:$VSFTPD_PORT" inner 2>&1)
tt_check "ftp-tunnel -f -J bastion ... inner: held by the daemon ($out)" \
	grep -q "tunnels up" <<<"$out"
rm -f "$T/got3"
tt_ftp -n "$NS_CLI" curl epsv get 127.0.0.1 "$HP" pub/fbig "$T/got3"
tt_check "held tunnel through the bastion: curl epsv get $SIZE, sha256 equal" \
	tt_cmp "$VSFTPD_PUB/fbig" "$T/got3"
tt_check "release it" tt_in "$NS_CLI" "$TT_FT_BIN" release inner

# ---- 5. host keys: each hop is checked under its own name -----------------
echo "# 5. changed host keys"
ssh-keygen -q -t ed25519 -N '' -f "$T/other_key"
other=$(cut -d' ' -f1,2 "$T/other_key.pub")
cp "$T/known_hosts" "$T/known_hosts.good"
# In cli: the inner server's key is only seen once the bastion let us
# through, and its message names it under its own name.
sed -i "s|^$FAR_IP .*|$FAR_IP $other|" "$T/known_hosts"
tt_in "$NS_CLI" timeout 20 "$TT_FT_BIN" --check inner-j </dev/null >"$T/hk.out" 2>&1
tt_check "the inner server's changed key is refused, the message names it ($(head -c 120 "$T/hk.out"))" \
	grep -q "^ftp-tunnel: error: WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! The host key for $FAR_IP changed" "$T/hk.out"
cp "$T/known_hosts.good" "$T/known_hosts"
sed -i "s|^$SRV_IP .*|$SRV_IP $other|" "$T/known_hosts"
tt_in "$NS_CLI" timeout 20 "$TT_FT_BIN" --check inner-j </dev/null >"$T/hk.out" 2>&1
tt_check "the bastion's changed key is refused, the message names the jump host ($(head -c 120 "$T/hk.out"))" \
	grep -q "^ftp-tunnel: error: jump host bastion: WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! The host key for $SRV_IP changed" "$T/hk.out"
tt_check "... and the inner server was never reached" bash -c "! grep -q 'inner-j.*authenticated' '$T/hk.out'"
cp "$T/known_hosts.good" "$T/known_hosts"

# ---- 6. the bastion's sshd killed mid-transfer, then dead ------------------
echo "# 6. the bastion dies"
tt_mkfile "$VSFTPD_PUB/fhuge" 200M jump-huge
chmod a+r "$VSFTPD_PUB/fhuge"
tt_in "$NS_CLI" env HOME="$T" $WRAP curl -sS --max-time 60 --limit-rate 2M -o "$T/huge" \
	"ftp://127.0.0.1:$VSFTPD_PORT/pub/fhuge" 2>"$T/huge.err" &
CURL=$!
tt_wait_until 100 bash -c "[ -s '$T/huge' ] && [ \$(stat -c %s '$T/huge') -gt 1000000 ]"
# Every process of the bastion's sshd: the listener and each connection's.
descendants() { local p; for p in $(ps -o pid= --ppid "$1"); do echo "$p"; descendants "$p"; done; }
kill -KILL $(descendants "$B_PID") "$B_PID" 2>/dev/null
wait "$CURL"
rc=$?
tt_check "the bastion's sshd killed mid-transfer: curl fails (exit $rc: $(head -c 120 "$T/huge.err"))" [ "$rc" -ne 0 ]
tt_check "the daemon's log names the jump host that failed" \
	grep -q "jump host bastion" "$FTP_TUNNEL_LOG"
t0=$(date +%s%N)
out=$(tt_in "$NS_CLI" timeout 20 "$TT_FT_BIN" --check inner-j </dev/null 2>&1)
ms=$((($(date +%s%N) - t0) / 1000000))
tt_check "a dead bastion: a clear error in $ms ms (< 10 s): $(echo "$out" | cut -c1-120)" \
	bash -c "[ $ms -lt 10000 ] && grep -q '^ftp-tunnel: error: jump host bastion: cannot connect to $SRV_IP port 22' <<<'$out'"
# The same sshd again (same host key), and the daemon connects anew.
tt_spawn -o "$B_DIR/sshd2.log" -n "$NS_SRV" "$TT_SSHD_BIN" -D -e -f "$B_DIR/sshd_config"
tt_wait_until 50 tt_in "$NS_SRV" bash -c "exec 3<>/dev/tcp/$SRV_IP/22"
rm -f "$T/got"
tt_check "the bastion is back: the daemon connects again on the next use, curl get $SIZE, sha256 equal" \
	bash -c "$(declare -f wrap_get tt_in); T='$T' WRAP='$WRAP' NS_CLI='$NS_CLI' VSFTPD_PORT='$VSFTPD_PORT' wrap_get '$T/got' && cmp -s '$T/got' '$VSFTPD_PUB/fbig'"
rm -f "$T/huge" "$VSFTPD_PUB/fhuge"

tt_in "$NS_CLI" "$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
tt_done
