#!/bin/bash
# t_owner.sh — the passive data listener of a root ftp-tunnel -L ftp/ and
# connections closed before it accepts them (security issue 14, finding
# 1). The kernel lists a closed socket in TIME_WAIT with uid 0, which the
# owner check used to take for root's: another user could connect, write
# and close before the accept and have those bytes uploaded as root's.
#
# (a) another user connects to the listener while the tunnel is stopped
#     (SIGSTOP), writes a marker and closes; 0.5 s later (TIME_WAIT) the
#     tunnel goes on: the marker never reaches the server, the tunnel logs
#     the refusal, and the real client's upload that follows arrives.
# (b) the same with no wait (the thief's socket still an orphan, listed
#     with its owner by this kernel, or with uid 0 by one that forgets).
# (c) 1000 uploads of one byte whose data connection closes at once (eight
#     sessions at once), with two CPU hogs running: all 1000 arrive (the
#     client's own closed sockets must still be recognised as its own).
# Then (a), (b) and (c) again with the tunnel and its client run by a
# non-root user (FAST_N/4 uploads in (c)).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init owner
PY=$TT_PYTHON
H="$TT_LIB_DIR/helpers"
FAST_N=${TT_OWNER_FAST:-1000}

THIEF="ftt-owner-$$"
TUN="ftt-ownt-$$"
HOGS=()
_owner_exit() {
	local rc=$? p u
	for p in "${HOGS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for u in "$THIEF" "$TUN"; do
		id -u "$u" >/dev/null 2>&1 || continue
		pkill -KILL -U "$(id -u "$u")" 2>/dev/null
		userdel "$u" >/dev/null 2>&1 || userdel -f "$u" >/dev/null 2>&1
	done
	(exit "$rc")
	_tt_exit
}
trap '_owner_exit' EXIT
[ "$(id -u)" = 0 ] || { echo "t_owner: needs root (a root tunnel, a second user)"; exit 77; }
useradd -M -U -d /nonexistent -s /usr/sbin/nologin "$THIEF" || tt_die "useradd $THIEF"
THIEF_UID=$(id -u "$THIEF")
THIEF_GID=$(id -g "$THIEF")

tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
LP=$(tt_free_port)
ft_tunnel -v -L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" "$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel"
tt_check "the tunnel runs as root (uid 0)" [ "$(awk '/^Uid:/ {print $2}' "/proc/$FT_PID/status")" = 0 ]

ourline() { printf 'ours: the real client%ss upload\n' "'"; }

# CLIENT: how the real client is run (empty: as root); in steal, where
# root must start the thief, only its data connection is made as
# OWNER_DATA_AS.
CLIENT=()
export OWNER_DATA_AS=""
steal() { # TAG WAIT
	local tag=$1 wait=$2 out="$T/steal-$1.out" up="$VSFTPD_UPLOAD_DIR/steal-$1"
	local before
	before=$(grep -c "refused a data connection" "$FT_LOG")
	"$PY" "$H/owner_upload.py" 127.0.0.1 "$LP" steal "$FT_PID" "$wait" "steal-$tag" \
		-- "$T/bin/as_thief_cmd" >"$out" 2>&1
	tt_check "finding 1 ($tag) the thief wrote and closed before the accept ($(paste -sd' ' "$out" | tr '\t' '='))" \
		grep -q "thief wrote and closed" "$out"
	tt_check "finding 1 ($tag) no byte of the thief's reached the server" \
		tt_quiet bash -c "! grep -q THIEF-MARKER '$up'"
	tt_check "finding 1 ($tag) the tunnel logged the refusal" \
		tt_wait_until 30 eval "[ \$(grep -c 'refused a data connection' '$FT_LOG') -gt $before ]"
	tt_check "finding 1 ($tag) the real client's upload arrived: $(val stor "$out") / $(val end "$out")" \
		eval '[ "$(cat "$up" 2>/dev/null)" = "$(ourline)" ] && [ "$(val end "$out" | cut -c1-3)" = 226 ]'
}
val() { awk -F'\t' -v k="$1" '$1 == k { print $2; exit }' "$2"; }

# The thief's command, run by owner_upload.py with HOST PORT appended.
mkdir -p "$T/bin"
cat >"$T/bin/as_thief_cmd" <<SH
#!/bin/sh
exec setpriv --reuid=$THIEF_UID --regid=$THIEF_GID --clear-groups "$PY" "$H/owner_thief.py" "\$@"
SH
chmod 755 "$T/bin" "$T/bin/as_thief_cmd"

# ---- (c) the client's own fast-closing uploads, under load ------------------

fast() { # TAG N
	local tag=$1 n=$2 refused0 refused t0 secs good=0 i p cpids
	refused0=$(grep -c "refused a data connection" "$FT_LOG")
	rm -f "$VSFTPD_UPLOAD_DIR"/u*
	for i in 1 2; do
		sh -c 'while :; do :; done' &
		HOGS+=($!)
	done
	# Eight sessions at once: an upload whose FIN came before the accept
	# waits for its retransmission (see ftpdata.c, fin_hold).
	t0=$(date +%s)
	cpids=()
	for i in $(seq 0 7); do
		"${CLIENT[@]}" "$PY" "$H/owner_upload.py" 127.0.0.1 "$LP" fast \
			$(((i + 1) * n / 8 - i * n / 8)) $((i * n / 8)) >"$T/fast-$tag.$i.out" 2>&1 &
		cpids+=($!)
	done
	for p in "${cpids[@]}"; do wait "$p"; done
	secs=$(($(date +%s) - t0))
	cat "$T/fast-$tag".?.out >"$T/fast-$tag.all"
	printf 'ok\t%s\n' "$(awk -F'\t' '$1 == "ok" { s += $2 } END { print s + 0 }' "$T/fast-$tag.all")" \
		>"$T/fast-$tag.out"
	grep '^bad' "$T/fast-$tag.all" >>"$T/fast-$tag.out"
	for p in "${HOGS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	HOGS=()
	for i in $(seq 0 $((n - 1))); do
		[ "$(od -An -c "$VSFTPD_UPLOAD_DIR/u$i" 2>/dev/null | tr -d ' ')" = "$(printf "\\$(printf %o $((97 + i % 26)))")" ] &&
			good=$((good + 1))
	done
	tt_check "finding 1 ($tag) $n one-byte uploads closing at once, 2 CPU hogs: $(val ok "$T/fast-$tag.out") got 226, $good arrived intact in ${secs}s $(grep '^bad' "$T/fast-$tag.out" | head -3 | paste -sd' ')" \
		eval '[ "$(val ok "$T/fast-$tag.out")" = "$n" ] && [ "$good" = "$n" ]'
	refused=$(($(grep -c "refused a data connection" "$FT_LOG") - refused0))
	tt_check "finding 1 ($tag) none of them refused by the tunnel ($refused refused)" [ "$refused" = 0 ]
}

steal timewait 0.5
steal orphan 0
fast c "$FAST_N"
tt_kill "$FT_PID"

# ---- the same with a tunnel run by a non-root user -------------------------

useradd -M -U -d /nonexistent -s /usr/sbin/nologin "$TUN" || tt_die "useradd $TUN"
TUN_UID=$(id -u "$TUN")
TUN_GID=$(id -g "$TUN")
mkdir -p "$T/tunhome"
install -m 600 "$SSH_KEY" "$T/tunhome/key"
install -m 644 "$SSH_KNOWN_HOSTS" "$T/tunhome/known_hosts"
chown -R "$TUN_UID:$TUN_GID" "$T/tunhome"
chmod 755 "$T"
cat >"$T/bin/ft_as_tun" <<SH
#!/bin/sh
export HOME=$T/tunhome
exec setpriv --reuid=$TUN_UID --regid=$TUN_GID --clear-groups "$TT_FT_BIN" "\$@"
SH
chmod 755 "$T/bin/ft_as_tun"
LP=$(tt_free_port)
TT_FT_BIN="$T/bin/ft_as_tun" ft_tunnel -e -v -i "$T/tunhome/key" \
	-o "UserKnownHostsFile=$T/tunhome/known_hosts" -o StrictHostKeyChecking=yes \
	-o BatchMode=yes -L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" \
	"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel as $TUN"
tt_check "the second tunnel runs as $TUN (uid $TUN_UID)" \
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$FT_PID/status")" = "$TUN_UID" ]
CLIENT=(setpriv --reuid="$TUN_UID" --regid="$TUN_GID" --clear-groups)
OWNER_DATA_AS="$TUN_UID:$TUN_GID"
steal user-timewait 0.5
steal user-orphan 0
fast user-c $((FAST_N / 4))

tt_check "finding 1: no byte of a thief's anywhere on the server" \
	tt_quiet bash -c "! grep -rq THIEF-MARKER '$VSFTPD_UPLOAD_DIR'"
tt_check "the tunnel is still running" _tt_alive "$FT_PID"

tt_done
