#!/bin/bash
# t_hostkey_auth.sh — host key policies against known_hosts files, the
# authentication methods, and the one-line errors for bad input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_own_home "$@"
tt_init hostkey_auth
tt_sshd || tt_die "sshd"
dest="$SSH_USER@127.0.0.1:$SSHD_PORT"
echo_port=$(tt_free_port)
tt_spawn socat "TCP-LISTEN:$echo_port,bind=127.0.0.1,reuseaddr,fork" EXEC:cat
tt_wait_port "$echo_port" || tt_die "echo"

# Every run gets an empty home (tt_own_home: $T/home on the password
# entry's home, which ftp-tunnel reads, as ssh does): no default keys, no
# ~/.ssh/known_hosts.
unset SSH_AUTH_SOCK
fwd() { echo "$(tt_free_port):127.0.0.1:$echo_port"; }
through() { # PORT: the echo service answers through the forward
	[ "$(echo ping-$1 | timeout 10 socat -t 5 - "TCP:127.0.0.1:$1")" = "ping-$1" ]
}

# --- host keys -----------------------------------------------------------
kh="$T/kh.empty"
: >"$kh"
FT_WHAT="host keys: an unknown key without a terminal is refused" \
	ft_run_fail 255 "No ED25519 host key is known for \[127.0.0.1\]:$SSHD_PORT.*StrictHostKeyChecking" \
	-i "$SSH_KEY" -o "UserKnownHostsFile=$kh" -L "$(fwd)" "$dest"
tt_check "unknown key without a terminal: nothing recorded" [ ! -s "$kh" ]

kh="$T/kh.new"
spec=$(fwd)
ft_tunnel -e -i "$SSH_KEY" -o "UserKnownHostsFile=$kh" -o StrictHostKeyChecking=accept-new \
	-L "$spec" "$dest" || tt_die "accept-new"
tt_check "accept-new: connected" through "${spec%%:*}"
tt_kill "$FT_PID"
tt_check "accept-new: key recorded as [127.0.0.1]:$SSHD_PORT" \
	grep -q "^\[127.0.0.1\]:$SSHD_PORT ssh-ed25519 $(cut -d' ' -f2 "$SSHD_HOSTKEY_PUB")" "$kh"
spec=$(fwd)
ft_tunnel -e -i "$SSH_KEY" -o "UserKnownHostsFile=$kh" -o StrictHostKeyChecking=yes \
	-L "$spec" "$dest" || tt_die "recorded key"
tt_check "recorded key accepted with StrictHostKeyChecking=yes" through "${spec%%:*}"
tt_kill "$FT_PID"

# A hashed entry (ssh-keygen -H) is found too.
cp "$kh" "$T/kh.hashed"
ssh-keygen -q -H -f "$T/kh.hashed" >/dev/null 2>&1
rm -f "$T/kh.hashed.old"
spec=$(fwd)
if grep -q '^|1|' "$T/kh.hashed"; then
	ft_tunnel -e -i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.hashed" -L "$spec" "$dest" &&
		tt_check "hashed known_hosts entry accepted" through "${spec%%:*}"
	tt_kill "$FT_PID"
else
	tt_fail "ssh-keygen -H did not hash the file"
fi

# A changed key is refused, even with StrictHostKeyChecking=no.
ssh-keygen -q -t ed25519 -N '' -f "$T/other_host_key"
echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$T/other_host_key.pub")" >"$T/kh.changed"
for strict in yes no accept-new; do
	FT_WHAT="host keys: a changed key is refused (StrictHostKeyChecking=$strict)" \
		ft_run_fail 255 "REMOTE HOST IDENTIFICATION HAS CHANGED.*ssh-keygen -R" \
		-i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.changed" \
		-o "StrictHostKeyChecking=$strict" -L "$(fwd)" "$dest"
done

# --- known_hosts read line by line ---------------------------------------
# ft_refused RC PATTERN ARGS...: ftp-tunnel exits RC and its last line
# matches PATTERN; a bad known_hosts line adds a warning before it, which
# ft_run_fail's one-line rule would not allow.
ft_refused() {
	local want=$1 pat=$2 out rc
	shift 2
	out=$(mktemp "$T/logs/fail.XXXX")
	timeout 20 setsid -w "$TT_FT_BIN" "$@" </dev/null >/dev/null 2>"$out"
	rc=$?
	if [ "$rc" -ne "$want" ] || ! tail -1 "$out" | grep -Eq "$pat"; then
		tt_fail "${FT_WHAT:+$FT_WHAT: }exit $rc (want $want), want a last line like /$pat/, got: $(cat "$out")"
		return 1
	fi
	tt_pass "${FT_WHAT:+$FT_WHAT: }exit $want: $(tail -1 "$out" | cut -c1-150)"
}
hk_key=$(cut -d' ' -f1,2 "$SSHD_HOSTKEY_PUB")
hk_name="[127.0.0.1]:$SSHD_PORT"
long=$(printf 'h%.0s' $(seq 300))

# Lines libssh2 stopped at: every entry after them was invisible.
printf '%s\n' "# a comment" "" >"$T/kh.bad"
printf '\r\n   \r\n' >>"$T/kh.bad"
printf '%s\n' "$long $hk_key" "$hk_name" "$hk_name ssh-ed25519 not*base64" \
	"$hk_name ssh-rsa $(cut -d' ' -f2 "$SSHD_HOSTKEY_PUB")" \
	"@revokd $hk_name $hk_key" "$hk_name $hk_key" >>"$T/kh.bad"
spec=$(fwd)
ft_tunnel -e -i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.bad" -o StrictHostKeyChecking=yes \
	-o BatchMode=yes -L "$spec" "$dest" || tt_fail "finding 2: bad lines hid the entry after them"
tt_check "finding 2: bad lines before the entry hide nothing: connected" through "${spec%%:*}"
tt_kill "$FT_PID"
# Line 5 is no error: OpenSSH has no limit on a name's length.
for l in 6 7 8 9; do
	tt_check "finding 2: bad line $l reported once with file:line" \
		[ "$(grep -c "kh.bad:$l:" "$FT_LOG")" = 1 ]
done
tt_check "finding 2: comments and blank lines (CRLF too) are not reported" \
	eval '! grep -Eq "kh.bad:([1-5]|10):" "$FT_LOG"'

# A changed key after a bad line is still seen as changed.
printf '%s\n' "$hk_name" "$hk_name $(cut -d' ' -f1,2 "$T/other_host_key.pub")" >"$T/kh.bad2"
FT_WHAT="finding 2: a changed key after a bad line is still changed" \
	ft_refused 255 "REMOTE HOST IDENTIFICATION HAS CHANGED.*known ssh-ed25519 \(.*kh.bad2:2\), offered ssh-ed25519" \
	-i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.bad2" -o StrictHostKeyChecking=accept-new \
	-L "$(fwd)" "$dest"
tt_check "finding 2: changed key after a bad line: nothing added" [ "$(wc -l <"$T/kh.bad2")" = 2 ]

# @revoked: refused whatever StrictHostKeyChecking says, even when the key
# is also listed as known.
printf '%s\n' "@revoked * $hk_key" "$hk_name $hk_key" >"$T/kh.revoked"
for strict in no accept-new yes; do
	FT_WHAT="finding 2: a @revoked key is refused (StrictHostKeyChecking=$strict)" \
		ft_refused 255 "revoked.*kh.revoked:1" -i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.revoked" \
		-o "StrictHostKeyChecking=$strict" -L "$(fwd)" "$dest"
done
printf '%s\n' "@revoked $hk_name $hk_key" >"$T/kh.revoked2"
FT_WHAT="finding 2: a @revoked host entry is refused with accept-new" \
	ft_refused 255 "revoked.*kh.revoked2:1" -i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.revoked2" \
	-o StrictHostKeyChecking=accept-new -L "$(fwd)" "$dest"
tt_check "finding 2: revoked key not added" [ "$(wc -l <"$T/kh.revoked2")" = 1 ]

# @cert-authority is no host entry: alone it leaves the host unknown, and
# it hides nothing after it.
printf '%s\n' "@cert-authority $hk_name $hk_key" >"$T/kh.ca"
FT_WHAT="finding 2: an @cert-authority line alone leaves the host unknown" \
	ft_refused 255 "No ED25519 host key is known for \[127.0.0.1\]:$SSHD_PORT" \
	-i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.ca" -o StrictHostKeyChecking=yes \
	-L "$(fwd)" "$dest"
echo "$hk_name $hk_key" >>"$T/kh.ca"
spec=$(fwd)
ft_tunnel -e -i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.ca" -o StrictHostKeyChecking=yes \
	-o BatchMode=yes -L "$spec" "$dest" || tt_fail "finding 2: @cert-authority hid the entry after it"
tt_check "finding 2: @cert-authority line, then the entry: connected" through "${spec%%:*}"
tt_kill "$FT_PID"

# Patterns: a wildcard, a negation that excludes, a hashed entry among
# plain ones.
printf '%s\n' "[127.0.0.*]:$SSHD_PORT,!$hk_name $(cut -d' ' -f1,2 "$T/other_host_key.pub")" \
	"other.example,[127.0.0.?]:$SSHD_PORT $hk_key" >"$T/kh.pat"
spec=$(fwd)
ft_tunnel -e -i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.pat" -o StrictHostKeyChecking=yes \
	-o BatchMode=yes -L "$spec" "$dest" || tt_fail "wildcard / negated patterns"
tt_check "finding 2: negated pattern skipped, wildcard matched: connected" through "${spec%%:*}"
tt_kill "$FT_PID"

# A key written to a file whose last line has no newline is found next time.
printf '# no newline at the end' >"$T/kh.nonl"
spec=$(fwd)
ft_tunnel -e -i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.nonl" -o StrictHostKeyChecking=accept-new \
	-o BatchMode=yes -L "$spec" "$dest" || tt_fail "accept-new after a line without newline"
tt_kill "$FT_PID"
spec=$(fwd)
ft_tunnel -e -i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.nonl" -o StrictHostKeyChecking=yes \
	-o BatchMode=yes -L "$spec" "$dest" || tt_fail "key written after a line without newline not found"
tt_check "finding 2: key written after a line without newline: found next time" through "${spec%%:*}"
tt_kill "$FT_PID"

# Two more sshds with the same configuration: one with an ECDSA key beside
# the Ed25519 key, one with only the ECDSA key.
ssh-keygen -q -t ecdsa -b 256 -N '' -f "$T/host_ecdsa_key"
sshd_with() { # PORT HOSTKEY...: prints nothing, sets TT_PID
	local port=$1 conf="$T/sshd_$1.conf" k
	shift
	{
		grep -Ev '^(Port|HostKey|PidFile) ' "$SSHD_CONFIG"
		echo "Port $port"
		echo "PidFile $T/sshd_$port.pid"
		for k in "$@"; do echo "HostKey $k"; done
	} >"$conf"
	tt_spawn "$TT_SSHD_BIN" -D -e -f "$conf"
	tt_wait_port "$port"
}
both_port=$(tt_free_port)
sshd_with "$both_port" "$SSHD_DIR/host_ed25519_key" "$T/host_ecdsa_key" || tt_die "sshd ed25519+ecdsa"
ecdsa_port=$(tt_free_port)
sshd_with "$ecdsa_port" "$T/host_ecdsa_key" || tt_die "sshd ecdsa"

# The known type is negotiated first: ed25519 known, the server has both.
echo "[127.0.0.1]:$both_port $hk_key" >"$T/kh.both"
spec=$(fwd)
ft_tunnel -e -i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.both" -o StrictHostKeyChecking=yes \
	-o BatchMode=yes -L "$spec" "$SSH_USER@127.0.0.1:$both_port" ||
	tt_fail "finding 2: the known ed25519 key was not negotiated"
tt_check "finding 2: known key type first: server with ed25519 and ecdsa, ed25519 known: connected" through "${spec%%:*}"
tt_kill "$FT_PID"
tt_check "finding 2: nothing added for the server with two keys" [ "$(wc -l <"$T/kh.both")" = 1 ]

# ed25519 known, the server (or a man in the middle) offers only ecdsa:
# changed, whatever StrictHostKeyChecking says.
echo "# known" >"$T/kh.type"
echo "[127.0.0.1]:$ecdsa_port $hk_key" >>"$T/kh.type"
for strict in accept-new no; do
	FT_WHAT="finding 2: a key of another type counts as changed (StrictHostKeyChecking=$strict)" \
		ft_refused 255 "host key for \[127.0.0.1\]:$ecdsa_port changed: known ssh-ed25519 \(.*kh.type:2\), offered ecdsa-sha2-nistp256" \
		-i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.type" -o "StrictHostKeyChecking=$strict" \
		-L "$(fwd)" "$SSH_USER@127.0.0.1:$ecdsa_port"
done
tt_check "finding 2: ecdsa key not added where ed25519 is known" [ "$(wc -l <"$T/kh.type")" = 2 ]

# --- authentication ------------------------------------------------------
# An identity file given with -i (done above), and ssh-agent without -i.
eval "$(ssh-agent -s)" >/dev/null
tt_track "$SSH_AGENT_PID"
ssh-add -q "$SSH_KEY" 2>/dev/null
spec=$(fwd)
ft_tunnel -e -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -L "$spec" "$dest" || tt_fail "agent auth"
# No -i and an empty HOME: only the agent holds a key the server takes.
tt_check "ssh-agent authentication" through "${spec%%:*}"
tt_kill "$FT_PID"
kill "$SSH_AGENT_PID" 2>/dev/null
unset SSH_AUTH_SOCK SSH_AGENT_PID

# Default identity files (~/.ssh/id_ed25519) are tried without -i.
mkdir -p "$HOME/.ssh" && cp "$SSH_KEY" "$HOME/.ssh/id_ed25519" && chmod 600 "$HOME/.ssh/id_ed25519"
spec=$(fwd)
ft_tunnel -e -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -L "$spec" "$dest" || tt_fail "default key"
tt_check "default identity file ~/.ssh/id_ed25519" through "${spec%%:*}"
tt_kill "$FT_PID"
rm -rf "$HOME/.ssh"

# A wrong key: refused, naming what was tried and what the server offers.
ssh-keygen -q -t ed25519 -N '' -f "$T/wrong_key"
ft_run_fail 255 "Permission denied.*tried .*wrong_key.*server offers publickey" \
	-i "$T/wrong_key" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -L "$(fwd)" "$dest"
# The same with an (empty) agent running: the agent is tried first, and
# freeing it after the refusal must not crash (it once ran after the
# session it belongs to was freed: SIGSEGV, exit 139).
eval "$(ssh-agent -s)" >/dev/null
tt_track "$SSH_AGENT_PID"
ft_run_fail 255 "Permission denied.*tried .*wrong_key" \
	-i "$T/wrong_key" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -L "$(fwd)" "$dest"
kill "$SSH_AGENT_PID"
unset SSH_AUTH_SOCK SSH_AGENT_PID

# On a terminal: a passphrase-protected key is asked for, and so is a
# password. helpers/on_tty.py gives ftp-tunnel a terminal, types the
# answer when the prompt shows and ends the tunnel once it is ready.
on_tty() { # prompt-regex answer ready-file command...
	local prompt=$1 answer=$2 ready=$3
	shift 3
	python3 "$TT_LIB_DIR/helpers/on_tty.py" --done-file "$ready" 30 \
		"$prompt" "$answer" -- "$@" 2>&1
}
ssh-keygen -q -t ed25519 -N 'a passphrase' -f "$T/enc_key"
cat "$T/enc_key.pub" >>"$SSHD_DIR/authorized_keys"
spec=$(fwd)
out=$(on_tty "passphrase for key" 'a passphrase' "$T/ready.enc" \
	sh -c 'exec "$@" 9>"$0"' "$T/ready.enc" "$TT_FT_BIN" --ready-fd 9 -i "$T/enc_key" \
	-o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -L "$spec" "$dest")
tt_check "encrypted key on a terminal: passphrase asked" \
	eval 'echo "$out" | grep -q "Enter passphrase for key .*enc_key"'
tt_check "encrypted key on a terminal: the tunnel came up" grep -q READY "$T/ready.enc"
# SIGTERM while the prompt waits ends ftp-tunnel (the loop blocks SIGTERM
# for its signalfd; the prompt must still hear it). No answer is typed.
rc=0
out=$(python3 "$TT_LIB_DIR/helpers/on_tty.py" 4 'x^' '' -- "$TT_FT_BIN" -i "$T/enc_key" \
	-o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -L "$(fwd)" "$dest" 2>&1) || rc=$?
tt_check "SIGTERM at the passphrase prompt ends ftp-tunnel (rc $rc, 124 wanted)" \
	eval '[ "$rc" = 124 ] && echo "$out" | grep -q "Enter passphrase"'
# While the prompt waits (on the SSH connection's thread), the process
# still answers `ftp-tunnel status` (its tunnel starting) and `ftp-tunnel
# stop PID` ends it, prompt and all.
python3 "$TT_LIB_DIR/helpers/on_tty.py" 60 'x^' '' -- "$TT_FT_BIN" -i "$T/enc_key" \
	-o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -L "$(fwd)" "$dest" >"$T/prompt.out" 2>&1 &
otty=$!
tt_track "$otty"
tt_wait_until 150 grep -q "Enter passphrase" "$T/prompt.out"
timeout 20 "$TT_FT_BIN" status --json >"$T/prompt.json" 2>"$T/prompt.err"
fgpid=$(python3 -c '
import json, sys
fg = [f for f in json.load(open(sys.argv[1]))["foreground"]
      if sys.argv[2] in f["process"]["command"]]
print(fg[0]["process"]["pid"] if len(fg) == 1 and
      [t["state"] for t in fg[0]["tunnels"]] == ["starting"] else "")' \
	"$T/prompt.json" "$T/enc_key")
tt_check "at the passphrase prompt: status lists it, its tunnel starting (pid $fgpid)" \
	[ -n "$fgpid" ]
start=$SECONDS
[ -n "$fgpid" ] && timeout 20 "$TT_FT_BIN" stop "$fgpid" >"$T/prompt.stop" 2>&1
wait "$otty"
rc=$?
tt_check "at the passphrase prompt: ftp-tunnel stop ends it (rc $rc, in $((SECONDS - start)) s)" \
	eval '[ "$rc" != 124 ] && [ "$rc" != 137 ] && [ $((SECONDS - start)) -lt 30 ]'

# --- bad input -----------------------------------------------------------
ft_run_fail 2 "bad forward specification '80:host'" -L 80:host "$dest"
ft_run_fail 2 "bad forward specification" -L "99999:127.0.0.1:21" "$dest"
ft_run_fail 2 "bad destination" -L "$(fwd)" "user@"
ft_run_fail 2 "unsupported option 'NoSuchOption'" -o NoSuchOption=1 -L "$(fwd)" "$dest"
busy=$(tt_free_port)
tt_spawn socat "TCP-LISTEN:$busy,bind=127.0.0.1,reuseaddr" -
tt_wait_port "$busy"
ft_run_fail 1 "cannot listen on 127.0.0.1:$busy: Address already in use" \
	-i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -L "$busy:127.0.0.1:21" "$dest"
dead=$(tt_free_port)
ft_run_fail 255 "cannot connect to 127.0.0.1 port $dead: Connection refused" \
	-i "$SSH_KEY" -L "$(fwd)" "$SSH_USER@127.0.0.1:$dead"
ft_run_fail 255 "cannot resolve no-such-host.invalid" \
	-i "$SSH_KEY" -L "$(fwd)" "$SSH_USER@no-such-host.invalid"
# The server refuses a remote forward on a port it cannot bind (its own).
ft_run_fail 1 "refused the remote forward of .* port $SSHD_PORT" \
	-i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" \
	-R "$SSHD_PORT:127.0.0.1:$echo_port" "$dest"

# A password on a terminal (a second sshd that takes passwords for one
# test user; it replaces the first sshd's variables, so this comes last).
pwuser="ftt-pw$$"
useradd -M -s /bin/sh "$pwuser" && echo "$pwuser:Pw-$$-secret" | chpasswd
user_gone() { userdel "$pwuser" 2>/dev/null; }
TT_SSHD_EXTRA="Match User $pwuser
    PasswordAuthentication yes" tt_sshd || tt_die "password sshd"
spec=$(fwd)
out=$(on_tty "password:" "Pw-$$-secret" "$T/ready.pw" \
	sh -c 'exec "$@" 9>"$0"' "$T/ready.pw" "$TT_FT_BIN" --ready-fd 9 \
	-o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -L "$spec" \
	"$pwuser@127.0.0.1:$SSHD_PORT")
user_gone
tt_check "password on a terminal: asked" eval 'echo "$out" | grep -q "password:"'
tt_check "password on a terminal: the tunnel came up" grep -q READY "$T/ready.pw"
tt_check "the password was not echoed or logged" eval '! echo "$out" | grep -q "Pw-$$-secret"'

tt_done
