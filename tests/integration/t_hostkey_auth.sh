#!/bin/bash
# t_hostkey_auth.sh — host key policies against known_hosts files, the
# authentication methods, and the one-line errors for bad input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init hostkey_auth
tt_sshd || tt_die "sshd"
dest="$SSH_USER@127.0.0.1:$SSHD_PORT"
echo_port=$(tt_free_port)
tt_spawn socat "TCP-LISTEN:$echo_port,bind=127.0.0.1,reuseaddr,fork" EXEC:cat
tt_wait_port "$echo_port" || tt_die "echo"

# Every run gets an empty HOME: no default keys, no ~/.ssh/known_hosts.
export HOME="$T/home"
unset SSH_AUTH_SOCK
fwd() { echo "$(tt_free_port):127.0.0.1:$echo_port"; }
through() { # PORT: the echo service answers through the forward
	[ "$(echo ping-$1 | timeout 10 socat -t 5 - "TCP:127.0.0.1:$1")" = "ping-$1" ]
}

# --- host keys -----------------------------------------------------------
kh="$T/kh.empty"
: >"$kh"
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
	ft_run_fail 255 "REMOTE HOST IDENTIFICATION HAS CHANGED.*ssh-keygen -R" \
		-i "$SSH_KEY" -o "UserKnownHostsFile=$T/kh.changed" \
		-o "StrictHostKeyChecking=$strict" -L "$(fwd)" "$dest"
done

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

tt_done
