#!/bin/bash
# t_sftp_login.sh — `ftp-tunnel -L sftp/ -o SftpLogin=ftp`: each FTP login
# opens its own SSH connection as the FTP USER with the FTP PASS as the
# SSH password; a wrong password is 530 and leaves no connection open; a
# user whose only way in is a key ftp-tunnel holds is still refused
# (never an agent or a key of ours for somebody else's login); two logins
# never share an SSH connection; the password never reaches the log.
# The default: SftpLogin=ftp when no SSH user is given (host, a profile
# without User), tunnel when one is (user@host, -l, a profile's User).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init sftp_login

U1="ftt-sl1$$" U2="ftt-sl2$$" PW1="Pw1-$$-sekrit" PW2="Pw2-$$-sekrit"
_login_exit() {
	local rc=$? u
	for u in "$U1" "$U2"; do
		if id -u "$u" >/dev/null 2>&1; then
			pkill -KILL -U "$(id -u "$u")" 2>/dev/null
			userdel "$u" >/dev/null 2>&1 || userdel -f "$u" >/dev/null 2>&1
		fi
	done
	(exit "$rc")
	_tt_exit
}
trap '_login_exit' EXIT
useradd -M -U -s /bin/sh "$U1" && echo "$U1:$PW1" | chpasswd || tt_die "useradd $U1"
useradd -M -U -s /bin/sh "$U2" && echo "$U2:$PW2" | chpasswd || tt_die "useradd $U2"

TT_SSHD_EXTRA="Subsystem sftp internal-sftp
Match User $U1,$U2
    PasswordAuthentication yes" tt_sshd || tt_die "sshd"

R="$T/srv"
mkdir -p "$R/pub" "$R/u1" "$R/u2"
chmod 755 "$T" "$R" "$R/pub"
chown "$U1" "$R/u1"
chown "$U2" "$R/u2"
tt_mkfile "$R/pub/f" 1048589
chmod 644 "$R/pub/f"
tt_mkfile "$T/src" 300000

port=$(tt_free_port)
# Our own key and known_hosts are given: SftpLogin=ftp must not use the key.
ft_tunnel -v -o SftpLogin=ftp -L "sftp/$port:$R" "127.0.0.1:$SSHD_PORT" ||
	tt_die "-L sftp/ with SftpLogin=ftp"
tt_log_add ftp-tunnel "$FT_LOG"
tt_check "no SSH connection before any FTP login" \
	eval '[ "$(ss -Htn state established "dport = :$SSHD_PORT" | wc -l)" -eq 0 ]'

rm -f "$T/got"
TT_FTP_USER=$U1 TT_FTP_PASS=$PW1 tt_ftp curl epsv get 127.0.0.1 "$port" pub/f "$T/got"
tt_same "$R/pub/f" "$T/got" "curl get as $U1 with its SSH password"
TT_FTP_USER=$U2 TT_FTP_PASS=$PW2 tt_ftp lftp port put 127.0.0.1 "$port" u2/up "$T/src"
tt_same "$T/src" "$R/u2/up" "lftp put as $U2"
tt_check "$U2's upload belongs to $U2 (the SSH login was $U2's)" \
	[ "$(stat -c %U "$R/u2/up")" = "$U2" ]
TT_FTP_USER=$U1 TT_FTP_PASS=$PW1 tt_ftp curl pasv put 127.0.0.1 "$port" u2/no "$T/src"
tt_check "$U1 cannot write into $U2's directory" [ ! -e "$R/u2/no" ]

# A wrong password: 530, and no SSH connection left open.
BAD="Wrong-$$-pw"
out=$(timeout 30 curl -sS "ftp://$U1:$BAD@127.0.0.1:$port/pub/f" -o /dev/null 2>&1)
tt_check "wrong password: 530 ($out)" eval 'echo "$out" | grep -q "530"'
sleep 0.5
tt_check "wrong password: no SSH connection left" \
	eval '[ "$(ss -Htn state established "dport = :$SSHD_PORT" | wc -l)" -eq 0 ]'
# root has only a key (the one ftp-tunnel was given): refused all the same.
mark=$(wc -l <"$SSHD_LOG")
out=$(timeout 30 curl -sS "ftp://root:anything@127.0.0.1:$port/pub/f" -o /dev/null 2>&1)
tt_check "a key-only user is refused, the tunnel's key is never tried ($out)" \
	eval 'echo "$out" | grep -q "530"'
tt_check "sshd saw no publickey attempt for it" \
	eval '! tail -n +"$((mark + 1))" "$SSHD_LOG" | grep -q "publickey"'

# Two logins at once: two SSH connections, each its user's.
cat >"$T/two.py" <<'PY'
import ftplib, sys, time
port, u1, p1, u2, p2 = int(sys.argv[1]), *sys.argv[2:6]
a = ftplib.FTP(); a.connect("127.0.0.1", port, timeout=30); a.login(u1, p1)
b = ftplib.FTP(); b.connect("127.0.0.1", port, timeout=30); b.login(u2, p2)
print("pwd", a.pwd() == b.pwd())
time.sleep(1)
import subprocess
print("conns", subprocess.run(["ss", "-Htn", "state", "established", "dport = :" + sys.argv[6]],
      capture_output=True, text=True).stdout.count("\n"))
a.quit(); b.quit()
PY
timeout 60 "$TT_PYTHON" "$T/two.py" "$port" "$U1" "$PW1" "$U2" "$PW2" "$SSHD_PORT" >"$T/two.out" 2>&1
tt_check "two concurrent logins: two SSH connections ($(tr '\n' ' ' <"$T/two.out"))" grep -qx "conns 2" "$T/two.out"
tt_check "the passwords never reach the log" eval '! grep -q -e "$PW1" -e "$PW2" -e "$BAD" "$FT_LOG"'

# The logins' SSH connections run off the main thread (which keeps the
# signals and the status socket): a 64 MiB download costs the process
# CPU time, the main thread next to none of it.
tt_mkfile "$R/pub/big" $((64 * 1048576))
chmod 644 "$R/pub/big"
cpu0=$(tt_cpu "$FT_PID")
rm -f "$T/got"
TT_FTP_USER=$U1 TT_FTP_PASS=$PW1 tt_ftp curl epsv get 127.0.0.1 "$port" pub/big "$T/got"
tt_same "$R/pub/big" "$T/got" "curl get of 64 MiB as $U1"
tt_check_off_main "the login's transfer ran off the main thread" "$FT_PID" "$cpu0"
rm -f "$R/pub/big" "$T/got"

# ---- the default follows the SSH user -----------------------------------
# No SSH user given anywhere (no user@, -l, User; no ssh_config here):
# SftpLogin=ftp without being asked. The key ftp-tunnel holds logs in as
# root, so with SftpLogin=tunnel a wrong FTP password would get in.
# wrong_pw LABEL PORT: a wrong password is 530, the right one downloads.
wrong_pw() {
	local out
	out=$(timeout 30 curl -sS "ftp://$U1:$BAD@127.0.0.1:$2/pub/f" -o /dev/null 2>&1)
	tt_check "$1: a wrong password is 530 ($out)" eval 'echo "$out" | grep -q "530"'
	rm -f "$T/got"
	TT_FTP_USER=$U1 TT_FTP_PASS=$PW1 tt_ftp curl epsv get 127.0.0.1 "$2" pub/f "$T/got"
	tt_same "$R/pub/f" "$T/got" "$1: the right password downloads"
}
# any_pw LABEL PORT: any USER and PASS get in (ftp-tunnel's own login).
any_pw() {
	rm -f "$T/got"
	TT_FTP_USER=nobody-$$ TT_FTP_PASS=$BAD tt_ftp curl epsv get 127.0.0.1 "$2" pub/f "$T/got"
	tt_same "$R/pub/f" "$T/got" "$1: any USER/PASS is accepted"
}
stop_ft() {
	kill "$FT_PID"
	tt_wait_until 30 eval '! _tt_alive "$FT_PID"'
}
dport=$(tt_free_port)
ft_tunnel -L "sftp/$dport:$R" "127.0.0.1:$SSHD_PORT" || tt_die "-L sftp/ without a user"
wrong_pw "-L sftp/ host (no user, no SftpLogin)" "$dport"
stop_ft
# A relay bind (every address) is allowed so, and refused with a user
# (the tunnel's own login must stay the local user's).
dport=$(tt_free_port)
if ft_tunnel -L "sftp/0.0.0.0:$dport:$R" "127.0.0.1:$SSHD_PORT"; then
	wrong_pw "-L sftp/0.0.0.0: host (no user)" "$dport"
	stop_ft
else
	tt_fail "-L sftp/0.0.0.0: without a user did not come up"
fi
FT_WHAT="-L sftp/0.0.0.0: with a user" ft_run_fail 1 "listens on loopback only with SftpLogin=tunnel" \
	-i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -o BatchMode=yes \
	-L "sftp/0.0.0.0:$(tt_free_port)" "root@127.0.0.1:$SSHD_PORT"
dport=$(tt_free_port)
ft_tunnel -L "sftp/$dport:$R" "root@127.0.0.1:$SSHD_PORT" || tt_die "-L sftp/ root@"
any_pw "-L sftp/ root@host" "$dport"
stop_ft
dport=$(tt_free_port)
ft_tunnel -l root -L "sftp/$dport:$R" "127.0.0.1:$SSHD_PORT" || tt_die "-L sftp/ -l root"
any_pw "-L sftp/ -l root host" "$dport"
stop_ft
dport=$(tt_free_port)
ft_tunnel -o SftpLogin=tunnel -L "sftp/$dport:$R" "127.0.0.1:$SSHD_PORT" ||
	tt_die "-L sftp/ -o SftpLogin=tunnel"
any_pw "-L sftp/ -o SftpLogin=tunnel, no user" "$dport"
stop_ft
# ssh_config's User for the host counts as given; its other settings
# alone do not.
printf '%s\n' "Host sl-user" "    HostName 127.0.0.1" "    Port $SSHD_PORT" "    User root" \
	"Host sl-nouser" "    HostName 127.0.0.1" "    Port $SSHD_PORT" >"$T/ssh_config"
chmod 600 "$T/ssh_config"
dport=$(tt_free_port)
FTP_TUNNEL_SSH_CONFIG="$T/ssh_config" ft_tunnel -L "sftp/$dport:$R" sl-user || tt_die "-L sftp/ sl-user"
any_pw "-L sftp/ to a host whose ssh_config sets User" "$dport"
stop_ft
dport=$(tt_free_port)
FTP_TUNNEL_SSH_CONFIG="$T/ssh_config" ft_tunnel -L "sftp/$dport:$R" sl-nouser || tt_die "-L sftp/ sl-nouser"
wrong_pw "-L sftp/ to a host whose ssh_config sets no User" "$dport"
stop_ft
# Profiles: a User in the profile counts as given.
pa=$(tt_free_port) pb=$(tt_free_port)
printf '%s\n' "Profile nouser" "    HostName 127.0.0.1" "    Port $SSHD_PORT" \
	"    LocalForward sftp/$pa $R" "Profile withuser" "    HostName 127.0.0.1" \
	"    Port $SSHD_PORT" "    User root" "    LocalForward sftp/$pb $R" >"$T/config"
chmod 600 "$T/config"
ft_tunnel -F "$T/config" nouser || tt_die "profile nouser"
wrong_pw "profile without User" "$pa"
stop_ft
ft_tunnel -F "$T/config" withuser || tt_die "profile withuser"
any_pw "profile with User" "$pb"
stop_ft
# -f cannot hold SftpLogin=ftp, the default without a user: said so
# (before any daemon is asked: none could be started here).
FTP_TUNNEL_SOCKET="$T/no-daemon.sock" FTP_TUNNELD=/nonexistent ft_run_fail 2 "sftp/ without an SSH user means SftpLogin=ftp.*user@host or -o SftpLogin=tunnel" \
	-f -L "sftp/$(tt_free_port)" "127.0.0.1:$SSHD_PORT"

ft_run_fail 2 "bad value for SftpLogin" -o SftpLogin=bogus -L "sftp/$(tt_free_port)" "127.0.0.1:$SSHD_PORT"
tt_done
