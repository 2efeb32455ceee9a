#!/bin/bash
# t_profiles.sh — profiles of the configuration file (ftp-tunnel.conf(5)):
# a profile with a local FTP tunnel and one with a remote FTP tunnel, each
# started by name (`ftp-tunnel [-F file] PROFILE`, as `sshg3 profile`), carry
# real transfers both ways, passive and active (sha256); the command line's
# options win over the profile's and its -L adds to the profile's tunnels;
# a Route whose Via names a profile takes the shim through it; and a bad
# configuration is refused with file:line before anything connects.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init profiles

tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/f" 3M
chmod -R a+rX "$VSFTPD_PUB"
tt_mkfile "$T/up" 2M

LP=$(tt_free_port)
RP=$(tt_free_port)
XP=$(tt_free_port)
conf="$T/config"
cat >"$conf" <<CONF
# Written by t_profiles.sh.
Profile ssh-common-unused
    HostName 192.0.2.1

Profile local-ftp
    HostName 127.0.0.1
    User $SSH_USER
    Port $SSHD_PORT
    IdentityFile $SSH_KEY
    UserKnownHostsFile $SSH_KNOWN_HOSTS
    StrictHostKeyChecking yes
    BatchMode yes
    LocalForward ftp/$LP 127.0.0.1:$VSFTPD_PORT

Profile remote-ftp
    HostName 127.0.0.1
    User $SSH_USER
    Port $SSHD_PORT
    IdentityFile $SSH_KEY
    UserKnownHostsFile $SSH_KNOWN_HOSTS
    StrictHostKeyChecking yes
    BatchMode yes
    RemoteForward ftp/$RP:127.0.0.1:$VSFTPD_PORT

Route 127.0.0.9:$VSFTPD_PORT
    Via local-ftp
    FtpHost 127.0.0.1
CONF
chmod 600 "$conf"

cells() { # label port
	local c m op
	for c in curl lftp; do
		for m in pasv epsv port eprt; do
			for op in get put; do
				ft_transfer "$1" "" "$c" "$m" "$op" 127.0.0.1 "$2" \
					"$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR"
			done
		done
	done
}

# --- a local FTP tunnel, by name --------------------------------------
ft_tunnel -e -F "$conf" local-ftp || tt_die "profile local-ftp did not come up"
tt_check "local-ftp: listening on 127.0.0.1:$LP" tt_wait_port "$LP"
cells local-ftp "$LP"
kill "$FT_PID"

# --- a remote FTP tunnel, by name (FTP_TUNNEL_CONFIG this time) -------
FTP_TUNNEL_CONFIG=$conf ft_tunnel -e remote-ftp || tt_die "profile remote-ftp did not come up"
cells remote-ftp "$RP"
kill "$FT_PID"

# --- the command line adds to a profile and wins over it ---------------
# -L adds a tunnel; -o Port= overrides the profile's (a wrong port: the
# connection must then fail, which shows the override took).
ft_tunnel -e -F "$conf" -L "ftp/$XP:127.0.0.1:$VSFTPD_PORT" local-ftp ||
	tt_die "profile with an extra -L"
tt_check "profile + -L: the profile's tunnel is up" tt_wait_port "$LP"
tt_check "profile + -L: the extra tunnel is up" tt_wait_port "$XP"
ft_transfer extra-L "" curl pasv get 127.0.0.1 "$XP" "$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR"
kill "$FT_PID"
dead=$(tt_free_port)
ft_run_fail 255 "cannot connect to 127.0.0.1 port $dead" -F "$conf" -o "Port=$dead" local-ftp

# --- a Route through a profile (the shim) ----------------------------
# The wrapper's shim routes 127.0.0.9:VSFTPD_PORT via the profile
# local-ftp: its server, user, key and known hosts all come from there.
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock" FTP_TUNNELD="$TT_BUILD/ftp-tunneld" \
	FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
mkdir -p "$T/run" && chmod 700 "$T/run"
rm -f "$T/got"
FTP_TUNNEL_CONFIG=$conf "$TT_BUILD/ftp-tunnel-wrap" \
	curl -sS -o "$T/got" "ftp://127.0.0.9:$VSFTPD_PORT/pub/f" >"$T/logs/wrap.log" 2>&1
tt_same "$VSFTPD_PUB/f" "$T/got" "Route with Via naming a profile: curl through the shim"
dp=$("$TT_BUILD/ftp-tunnel" status 2>/dev/null | awk '/^pid:/ {print $2}')
[ -n "$dp" ] && tt_track "$dp"
"$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1

# --- static tunnels held by the daemon (ftp-tunnel -f) -----------------
# ftp-tunnel hands the profile's tunnels to ftp-tunneld (started on
# demand) and exits once they are up; they carry transfers until
# released.
FT=$TT_BUILD/ftp-tunnel
out=$("$FT" -f -F "$conf" local-ftp 2>&1)
tt_check "-f local-ftp: exit 0, held ($out)" eval 'echo "$out" | grep -q "tunnels up, held by ftp-tunneld"'
dp=$("$FT" status 2>/dev/null | awk '/^pid:/ {print $2}')
[ -n "$dp" ] && tt_track "$dp"
out=$("$FT" -f -F "$conf" remote-ftp 2>&1)
tt_check "-f remote-ftp: exit 0, held" eval 'echo "$out" | grep -q "tunnels up"'
ft_transfer held-local "" curl pasv get 127.0.0.1 "$LP" "$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR"
ft_transfer held-local "" curl port put 127.0.0.1 "$LP" "$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR"
ft_transfer held-remote "" curl pasv get 127.0.0.1 "$RP" "$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR"
tt_check "status lists both held profiles" \
	eval '"$FT" status | grep -q "local-ftp" && "$FT" status | grep -q "remote-ftp"'
rc=0
out=$("$FT" -f -F "$conf" local-ftp 2>&1) || rc=$?
tt_check "-f local-ftp again: refused, held already (exit $rc)" \
	eval '[ "$rc" = 1 ] && echo "$out" | grep -q "held already"'
tt_check "release local-ftp" "$FT" release local-ftp
for i in $(seq 30); do ss -Hltn "sport = :$LP" | grep -q . || break; sleep 0.1; done
tt_check "released: nothing listens on $LP any more" eval '! ss -Hltn "sport = :$LP" | grep -q .'
ft_transfer held-remote-after "" curl pasv get 127.0.0.1 "$RP" "$VSFTPD_PUB" "$VSFTPD_UPLOAD_DIR"
rc=0
"$FT" -f -F "$conf" -o "Port=$(tt_free_port)" local-ftp >/dev/null 2>"$T/logs/held-bad.err" || rc=$?
tt_check "-f with an unreachable server: exit 1 and the reason ($(head -c 120 "$T/logs/held-bad.err"))" \
	eval '[ "$rc" = 1 ] && grep -q "Connection refused\|cannot connect" "$T/logs/held-bad.err"'
"$FT" stop >/dev/null 2>&1

# --- bad configurations: file:line, exit 2, nothing started -------------
bad="$T/bad.conf"
badconf() { printf '%s\n' "$@" >"$bad"; chmod 600 "$bad"; }
badconf "Profile p" "    HostName 127.0.0.1" "    Colour blue"
ft_run_fail 2 "$bad:3: unknown keyword \"Colour\" in a Profile block" -F "$bad" p
badconf "Profile p" "    LocalForward ftp/70000 127.0.0.1:21"
ft_run_fail 2 "$bad:2: LocalForward: bad forward specification" -F "$bad" p
badconf "Profile p" "    Port 0"
ft_run_fail 2 "$bad:2: Port 0: not a port" -F "$bad" p
badconf "Profile p" "    HostName a" "" "Profile p" "    HostName b"
ft_run_fail 2 "$bad:4: Profile p defined twice \(first at line 1\)" -F "$bad" p
# A bad file is refused even when the destination is not a profile.
ft_run_fail 2 "$bad:4: Profile p defined twice" -F "$bad" -L "ftp/$XP:127.0.0.1:21" "$SSH_USER@127.0.0.1:$SSHD_PORT"
badconf "Profile p" "    LocalForward ftp/$XP 127.0.0.1:21"
chmod 666 "$bad"
ft_run_fail 2 "$bad: bad owner or permissions" -F "$bad" p
chmod 600 "$bad"
ft_run_fail 2 "no tunnel given: use -L or -R, or name a profile" -F "$bad" nosuchprofile
# The example of ftp-tunnel.conf(5) is a good file (a bad one would be
# refused with its line before the profile is looked up).
sed -n '/^\.EX/,/^\.EE/p' "$TT_LIB_DIR/../../man/ftp-tunnel.conf.5" | sed '1d;$d' >"$bad"
tt_check "ftp-tunnel.conf(5)'s example has profiles and routes" grep -q "^Route" "$bad"
ft_run_fail 2 "no tunnel given" -F "$bad" nosuchprofile
badconf "Profile empty" "    HostName 127.0.0.1"
ft_run_fail 2 "profile empty has no tunnels" -F "$bad" empty

tt_done
