#!/bin/bash
# t_sftp.sh — FTP to SFTP conversion (`ftp-tunnel -L sftp/`): ftp-tunnel is
# the FTP server, every command served from the SSH server's sftp
# subsystem; no FTP server runs anywhere. Every real client in every mode
# it has: 0 B / 1 B / 1 MiB+ downloads and uploads sha256-compared,
# listings parsed by the client; lftp mirror both ways of a tree with
# spaces and UTF-8 in its names; the same through OpenSSH's sftp-server
# binary and for a user chrooted with internal-sftp; the owner check of
# the control connection and the refusal of a non-loopback bind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init sftp

# The other users and the chroot jail (outside /tmp: sshd wants every
# component of ChrootDirectory root-owned and not writable by others).
OTHER="ftt-so$$" JAIL="ftt-sj$$" JROOT="/srv/ftt-sftp-jail.$$"
_sftp_exit() {
	local rc=$? u
	for u in "$OTHER" "$JAIL"; do
		if id -u "$u" >/dev/null 2>&1; then
			pkill -KILL -U "$(id -u "$u")" 2>/dev/null
			userdel "$u" >/dev/null 2>&1 || userdel -f "$u" >/dev/null 2>&1
		fi
	done
	rm -rf "$JROOT"
	(exit "$rc")
	_tt_exit
}
trap '_sftp_exit' EXIT

TT_SSHD_EXTRA="Subsystem sftp internal-sftp" tt_sshd || tt_die "sshd"
SSH_DEST="$SSH_USER@127.0.0.1:$SSHD_PORT"

# The served tree: what a login starts in (-L sftp/PORT:DIR).
R="$T/srv"
mkdir -p "$R/pub" "$R/up"
for s in 0 1 1048589; do
	tt_mkfile "$R/pub/f$s" "$s"
	tt_mkfile "$T/src$s" "$s" "up$s"
done

port=$(tt_free_port)
ft_tunnel -L "sftp/$port:$R" "$SSH_DEST" || tt_die "ftp-tunnel -L sftp/"
tt_log_add ftp-tunnel "$FT_LOG"

# One client, mode: every size down and up, and a listing.
# matrix HOST PORT ROOT LABEL
matrix() {
	local host=$1 p=$2 root=$3 label=$4 c m s n
	for c in $TT_FTP_CLIENTS; do
		for m in $TT_FTP_MODES; do
			for s in 0 1 1048589; do
				if tt_ftp_supports "$c" "$m" get "$host"; then
					rm -f "$T/got"
					if tt_ftp "$c" "$m" get "$host" "$p" "pub/f$s" "$T/got"; then
						tt_same "$root/pub/f$s" "$T/got" "$label $c $m get ${s} B"
					else
						tt_fail "$label $c $m get ${s} B: $(tail -3 "$TT_FTP_LOG" | tr '\n' ' ')"
					fi
				fi
				if tt_ftp_supports "$c" "$m" put "$host"; then
					n="up/$c-$m-$s"
					rm -f "$root/$n"
					if tt_ftp "$c" "$m" put "$host" "$p" "$n" "$T/src$s"; then
						tt_same "$T/src$s" "$root/$n" "$label $c $m put ${s} B"
					else
						tt_fail "$label $c $m put ${s} B: $(tail -3 "$TT_FTP_LOG" | tr '\n' ' ')"
					fi
				fi
			done
			if tt_ftp_supports "$c" "$m" ls "$host"; then
				rm -f "$T/ls"
				if tt_ftp "$c" "$m" ls "$host" "$p" pub "$T/ls" &&
					grep -q 'f1048589' "$T/ls" && grep -q 'f0' "$T/ls"; then
					tt_pass "$label $c $m ls"
				else
					tt_fail "$label $c $m ls: $(head -c 300 "$T/ls" 2>/dev/null) $(tail -3 "$TT_FTP_LOG" | tr '\n' ' ')"
				fi
			fi
			if tt_ftp_supports "$c" "$m" mget "$host"; then
				rm -rf "$T/mget"
				if tt_ftp "$c" "$m" mget "$host" "$p" pub "$T/mget" &&
					tt_cmp "$root/pub/f1048589" "$T/mget/f1048589" &&
					tt_cmp "$root/pub/f1" "$T/mget/f1" && [ -f "$T/mget/f0" ]; then
					tt_pass "$label $c $m mget"
				else
					tt_fail "$label $c $m mget: $(ls "$T/mget" 2>/dev/null | tr '\n' ' ') $(tail -3 "$TT_FTP_LOG" | tr '\n' ' ')"
				fi
			fi
		done
	done
}

matrix 127.0.0.1 "$port" "$R" "internal-sftp"
# Concurrent FTP sessions spread over more than one SSH connection (one
# per core, at most 4: libssh2 1.10 is a core's worth per connection).
tt_mkfile "$R/pub/big" 48M
pids=()
for i in 1 2 3 4; do
	timeout 60 curl -sS --limit-rate 12M -o "$T/par$i" "ftp://x:y@127.0.0.1:$port/pub/big" &
	pids+=($!)
done
# Counted while the four run (each lasts 4 s or more at 12 MB/s): the
# most seen at once, polled rather than after a fixed sleep, which a
# loaded machine can outlast before the sessions have even started.
ssh_conns() { ss -Htnp state established "dport = :$SSHD_PORT" | grep -c "pid=$FT_PID,"; }
# nconn: the most so far; done at 2, or once the four have ended.
conns_seen() {
	local n p
	n=$(ssh_conns)
	[ "$n" -gt "$nconn" ] && nconn=$n
	[ "$nconn" -ge 2 ] && return 0
	for p in "${pids[@]}"; do _tt_alive "$p" && return 1; done
	return 0
}
nconn=0
tt_wait_until 100 conns_seen
for p in "${pids[@]}"; do wait "$p"; done
ok=0
for i in 1 2 3 4; do tt_cmp "$R/pub/big" "$T/par$i" && ok=$((ok + 1)); done
tt_check "4 concurrent sessions: $ok/4 files right" [ "$ok" -eq 4 ]
tt_check "4 concurrent sessions rode $nconn SSH connections (more than one)" [ "$nconn" -ge 2 ]
rm -f "$T"/par? "$R/pub/big"

# IPv6: the listener is on ::1 too; EPSV and EPRT (PASV cannot name ::1).
TT_FTP_CLIENTS="curl lftp tnftp ftplib" TT_FTP_MODES="epsv eprt" matrix ::1 "$port" "$R" "ipv6"

# Python ftplib: MLSD parsed, SIZE, MDTM, MKD/RNFR/RNTO/DELE/RMD, TYPE A
# both ways, CWD to a file refused, a line with CR refused.
cat >"$T/sftp_session.py" <<'PY'
import ftplib, io, sys
port, want = int(sys.argv[1]), int(sys.argv[2])
f = ftplib.FTP()
f.connect("127.0.0.1", port, timeout=30)
f.login("nobody", "whatever")
out = []
facts = dict(f.mlsd("pub", facts=["type", "size", "modify"]))
out.append("mlsd size %s" % facts["f1048589"]["size"])
out.append("mlsd type %s" % facts["f1048589"]["type"])
out.append("size %d" % f.size("pub/f1048589"))
out.append("mdtm %s" % f.sendcmd("MDTM pub/f1")[:3])
out.append("mkd %s" % f.mkd("newdir"))
f.storbinary("STOR newdir/a", io.BytesIO(b"x" * 10))
out.append("rn %s" % f.rename("newdir/a", "newdir/b")[:3])
out.append("dele %s" % f.delete("newdir/b")[:3])
out.append("rmd %s" % f.rmd("newdir")[:3])
f.voidcmd("TYPE A")
f.storlines("STOR text.txt", io.BytesIO(b"one\r\ntwo\r\n"))
lines = []
f.retrlines("RETR text.txt", lines.append)
out.append("ascii %s" % lines)
try:
    f.cwd("pub/f1")
    out.append("cwd file accepted")
except ftplib.error_perm as e:
    out.append("cwd file %s" % str(e)[:3])
try:
    f.retrbinary("RETR pub/missing", lambda b: None)
except ftplib.error_perm as e:
    out.append("missing %s" % str(e)[:3])
out.append("syst %s" % f.sendcmd("SYST"))
out.append("pwd %s" % f.pwd())
try:
    f.sendcmd("XYZZ")
except ftplib.error_perm as e:
    out.append("unknown %s" % str(e)[:3])
f.quit()
print("\n".join(out))
PY
if timeout 60 "$TT_PYTHON" "$T/sftp_session.py" "$port" 1048589 >"$T/ftplib.out" 2>&1; then
	tt_pass "ftplib session ran"
else
	tt_fail "ftplib session: $(tail -2 "$T/ftplib.out" | tr "\n" " ")"
fi
for want in "mlsd size 1048589" "mlsd type file" "size 1048589" "mdtm 213" \
	"rn 250" "dele 250" "rmd 250" "ascii ['one', 'two']" "cwd file 550" \
	"missing 550" "syst 215 UNIX Type: L8" "unknown 502"; do
	tt_check "ftplib: $want" grep -qF "$want" "$T/ftplib.out"
done
tt_check "TYPE A upload stored with LF line ends" \
	[ "$(od -An -c "$R/text.txt" | tr -d ' \n')" = 'one\ntwo\n' ]

# lftp mirror and mirror -R of a tree of 50 files, names with spaces and
# UTF-8, in subdirectories.
mkdir -p "$R/tree/sub dir/ünïcødé"
for i in $(seq 50); do
	case $((i % 3)) in
	0) d="$R/tree" ;;
	1) d="$R/tree/sub dir" ;;
	*) d="$R/tree/sub dir/ünïcødé" ;;
	esac
	tt_mkfile "$d/file $i é.bin" $((i * 997))
done
lftp_c() {
	timeout 120 env HOME="$T/home" lftp -c "set cmd:fail-exit yes; set net:max-retries 1; set ftp:ssl-allow no; set xfer:clobber yes; open -u x,y ftp://127.0.0.1:$port; $1" >"$T/lftp.log" 2>&1
}
rm -rf "$T/mirror"
if lftp_c "mirror tree $T/mirror" && diff -r "$R/tree" "$T/mirror" >/dev/null; then
	tt_pass "lftp mirror: 50 files, spaces and UTF-8 names"
else
	tt_fail "lftp mirror: $(tail -3 "$T/lftp.log") $(diff -rq "$R/tree" "$T/mirror" | head -3)"
fi
rm -rf "$R/back"
if lftp_c "mirror -R $T/mirror back" && diff -r "$T/mirror" "$R/back" >/dev/null; then
	tt_pass "lftp mirror -R: 50 files back"
else
	tt_fail "lftp mirror -R: $(tail -3 "$T/lftp.log") $(diff -rq "$T/mirror" "$R/back" | head -3)"
fi

# Only this user's sockets may use the listener: another uid is refused.
useradd -M -U -s /usr/sbin/nologin "$OTHER" 2>/dev/null
if id "$OTHER" >/dev/null 2>&1; then
	got=$(timeout 10 setpriv --reuid="$OTHER" --regid="$OTHER" --clear-groups \
		"$TT_PYTHON" -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); print(s.recv(200).decode(errors="replace").strip())' "$port" 2>&1)
	case $got in
	421*) tt_pass "another local user is refused: $got" ;;
	*) tt_fail "another local user got: $got" ;;
	esac
else
	tt_skip "no second user for the owner check"
fi

# A non-loopback bind is refused with a clear message.
ft_run_fail 1 "loopback only" -i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" \
	-o BatchMode=yes -L "sftp/0.0.0.0:$(tt_free_port)" "$SSH_DEST"

# ---- a profile's LocalForward sftp/: in the foreground, then held ---------
pp=$(tt_free_port)
cat >"$T/config" <<CONF
Profile sftp-prof
    HostName 127.0.0.1
    User $SSH_USER
    Port $SSHD_PORT
    IdentityFile $SSH_KEY
    UserKnownHostsFile $SSH_KNOWN_HOSTS
    StrictHostKeyChecking yes
    BatchMode yes
    SftpLogin tunnel
    LocalForward sftp/$pp $R
CONF
ft_tunnel -e -F "$T/config" sftp-prof || tt_die "profile sftp-prof did not come up"
rm -f "$T/got"
tt_ftp curl pasv get 127.0.0.1 "$pp" pub/f1048589 "$T/got"
tt_same "$R/pub/f1048589" "$T/got" "profile LocalForward sftp/: curl get"
tt_kill "$FT_PID"
for i in $(seq 50); do ss -Hltn "sport = :$pp" | grep -q . || break; sleep 0.1; done
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock" FTP_TUNNELD="$TT_BUILD/ftp-tunneld"
export FTP_TUNNEL_LOG="$T/daemon.log"
mkdir -p "$T/run" && chmod 700 "$T/run"
tt_log_add daemon.log "$FTP_TUNNEL_LOG"
out=$("$TT_BUILD/ftp-tunnel" -f -F "$T/config" sftp-prof 2>&1)
tt_check "-f sftp-prof: held by ftp-tunneld ($out)" eval 'echo "$out" | grep -q "tunnels up"'
dp=$("$TT_BUILD/ftp-tunnel" status 2>/dev/null | awk '/^pid:/ {print $2}')
[ -n "$dp" ] && tt_track "$dp"
rm -f "$T/got" "$R/up/held"
tt_ftp lftp port get 127.0.0.1 "$pp" pub/f1048589 "$T/got" &&
	tt_same "$R/pub/f1048589" "$T/got" "held sftp/: lftp port get"
tt_ftp ftplib epsv put 127.0.0.1 "$pp" up/held "$T/src1048589" &&
	tt_same "$T/src1048589" "$R/up/held" "held sftp/: ftplib epsv put"
tt_check "release sftp-prof" "$TT_BUILD/ftp-tunnel" release sftp-prof
"$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
ft_run_fail 2 "SftpLogin=ftp is for ftp-tunnel in the foreground" -f -o SftpLogin=ftp \
	-L "sftp/$(tt_free_port)" "$SSH_DEST"

# ---- OpenSSH's sftp-server binary as the subsystem ------------------------
# It logs each request (-e -l DEBUG1: to its stderr, which sshd runs it
# with through the shell), for the read-ahead check below.
TT_SSHD_EXTRA="Subsystem sftp /usr/lib/openssh/sftp-server -e -l DEBUG1 2>>$T/sftp-server.log" \
	tt_sshd || tt_die "sshd (sftp-server)"
port2=$(tt_free_port)
ft_tunnel -L "sftp/$port2:$R" "$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "-L sftp/ to sftp-server"
TT_FTP_CLIENTS="curl lftp ftplib tnftp" TT_FTP_MODES="pasv port" matrix 127.0.0.1 "$port2" "$R" "sftp-server"

# A small file costs the SFTP server a READ or two, not libssh2's whole
# read-ahead: 140 for 4 KiB (139 past its end) before RETR bounded its
# reads by the file's size.
tt_mkfile "$R/pub/s4096" 4096
tt_mkfile "$R/pub/s100000" 100000
reads_of() { grep -c "read \"[^\"]*/pub/$1\"" "$T/sftp-server.log"; }
retr_reads() { # FILE: one RETR of pub/FILE; the READs it cost
	local n0
	n0=$(reads_of "$1")
	timeout 30 curl -sS -o "$T/$1" "ftp://x:y@127.0.0.1:$port2/pub/$1" 2>>"$T/curl.err"
	echo $(($(reads_of "$1") - n0))
}
n=$(retr_reads s4096)
tt_same "$R/pub/s4096" "$T/s4096" "sftp-server: RETR of 4 KiB"
tt_check "sftp-server: READs for 4 KiB: $n (1 to 3)" [ "$n" -ge 1 -a "$n" -le 3 ]
n=$(retr_reads s100000)
tt_same "$R/pub/s100000" "$T/s100000" "sftp-server: RETR of 100 kB"
tt_check "sftp-server: READs for 100 kB: $n (4 to 20)" [ "$n" -ge 4 -a "$n" -le 20 ]
# A big file is read through the bulk channel, in READs of the most the
# server takes (limits@openssh.com, 255 KiB from OpenSSH) where libssh2
# asks for 30 000 bytes: 8 MiB in 33 and one past the end, not 280.
tt_mkfile "$R/pub/s8m" 8M
n=$(retr_reads s8m)
tt_same "$R/pub/s8m" "$T/s8m" "sftp-server: RETR of 8 MiB"
tt_check "sftp-server: READs for 8 MiB: $n (33 to 40)" [ "$n" -ge 33 -a "$n" -le 40 ]

# A file that grows during its RETR is sent to its new end: its size at
# the open bounds the read-ahead, not what is read. The client reads 1 MB,
# then the file gets 5 MiB more while ftp-tunnel has read at most its
# buffers' worth of the 64 MiB.
tt_mkfile "$R/pub/grows" 64M
cat >"$T/changes.py" <<'PY'
import ftplib, hashlib, sys
port, name, path, how = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
f = ftplib.FTP()
f.connect("127.0.0.1", port, timeout=60)
f.login("x", "y")
f.voidcmd("TYPE I")
conn = f.transfercmd("RETR pub/" + name)
h, got = hashlib.sha256(), 0
while got < 1000000:
    b = conn.recv(65536)
    h.update(b)
    got += len(b)
with open(path, "r+b") as out:
    if how == "grow":
        out.seek(0, 2)
        out.write(b"g" * (5 * 1024 * 1024))
    else:
        out.truncate(int(how))
while True:
    b = conn.recv(1 << 20)
    if not b:
        break
    h.update(b)
    got += len(b)
conn.close()
print(got, h.hexdigest(), f.voidresp()[:3])
PY
out=$(timeout 90 "$TT_PYTHON" "$T/changes.py" "$port2" grows "$R/pub/grows" grow 2>&1) || true
want="$((69 * 1048576)) $(sha256sum <"$R/pub/grows" | cut -d' ' -f1) 226"
tt_check "sftp-server: a file that grew during RETR arrives whole ($out)" [ "$out" = "$want" ]

# One cut short during its RETR ends where it now ends: the READ that
# straddles the new end comes back short and is asked again for its rest,
# which brings the end of the file (the bulk channel's short reads). The
# client has read 1 MB, ftp-tunnel at most its ring and the sockets'
# buffers, well short of the 32 MiB + 1000 it is cut to.
tt_mkfile "$R/pub/shrinks" 64M
cut=$((32 * 1048576 + 1000))
out=$(timeout 90 "$TT_PYTHON" "$T/changes.py" "$port2" shrinks "$R/pub/shrinks" "$cut" 2>&1) || true
want="$cut $(sha256sum <"$R/pub/shrinks" | cut -d' ' -f1) 226"
tt_check "sftp-server: a file cut short during RETR arrives as it now is ($out)" [ "$out" = "$want" ]

# ---- a user chrooted by sshd (ChrootDirectory, internal-sftp) --------------
useradd -M -U -s /usr/sbin/nologin "$JAIL" || tt_die "useradd $JAIL"
# Not locked ("!" would make sshd refuse it without PAM), no password.
usermod -p '*' "$JAIL"
mkdir -p "$JROOT/data/pub" "$JROOT/data/up"
chmod 755 "$JROOT" "$JROOT/data"
for s in 0 1 1048589; do tt_mkfile "$JROOT/data/pub/f$s" "$s"; done
chown -R "$JAIL:$JAIL" "$JROOT/data/up"
TT_SSHD_EXTRA="Subsystem sftp internal-sftp
Match User $JAIL
    ChrootDirectory $JROOT
    ForceCommand internal-sftp" tt_sshd || tt_die "sshd (chroot)"
port3=$(tt_free_port)
ft_tunnel -L "sftp/$port3:/data" "$JAIL@127.0.0.1:$SSHD_PORT" || tt_die "-L sftp/ as the chrooted $JAIL"
TT_FTP_CLIENTS="curl lftp ncftp" TT_FTP_MODES="pasv epsv port" matrix 127.0.0.1 "$port3" "$JROOT/data" "chroot"
tt_check "the chrooted login starts in /data, its PWD" \
	sh -c "timeout 20 curl -sS -v 'ftp://x:y@127.0.0.1:$port3/pub/f1' -o /dev/null 2>&1 | grep -q '257 \"/data\"'"
tt_check "the chrooted user cannot leave its jail: CWD / .. lists the jail" \
	sh -c "timeout 20 curl -sS 'ftp://x:y@127.0.0.1:$port3/%2F..%2F..%2F' 2>&1 | tr -d '\\r' | grep -q ' data\$'"

# ---- namespaces: no FTP server anywhere, the client's only way out is SSH --
tt_netns_topology firewall || tt_die "namespaces"
TT_SSHD_EXTRA="Subsystem sftp internal-sftp" tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "sshd in $NS_SRV"
P4=$(tt_free_port "$NS_CLI")
ft_tunnel -n "$NS_CLI" -L "sftp/$P4:$R" "$SSH_USER@$SRV_IP" || tt_die "-L sftp/ in $NS_CLI"
tt_netns_drops_reset
for cm in "curl pasv" "lftp port" "ftplib epsv" "inetutils port"; do
	set -- $cm
	rm -f "$T/got"
	if tt_ftp -n "$NS_CLI" "$1" "$2" get 127.0.0.1 "$P4" pub/f1048589 "$T/got"; then
		tt_same "$R/pub/f1048589" "$T/got" "netns $1 $2 get"
	else
		tt_fail "netns $1 $2 get: $(tail -3 "$TT_FTP_LOG" | tr '\n' ' ')"
	fi
	rm -f "$R/up/ns-$1"
	if tt_ftp -n "$NS_CLI" "$1" "$2" put 127.0.0.1 "$P4" "up/ns-$1" "$T/src1048589"; then
		tt_same "$T/src1048589" "$R/up/ns-$1" "netns $1 $2 put"
	else
		tt_fail "netns $1 $2 put: $(tail -3 "$TT_FTP_LOG" | tr '\n' ' ')"
	fi
done
tt_check "the firewall dropped nothing: only SSH left $NS_CLI ($(tt_netns_drops) dropped)" \
	[ "$(tt_netns_drops)" -eq 0 ]

tt_done
