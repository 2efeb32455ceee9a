#!/bin/bash
# lib.sh — fixtures for ftp-tunnel's integration tests (bash, sourced by
# tests/integration/t_*.sh): a per-test temp dir with cleanup by PID, a
# private sshd, vsftpd / pure-ftpd / proftpd, network namespaces, FTP client
# drivers (clients.sh) and assertions. See tests/integration/README.md.
#
# Conventions: every function returns 0 on success and non-zero on failure
# with a one-line message on stderr; fixtures export their facts in upper
# case variables; nothing listens beyond loopback or the test's own
# namespaces; every process started is registered and killed by PID (or by
# process group when it was started with setsid) when the test exits.

[ -n "${BASH_VERSION:-}" ] || {
	echo "lib.sh: needs bash" >&2
	exit 1
}

TT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TT_TOP=$(cd "$TT_LIB_DIR/../.." && pwd)
TT_BUILD=${TT_BUILD:-$TT_TOP/build}
# pure-ftpd and proftpd are unpacked here by scripts/deps.sh, not installed.
TT_DEPS_ROOT=${TT_DEPS_ROOT:-/opt/ftp-tunnel-testdeps/root}
TT_SSHD_BIN=${TT_SSHD_BIN:-/usr/sbin/sshd}
TT_VSFTPD_BIN=${TT_VSFTPD_BIN:-/usr/sbin/vsftpd}
TT_PUREFTPD_BIN=${TT_PUREFTPD_BIN:-$TT_DEPS_ROOT/usr/sbin/pure-ftpd}
TT_PROFTPD_BIN=${TT_PROFTPD_BIN:-$TT_DEPS_ROOT/usr/sbin/proftpd}
# Ports handed out by tt_free_port: below Linux's ephemeral range (32768+),
# so no client's outgoing connection can be sitting on them.
TT_PORT_MIN=${TT_PORT_MIN:-20000}
TT_PORT_MAX=${TT_PORT_MAX:-32000}
# How long a fixture may take to become ready, in tenths of a second.
TT_READY_TENTHS=${TT_READY_TENTHS:-150}

TT_NPASS=0
TT_NFAIL=0
TT_NSKIP=0
TT_KILL=()   # "PID" or "-PGID", in start order
# PID -> its start time (/proc/PID/stat field 22) when it was tracked:
# pid_max is 32768 here, and with other test runs on the machine a PID
# of ours that ended can come back as somebody else's within seconds.
declare -A TT_START=()
TT_NETNS=()  # namespaces to delete
TT_LOGS=()   # "label|path" printed when the test fails
T=""

# ---------------------------------------------------------------- messages

tt_log() { printf '# %s\n' "$*" >&2; }
tt_die() {
	printf 'FATAL: %s\n' "$*" >&2
	TT_NFAIL=$((TT_NFAIL + 1))
	exit 1
}

# ---------------------------------------------------------------- assertions

# tt_pass MSG / tt_fail MSG / tt_skip MSG: record one result, print one line.
tt_pass() {
	TT_NPASS=$((TT_NPASS + 1))
	printf 'ok   %s\n' "$*"
}
tt_fail() {
	TT_NFAIL=$((TT_NFAIL + 1))
	printf 'FAIL %s\n' "$*"
}
tt_skip() {
	TT_NSKIP=$((TT_NSKIP + 1))
	printf 'skip %s\n' "$*"
}
# tt_check MSG CMD...: pass if CMD succeeds, else fail.
tt_check() {
	local msg=$1
	shift
	if "$@"; then tt_pass "$msg"; else tt_fail "$msg"; fi
}
# tt_quiet CMD...: run CMD with its output thrown away (for tt_check).
tt_quiet() { "$@" >/dev/null 2>&1; }
# tt_skip_all MSG: the whole test cannot run here (exit 77: SKIP in run.sh).
tt_skip_all() {
	printf 'SKIP %s\n' "$*"
	exit 77
}
# tt_done: summary line, then exit 1 if anything failed, 77 if nothing ran
# but something was skipped, else 0.
tt_done() {
	printf '# %s: passed %d, failed %d, skipped %d\n' "${TT_NAME:-test}" \
		"$TT_NPASS" "$TT_NFAIL" "$TT_NSKIP"
	if [ "$TT_NFAIL" -gt 0 ]; then exit 1; fi
	if [ "$TT_NPASS" -eq 0 ] && [ "$TT_NSKIP" -gt 0 ]; then exit 77; fi
	if [ "$TT_NPASS" -eq 0 ]; then
		echo "# no assertion was made" >&2
		exit 1
	fi
	exit 0
}

# ---------------------------------------------------------------- setup and cleanup

# tt_init NAME: make $T (/tmp/ftt-NAME.XXXXXX, mode 0755 so unprivileged
# FTP users can traverse it) and install the cleanup trap. Needs root.
tt_init() {
	TT_NAME=${1:-$(basename "$0" .sh)}
	[ "$(id -u)" -eq 0 ] || tt_skip_all "$TT_NAME needs root"
	T=$(mktemp -d "/tmp/ftt-$TT_NAME.XXXXXX") || tt_die "mktemp failed"
	chmod 755 "$T"
	mkdir -p "$T/logs" "$T/clients" "$T/home"
	chmod 700 "$T/home"
	[ -n "${_TT_OWN_HOME:-}" ] && _tt_own_home_mount
	: >"$T/.ports"
	export T TT_NAME
	# The machine's and the user's ssh_config are not the test's: ftp-tunnel
	# and ftp-tunneld read none (t_ssh_config sets its own).
	export FTP_TUNNEL_SSH_CONFIG=none FTP_TUNNEL_SSH_SYSTEM_CONFIG=none
	[ -n "${TT_RUN_DIR:-}" ] && [ -d "${TT_RUN_DIR:-}" ] && echo "$T" >"$TT_RUN_DIR/$TT_NAME.tdir"
	trap '_tt_exit' EXIT
	trap '_tt_signal 130' INT
	trap '_tt_signal 143' TERM
	trap '_tt_signal 129' HUP
}

# tt_own_home "$@" (before tt_init): ftp-tunnel takes ~ from the password
# entry, as ssh does, not from $HOME. A test that gives it a home of its
# own calls this first: the test runs again in a private mount namespace,
# where tt_init bind-mounts $T/home on the password entry's home (the real
# one is neither read nor written there) and exports HOME and TT_PW_HOME
# as that home's path.
tt_own_home() {
	[ -n "${_TT_OWN_HOME:-}" ] && return 0
	_TT_OWN_HOME=1 exec unshare --mount --propagation private bash "$0" "$@"
}

_tt_own_home_mount() {
	TT_PW_HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
	[ -d "$TT_PW_HOME" ] || tt_die "no home directory in the password entry"
	mount --bind "$T/home" "$TT_PW_HOME" || tt_die "cannot bind-mount $T/home on $TT_PW_HOME"
	export HOME=$TT_PW_HOME TT_PW_HOME
}

_tt_signal() {
	echo "# $TT_NAME: interrupted (signal), cleaning up" >&2
	TT_NFAIL=$((TT_NFAIL + 1))
	exit "$1"
}

# tt_track [-g] PID: kill PID (with -g: its process group) at exit.
tt_track() {
	if [ "$1" = -g ]; then
		TT_KILL+=("-$2")
		_tt_remember "$2"
	else
		TT_KILL+=("$1")
		_tt_remember "$1"
	fi
}

# _tt_starttime PID: its start time in clock ticks since boot, or nothing.
_tt_starttime() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	# Field 2 is "(comm)", which may hold spaces: count after its ")".
	st=${st##*) }
	set -- $st
	echo "${20}"
}
_tt_remember() { TT_START[$1]=$(_tt_starttime "$1"); }
# _tt_reused PID: PID is now another process than the one we tracked.
_tt_reused() {
	local then=${TT_START[$1]:-} now
	[ -n "$then" ] || return 1
	now=$(_tt_starttime "$1")
	[ -n "$now" ] && [ "$now" != "$then" ]
}

# tt_untrack PID: forget PID (it was waited for).
tt_untrack() {
	local i
	for i in "${!TT_KILL[@]}"; do
		if [ "${TT_KILL[$i]}" = "$1" ] || [ "${TT_KILL[$i]}" = "-$1" ]; then
			unset 'TT_KILL[i]'
		fi
	done
}

# tt_log_add LABEL PATH: print PATH's tail under LABEL if the test fails.
tt_log_add() { TT_LOGS+=("$1|$2"); }

# tt_spawn [-g] [-n NETNS] [-o LOG] CMD ARGS...: run CMD in the background
# (with -g in a new session: setsid, so its children are killed with it;
# with -n inside NETNS), output to LOG (default $T/logs/NAME.N.log),
# register it for cleanup. Sets TT_PID (and TT_SPAWN_LOG).
tt_spawn() {
	local grp=0 ns="" log="" OPTIND=1 o
	while getopts "gn:o:" o; do
		case $o in
		g) grp=1 ;;
		n) ns=$OPTARG ;;
		o) log=$OPTARG ;;
		*) tt_die "tt_spawn: bad option" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ -n "$log" ] || log=$(mktemp "$T/logs/$(basename "$1").XXXX.log")
	local pre=()
	[ -n "$ns" ] && pre=(ip netns exec "$ns")
	if [ "$grp" = 1 ]; then
		# A background job of a non-interactive shell is not a group
		# leader, so setsid(1) calls setsid() and execs without forking:
		# $! is the new session's leader.
		"${pre[@]}" setsid "$@" </dev/null >>"$log" 2>&1 &
		TT_PID=$!
		TT_KILL+=("-$TT_PID")
		_tt_remember "$TT_PID"
	else
		"${pre[@]}" "$@" </dev/null >>"$log" 2>&1 &
		TT_PID=$!
		TT_KILL+=("$TT_PID")
		_tt_remember "$TT_PID"
	fi
	TT_SPAWN_LOG=$log
	tt_log_add "$(basename "$1")[$TT_PID]" "$log"
}

# _tt_alive PID: true while PID exists and is not a zombie.
_tt_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ] && ! _tt_reused "$1"
}
# _tt_group_alive PGID: true while a live process is in that group.
_tt_group_alive() {
	ps -e -o pgid=,stat= 2>/dev/null |
		awk -v g="$1" '$1 == g && $2 !~ /^[ZX]/ { f = 1 } END { exit !f }'
}
# A group entry (-PGID) is alive while its group or its leader is: the
# leader may not have made its group yet (setsid, timeout's setpgid).
_tt_entry_alive() {
	if [ "${1#-}" != "$1" ]; then
		# A leader's PID that came back as another process may lead a
		# group of that number of its own: not ours.
		_tt_reused "${1#-}" && return 1
		_tt_group_alive "${1#-}" || _tt_alive "${1#-}"
	else
		_tt_alive "$1"
	fi
}
_tt_signal_entry() { # SIG PID|-PGID
	kill "-$1" -- "$2" 2>/dev/null
	[ "${2#-}" != "$2" ] && kill "-$1" -- "${2#-}" 2>/dev/null
	return 0
}

# tt_kill PID|-PGID: TERM, wait up to 3 s, then KILL and wait up to 5 s
# more; reap our children.
tt_kill() {
	local e=$1 i
	_tt_signal_entry TERM "$e"
	for i in $(seq 30); do
		_tt_entry_alive "$e" || break
		sleep 0.1
	done
	if _tt_entry_alive "$e"; then
		_tt_signal_entry KILL "$e"
		# A killed process is gone only once the kernel has torn it
		# down (its memory, its sockets): on a loaded machine that
		# can take longer than a tick.
		for i in $(seq 50); do
			_tt_entry_alive "$e" || break
			sleep 0.1
		done
	fi
	wait "${e#-}" 2>/dev/null
	tt_untrack "${e#-}"
	return 0
}

# What our servers forked and left behind (vsftpd's session processes
# outlive its listener until their connection is gone): found by the test
# dir in their command line, and ended by PID.
_tt_kill_strays() {
	local p pids i
	[ -n "$T" ] || return 0
	for i in 1 2 3; do
		pids=$(grep -l -a -F "$T/" /proc/[0-9]*/cmdline 2>/dev/null |
			awk -F/ '{ print $3 }' | grep -v -x -e "$$" -e "$BASHPID")
		[ -n "$pids" ] || return 0
		for p in $pids; do
			kill -"$([ "$i" = 3 ] && echo KILL || echo TERM)" "$p" 2>/dev/null
		done
		sleep 0.2
	done
}

_tt_exit() {
	local rc=$? i e leaked="" all
	trap - EXIT INT TERM HUP
	set +e
	[ "$rc" -eq 0 ] && [ "$TT_NFAIL" -gt 0 ] && rc=1
	all=("${TT_KILL[@]}")
	# TERM everything at once, newest first (clients before servers), then
	# wait for each and KILL what is left.
	for ((i = ${#all[@]} - 1; i >= 0; i--)); do
		_tt_signal_entry TERM "${all[$i]}"
	done
	for e in "${all[@]}"; do
		tt_kill "$e"
	done
	for e in "${all[@]}"; do
		_tt_entry_alive "$e" && leaked="$leaked $e"
	done
	_tt_kill_strays
	for e in "${TT_NETNS[@]}"; do
		ip netns del "$e" 2>/dev/null
	done
	for e in "${TT_RMDIRS[@]}"; do
		rm -rf "$e"
	done
	if [ -n "$leaked" ]; then
		echo "LEAK: still alive after KILL:$leaked" >&2
		rc=1
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$T" ]; then
		_tt_dump_logs
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "${TT_KEEP:-0}" = 1 ]; then
			echo "# kept $T" >&2
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

_tt_dump_logs() {
	local l label path n=${TT_LOG_LINES:-40}
	for l in "${TT_LOGS[@]}"; do
		label=${l%%|*}
		path=${l#*|}
		[ -s "$path" ] || continue
		echo "----- $label: $path (last $n lines)" >&2
		tail -n "$n" "$path" >&2
	done
	if [ -n "${TT_FTP_LOG:-}" ] && [ -s "$TT_FTP_LOG" ]; then
		echo "----- last FTP client run: $TT_FTP_LOG" >&2
		tail -n "$n" "$TT_FTP_LOG" >&2
	fi
	echo "----- end of logs" >&2
}

# ---------------------------------------------------------------- helpers

# tt_in NETNS CMD...: run CMD inside NETNS ("" = here).
tt_in() {
	local ns=$1
	shift
	if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# tt_wait_until TENTHS CMD...: poll CMD every 0.1 s until it succeeds.
tt_wait_until() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# tt_cpu PID: "MAIN ALL", the CPU clock ticks PID's main thread and the
# whole process have used so far.
tt_cpu() {
	echo "$(awk '{ print $14 + $15 }' "/proc/$1/task/$1/stat" 2>/dev/null)" \
		"$(awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null)"
}
# tt_check_off_main LABEL PID "MAIN ALL": the work since that tt_cpu ran
# off PID's main thread: the process used 10 ticks or more, the main
# thread under a fifth of them.
tt_check_off_main() {
	local m0 a0 m1 a1
	read -r m0 a0 <<<"$3"
	read -r m1 a1 <<<"$(tt_cpu "$2")"
	tt_check "$1 (main $((m1 - m0)) of $((a1 - a0)) ticks)" \
		eval '[ -n "$m0" ] && [ -n "$m1" ] && [ $((a1 - a0)) -ge 10 ] && [ $(((m1 - m0) * 5)) -lt $((a1 - a0)) ]'
}

# tt_listening PORT [NETNS]: true when some TCP socket listens on PORT.
tt_listening() {
	[ -n "$(tt_in "${2:-}" ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# tt_wait_port PORT [NETNS]: wait until PORT listens.
tt_wait_port() {
	tt_wait_until "$TT_READY_TENTHS" tt_listening "$1" "${2:-}" ||
		{ echo "tt_wait_port: nothing listens on $1 ${2:+in $2}" >&2; return 1; }
}

# tt_urlhost HOST: HOST, bracketed when it is an IPv6 literal.
tt_urlhost() {
	case $1 in
	\[*) printf '%s' "$1" ;;
	*:*) printf '[%s]' "$1" ;;
	*) printf '%s' "$1" ;;
	esac
}

# _tt_ports_used [NETNS]: every local TCP/UDP port in use, one a line.
_tt_ports_used() {
	tt_in "${1:-}" ss -Hantu 2>/dev/null | awk '{n = split($5, a, ":"); print a[n]}'
	cat "$T/.ports" 2>/dev/null
}

# tt_free_port [NETNS]: print a TCP port free on 127.0.0.1 and ::1 (in
# NETNS if given), chosen at random in [TT_PORT_MIN, TT_PORT_MAX), never
# one handed out before in this test.
tt_free_port() {
	local r
	r=$(tt_free_range 1 "${1:-}") || return 1
	echo "${r% *}"
}

# tt_free_range N [NETNS]: print "LO HI", N consecutive free ports.
tt_free_range() {
	local n=$1 ns=${2:-} used lo p ok
	used=" $(_tt_ports_used "$ns" | sort -un | tr '\n' ' ') "
	for _ in $(seq 200); do
		lo=$((TT_PORT_MIN + (RANDOM * 32768 + RANDOM) % (TT_PORT_MAX - TT_PORT_MIN - n)))
		ok=1
		for ((p = lo; p < lo + n; p++)); do
			case $used in *" $p "*) ok=0 && break ;; esac
		done
		if [ "$ok" = 1 ]; then
			seq "$lo" $((lo + n - 1)) >>"$T/.ports"
			echo "$lo $((lo + n - 1))"
			return 0
		fi
	done
	echo "tt_free_range: no $n free ports" >&2
	return 1
}

# tt_mkfile PATH SIZE [SEED]: a file of SIZE bytes (suffix K or M for KiB,
# MiB) of deterministic pseudo-random content (AES-CTR keystream keyed by
# SEED, default the file's basename): fast (GB/s) and different per name.
tt_mkfile() {
	local path=$1 size=$2 seed=${3:-$(basename "$1")} key
	case $size in
	*K) size=$((${size%K} * 1024)) ;;
	*M) size=$((${size%M} * 1048576)) ;;
	*G) size=$((${size%G} * 1073741824)) ;;
	esac
	key=$(printf '%s' "$seed" | sha256sum | cut -c1-32)
	mkdir -p "$(dirname "$path")"
	{ openssl enc -aes-128-ctr -nosalt -K "$key" -iv 00000000000000000000000000000000 \
		-in /dev/zero 2>/dev/null || true; } | head -c "$size" >"$path"
	[ "$(stat -c %s "$path")" -eq "$size" ] ||
		{ echo "tt_mkfile: $path is not $size bytes" >&2; return 1; }
}

# tt_sha PATH: print PATH's sha256 (hex).
tt_sha() { sha256sum <"$1" | cut -d' ' -f1; }

# tt_cmp A B: true if both files exist and have the same sha256 (quiet).
tt_cmp() {
	[ -f "$1" ] && [ -f "$2" ] && [ "$(tt_sha "$1")" = "$(tt_sha "$2")" ]
}

# tt_same A B [MSG]: assertion: A and B have the same sha256; on failure
# the message names both files with sizes and hashes.
tt_same() {
	local msg=${3:-"$(basename "$2") same as $(basename "$1")"}
	if tt_cmp "$1" "$2"; then
		tt_pass "$msg"
		return 0
	fi
	tt_fail "$msg: $(_tt_fdesc "$1") != $(_tt_fdesc "$2")"
	return 1
}
_tt_fdesc() {
	if [ -f "$1" ]; then
		printf '%s (%s B, sha256 %.16s)' "$1" "$(stat -c %s "$1")" "$(tt_sha "$1")"
	else
		printf '%s (missing)' "$1"
	fi
}

# ---------------------------------------------------------------- sshd

# _tt_newdir NAME: make and print $T/NAME (or $T/NAME.2, ... if taken).
_tt_newdir() {
	local d="$T/$1" i=2
	while [ -e "$d" ]; do
		d="$T/$1.$i"
		i=$((i + 1))
	done
	mkdir -p "$d" && echo "$d"
}

# tt_rmdir_at_exit DIR: a directory outside $T the test made, removed
# when it ends.
TT_RMDIRS=()
tt_rmdir_at_exit() { TT_RMDIRS+=("$1"); }

# _tt_ns_addr NETNS: first global IPv4 address of NETNS.
_tt_ns_addr() {
	ip -n "$1" -4 -o addr show scope global 2>/dev/null |
		awk '{split($4, a, "/"); print a[1]; exit}'
}

# tt_sshd [NETNS [ADDR]]: a private OpenSSH sshd, its own ed25519 host key
# and client key generated for this run, root login by key only.
# Without NETNS: listens on 127.0.0.1 and ::1 on a free port. With NETNS:
# inside it, on ADDR (default the namespace's first IPv4 address) port 22.
# Extra sshd_config lines: $TT_SSHD_EXTRA. Returns when a login succeeds.
# Exports SSHD_HOST SSHD_PORT SSHD_PID SSHD_LOG SSHD_DIR SSHD_CONFIG
# SSHD_NETNS SSHD_HOSTKEY_PUB SSH_USER SSH_KEY SSH_KEY_PUB SSH_KNOWN_HOSTS.
tt_sshd() {
	local ns=${1:-} addr=${2:-} d port hosts h kt
	d=$(_tt_newdir sshd) || return 1
	mkdir -p /run/sshd && chmod 755 /run/sshd
	ssh-keygen -q -t ed25519 -N '' -C "ftt-host@$TT_NAME" -f "$d/host_ed25519_key" || return 1
	ssh-keygen -q -t ed25519 -N '' -C "ftt-user@$TT_NAME" -f "$d/id_ed25519" || return 1
	cp "$d/id_ed25519.pub" "$d/authorized_keys"
	if [ -n "$ns" ]; then
		[ -n "$addr" ] || addr=$(_tt_ns_addr "$ns")
		[ -n "$addr" ] || { echo "tt_sshd: no address in $ns" >&2; return 1; }
		port=${TT_SSHD_NS_PORT:-22}
		hosts="$addr"
	else
		port=$(tt_free_port) || return 1
		hosts="127.0.0.1 ::1"
		addr=127.0.0.1
	fi
	{
		echo "Port $port"
		for h in $hosts; do echo "ListenAddress $h"; done
		cat <<EOF
HostKey $d/host_ed25519_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
AllowTcpForwarding yes
GatewayPorts no
X11Forwarding no
UseDNS no
MaxStartups 100:30:200
MaxSessions 100
LogLevel VERBOSE
EOF
		[ -n "${TT_SSHD_EXTRA:-}" ] && printf '%s\n' "$TT_SSHD_EXTRA"
	} >"$d/sshd_config"
	"$TT_SSHD_BIN" -t -f "$d/sshd_config" >"$d/sshd-t.log" 2>&1 ||
		{ cat "$d/sshd-t.log" >&2; return 1; }

	# known_hosts in OpenSSH format: [host]:port unless the port is 22.
	kt=$(cut -d' ' -f1,2 "$d/host_ed25519_key.pub")
	: >"$d/known_hosts"
	for h in $hosts $([ -z "$ns" ] && echo localhost); do
		if [ "$port" = 22 ]; then
			echo "$h $kt" >>"$d/known_hosts"
		fi
		echo "[$h]:$port $kt" >>"$d/known_hosts"
	done

	tt_spawn -o "$d/sshd.log" ${ns:+-n "$ns"} "$TT_SSHD_BIN" -D -e -f "$d/sshd_config"
	export SSHD_PID=$TT_PID SSHD_LOG="$d/sshd.log" SSHD_DIR="$d" SSHD_CONFIG="$d/sshd_config"
	export SSHD_HOST=$addr SSHD_PORT=$port SSHD_NETNS=$ns
	export SSHD_HOSTKEY_PUB="$d/host_ed25519_key.pub"
	export SSH_USER=root SSH_KEY="$d/id_ed25519" SSH_KEY_PUB="$d/id_ed25519.pub"
	export SSH_KNOWN_HOSTS="$d/known_hosts"
	if ! tt_wait_until "$TT_READY_TENTHS" _tt_sshd_ready "$ns" "$addr" "$port"; then
		echo "tt_sshd: sshd on $addr:$port did not accept a login" >&2
		cat "$d/sshd.log" >&2
		return 1
	fi
}

_tt_sshd_ready() {
	_tt_alive "$SSHD_PID" || return 1
	tt_in "$1" ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
		-o UserKnownHostsFile="$SSH_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null \
		-o IdentitiesOnly=yes -o ConnectTimeout=3 -i "$SSH_KEY" -p "$3" \
		"$SSH_USER@$2" true >/dev/null 2>&1
}

# tt_ssh_config [FILE]: write an ssh_config (default $SSHD_DIR/ssh_config)
# for `ssh -F FILE tt-sshd` (or any host name/address: the settings are
# under Host *), print its path and export SSH_CONFIG.
tt_ssh_config() {
	local f=${1:-$SSHD_DIR/ssh_config}
	cat >"$f" <<EOF
Host tt-sshd
    HostName $SSHD_HOST
Host *
    Port $SSHD_PORT
    User $SSH_USER
    IdentityFile $SSH_KEY
    IdentitiesOnly yes
    UserKnownHostsFile $SSH_KNOWN_HOSTS
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 10
    ServerAliveInterval 0
    ControlMaster no
    ControlPath none
EOF
	export SSH_CONFIG=$f
	echo "$f"
}

# ---------------------------------------------------------------- FTP servers

# _tt_ftp_tree DIR: DIR/root (root-owned 0755), DIR/root/pub (readable
# files) and DIR/root/upload (owned by ftp, 1777: anonymous uploads).
_tt_ftp_tree() {
	local r="$1/root"
	mkdir -p "$r/pub" "$r/upload" "$1/empty"
	chown root:root "$r" "$r/pub" "$1/empty"
	chmod 755 "$1" "$r" "$r/pub" "$1/empty"
	chown ftp "$r/upload" 2>/dev/null
	chmod 1777 "$r/upload"
	echo "ftp-tunnel test server" >"$r/pub/README"
	chmod 644 "$r/pub/README"
}

# _tt_wait_220 NETNS HOST PORT: wait until HOST:PORT greets with 220.
_tt_wait_220() {
	tt_wait_until "$TT_READY_TENTHS" _tt_greets "$@"
}
_tt_greets() {
	local line
	line=$(tt_in "$1" timeout 3 bash -c \
		'exec 3<>"/dev/tcp/$0/$1" || exit 1; read -r -t 2 l <&3; printf "%s" "$l"' \
		"$2" "$3" 2>/dev/null)
	[ "${line:0:3}" = 220 ]
}

# _tt_ftp_export PREFIX NAME DIR NETNS HOST PORT LO HI PID LOG: export
# PREFIX_* and the generic FTP_* (the last server started).
_tt_ftp_export() {
	local p=$1 v
	for v in "$p" FTP; do
		export "${v}_NAME=$2" "${v}_DIR=$3" "${v}_NETNS=$4" "${v}_HOST=$5" \
			"${v}_PORT=$6" "${v}_PASV_MIN=$7" "${v}_PASV_MAX=$8" "${v}_PID=$9" \
			"${v}_LOG=${10}" "${v}_ROOT=$3/root" "${v}_PUB=$3/root/pub" \
			"${v}_UPLOAD_DIR=$3/root/upload"
	done
}

# tt_vsftpd [NETNS] [ADDR] [PREFIX]: a private vsftpd on ADDR (default
# 127.0.0.1; ::1 for IPv6) on a free port, anonymous login with uploads
# into upload/, every command logged (log_ftp_protocol). Extra config
# lines: $TT_VSFTPD_EXTRA. Exports PREFIX_* (default VSFTPD_*) and FTP_*:
# _HOST _PORT _ROOT _PUB _UPLOAD_DIR _PID _LOG _DIR _PASV_MIN _PASV_MAX.
tt_vsftpd() {
	local ns=${1:-} addr=${2:-127.0.0.1} pfx=${3:-VSFTPD} d port lo hi
	d=$(_tt_newdir "$(echo "$pfx" | tr 'A-Z' 'a-z')") || return 1
	_tt_ftp_tree "$d"
	# TT_VSFTPD_PORT: a fixed port, e.g. 21 in a namespace of the test's own.
	port=${TT_VSFTPD_PORT:-}
	[ -n "$port" ] || port=$(tt_free_port "$ns") || return 1
	# TT_VSFTPD_PASV_PORTS: how many passive ports (100). vsftpd ends a
	# session with "500 OOPS: vsf_sysutil_bind" when it finds none free.
	read -r lo hi < <(tt_free_range "${TT_VSFTPD_PASV_PORTS:-100}" "$ns") || return 1
	{
		if [ "${addr#*:}" != "$addr" ]; then
			printf 'listen=NO\nlisten_ipv6=YES\nlisten_address6=%s\n' "$addr"
		else
			printf 'listen=YES\nlisten_ipv6=NO\nlisten_address=%s\n' "$addr"
		fi
		cat <<EOF
listen_port=$port
background=NO
anonymous_enable=YES
anon_root=$d/root
no_anon_password=YES
anon_upload_enable=YES
anon_mkdir_write_enable=YES
anon_other_write_enable=YES
anon_umask=022
local_enable=NO
write_enable=YES
pasv_enable=YES
pasv_min_port=$lo
pasv_max_port=$hi
port_enable=YES
connect_from_port_20=NO
secure_chroot_dir=$d/empty
pam_service_name=vsftpd
seccomp_sandbox=NO
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file=$d/vsftpd.log
max_clients=0
max_per_ip=0
delay_failed_login=0
delay_successful_login=0
EOF
		[ -n "${TT_VSFTPD_EXTRA:-}" ] && printf '%s\n' "$TT_VSFTPD_EXTRA"
	} >"$d/vsftpd.conf"
	: >"$d/vsftpd.log"
	tt_spawn -g -o "$d/stderr.log" ${ns:+-n "$ns"} "$TT_VSFTPD_BIN" "$d/vsftpd.conf"
	_tt_ftp_export "$pfx" vsftpd "$d" "$ns" "$addr" "$port" "$lo" "$hi" "$TT_PID" "$d/vsftpd.log"
	tt_log_add "vsftpd protocol log" "$d/vsftpd.log"
	_tt_wait_220 "$ns" "$addr" "$port" ||
		{ echo "tt_vsftpd: no 220 on $addr:$port" >&2; cat "$d/stderr.log" >&2; return 1; }
}

# tt_pureftpd [NETNS] [ADDR] [PREFIX]: a private pure-ftpd (from
# $TT_DEPS_ROOT) on ADDR on a free port. pure-ftpd always serves ~ftp to
# anonymous users, so it runs in a private mount namespace where its root
# is bind-mounted on ftp's home (/srv/ftp): the host sees nothing.
# Extra arguments: $TT_PUREFTPD_ARGS. Exports PREFIX_* (default
# PUREFTPD_*) and FTP_*, as tt_vsftpd. It keeps no protocol log.
tt_pureftpd() {
	local ns=${1:-} addr=${2:-127.0.0.1} pfx=${3:-PUREFTPD} d port lo hi home fam=-4
	[ -x "$TT_PUREFTPD_BIN" ] || { echo "tt_pureftpd: no $TT_PUREFTPD_BIN (make deps-test)" >&2; return 1; }
	home=$(getent passwd ftp | cut -d: -f6)
	[ -n "$home" ] || { echo "tt_pureftpd: no ftp user" >&2; return 1; }
	[ -d "$home" ] || mkdir -p "$home" || return 1
	d=$(_tt_newdir "$(echo "$pfx" | tr 'A-Z' 'a-z')") || return 1
	_tt_ftp_tree "$d"
	port=$(tt_free_port "$ns") || return 1
	# pure-ftpd accepts only half as many clients as passive ports.
	read -r lo hi < <(tt_free_range 100 "$ns") || return 1
	[ "${addr#*:}" != "$addr" ] && fam=-6
	# shellcheck disable=SC2086
	tt_spawn -g -o "$d/pure-ftpd.log" ${ns:+-n "$ns"} \
		unshare --mount --propagation private \
		sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' "$d/root" "$home" \
		"$TT_PUREFTPD_BIN" -S "$addr,$port" -p "$lo:$hi" -l unix "$fam" -H -M \
		-c 50 -C 50 -f none -O "clf:$d/transfer.log" ${TT_PUREFTPD_ARGS:-}
	_tt_ftp_export "$pfx" pure-ftpd "$d" "$ns" "$addr" "$port" "$lo" "$hi" "$TT_PID" "$d/pure-ftpd.log"
	tt_log_add "pure-ftpd transfer log" "$d/transfer.log"
	_tt_wait_220 "$ns" "$addr" "$port" ||
		{ echo "tt_pureftpd: no 220 on $addr:$port" >&2; cat "$d/pure-ftpd.log" >&2; return 1; }
}

# tt_proftpd [NETNS] [ADDR] [PREFIX]: a private proftpd (from
# $TT_DEPS_ROOT; every module it needs is compiled in, so no LoadModule)
# on ADDR on a free port, anonymous login with uploads into upload/,
# every command in an ExtendedLog. Extra config: $TT_PROFTPD_EXTRA
# (server level). Exports PREFIX_* (default PROFTPD_*) and FTP_*, as
# tt_vsftpd; PREFIX_LOG is the command log.
tt_proftpd() {
	local ns=${1:-} addr=${2:-127.0.0.1} pfx=${3:-PROFTPD} d port lo hi v6=off
	[ -x "$TT_PROFTPD_BIN" ] || { echo "tt_proftpd: no $TT_PROFTPD_BIN (make deps-test)" >&2; return 1; }
	d=$(_tt_newdir "$(echo "$pfx" | tr 'A-Z' 'a-z')") || return 1
	_tt_ftp_tree "$d"
	port=$(tt_free_port "$ns") || return 1
	read -r lo hi < <(tt_free_range 100 "$ns") || return 1
	[ "${addr#*:}" != "$addr" ] && v6=on
	cat >"$d/proftpd.conf" <<EOF
ServerName "ftp-tunnel test proftpd"
ServerType standalone
Port $port
DefaultAddress $addr
SocketBindTight on
UseIPv6 $v6
User nobody
Group nogroup
Umask 022
PidFile $d/proftpd.pid
ScoreboardFile $d/proftpd.scoreboard
DelayTable none
WtmpLog off
UseReverseDNS off
PassivePorts $lo $hi
RequireValidShell off
AuthOrder mod_auth_unix.c
MaxInstances 60
AllowOverwrite on
SystemLog $d/proftpd.log
TransferLog $d/xfer.log
LogFormat ftt "%{iso8601} %a \"%r\" %s"
ExtendedLog $d/commands.log ALL ftt
${TT_PROFTPD_EXTRA:-}
<Anonymous $d/root>
  User ftp
  Group nogroup
  UserAlias anonymous ftp
  RequireValidShell off
  MaxClients 50
</Anonymous>
EOF
	: >"$d/commands.log"
	"$TT_PROFTPD_BIN" -t -c "$d/proftpd.conf" >"$d/proftpd-t.log" 2>&1 ||
		{ cat "$d/proftpd-t.log" >&2; return 1; }
	tt_spawn -g -o "$d/stderr.log" ${ns:+-n "$ns"} "$TT_PROFTPD_BIN" -n -c "$d/proftpd.conf"
	_tt_ftp_export "$pfx" proftpd "$d" "$ns" "$addr" "$port" "$lo" "$hi" "$TT_PID" "$d/commands.log"
	tt_log_add "proftpd system log" "$d/proftpd.log"
	tt_log_add "proftpd command log" "$d/commands.log"
	_tt_wait_220 "$ns" "$addr" "$port" ||
		{ echo "tt_proftpd: no 220 on $addr:$port" >&2; cat "$d/stderr.log" "$d/proftpd.log" >&2; return 1; }
}

# ---------------------------------------------------------------- namespaces

# tt_netns_topology [far] [firewall]: network namespaces for this run,
# deleted at exit:
#   NS_CLI (CLI_IP 10.200.X.2) ---veth--- NS_SRV (SRV_IP 10.200.X.1)
# with "far", also NS_SRV (SRV_FAR_IP 10.201.X.1) ---veth--- NS_FAR
# (FAR_IP 10.201.X.2): far is reachable from srv, never from cli (srv
# does not forward). The names begin with TT_NETNS_PREFIX (default ftt-;
# tests/run.sh sets one per run, so that it counts as leaked only what its
# own tests left, not another run's namespaces on the same machine), and
# X (NS_X) makes them unique. "firewall": tt_netns_firewall. IPv6 is off on the veths
# (no router/neighbour chatter in the drop counters); lo has ::1.
tt_netns_topology() {
	local far=0 fw=0 a x p=${TT_NETNS_PREFIX:-ftt-}
	for a in "$@"; do
		case $a in
		far) far=1 ;;
		firewall) fw=1 ;;
		*) echo "tt_netns_topology: unknown $a" >&2; return 1 ;;
		esac
	done
	# X: a number whose namespace name is free; `ip netns add` is the lock.
	for _ in $(seq 50); do
		x=$((1 + RANDOM % 250))
		if ip netns add "$p$x-srv" 2>/dev/null; then
			break
		fi
		x=""
	done
	[ -n "$x" ] || { echo "tt_netns_topology: no free namespace number" >&2; return 1; }
	NS_X=$x NS_SRV="$p$x-srv" NS_CLI="$p$x-cli" NS_FAR=""
	TT_NETNS+=("$NS_SRV")
	ip netns add "$NS_CLI" || return 1
	TT_NETNS+=("$NS_CLI")
	SRV_IP="10.200.$x.1" CLI_IP="10.200.$x.2" FAR_IP="" SRV_FAR_IP=""
	_tt_veth "$NS_CLI" v-cli "$CLI_IP" "$NS_SRV" v-srv "$SRV_IP" || return 1
	if [ "$far" = 1 ]; then
		NS_FAR="$p$x-far"
		ip netns add "$NS_FAR" || return 1
		TT_NETNS+=("$NS_FAR")
		SRV_FAR_IP="10.201.$x.1" FAR_IP="10.201.$x.2"
		_tt_veth "$NS_SRV" v-srvfar "$SRV_FAR_IP" "$NS_FAR" v-far "$FAR_IP" || return 1
	fi
	export NS_X NS_SRV NS_CLI NS_FAR SRV_IP CLI_IP FAR_IP SRV_FAR_IP
	[ "$fw" = 1 ] && { tt_netns_firewall || return 1; }
	return 0
}

# _tt_veth NS1 IF1 IP1 NS2 IF2 IP2: a veth pair made directly inside the
# namespaces (no name clash in the host's), /24 addresses, links and lo up.
_tt_veth() {
	local ns
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || return 1
	for ns in "$1:$2:$3" "$4:$5:$6"; do
		IFS=: read -r n i a <<<"$ns"
		ip netns exec "$n" sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" >/dev/null
		ip -n "$n" addr add "$a/24" dev "$i" || return 1
		ip -n "$n" link set lo up || return 1
		ip -n "$n" link set "$i" up || return 1
	done
}

# tt_netns_firewall: nftables in NS_CLI: out, only tcp to SRV_IP:22 (and
# lo); in, only replies from SRV_IP:22 (and lo). Everything else is
# dropped and counted in two named counters, drop_out and drop_in
# (tt_netns_drops).
tt_netns_firewall() {
	ip netns exec "$NS_CLI" nft -f - <<EOF || return 1
table inet ftt {
	counter drop_out { }
	counter drop_in { }
	chain out {
		type filter hook output priority 0; policy accept;
		oifname "lo" accept
		ip daddr $SRV_IP tcp dport ${TT_SSH_PORT_ALLOWED:-22} accept
		counter name "drop_out" drop
	}
	chain in {
		type filter hook input priority 0; policy accept;
		iifname "lo" accept
		ip saddr $SRV_IP tcp sport ${TT_SSH_PORT_ALLOWED:-22} ct state established accept
		counter name "drop_in" drop
	}
}
EOF
}

# tt_netns_drops [out|in]: packets the NS_CLI firewall dropped (both
# directions by default) since it was made or last reset.
tt_netns_drops() {
	local which=${1:-}
	ip netns exec "$NS_CLI" nft list counters table inet ftt 2>/dev/null |
		awk -v w="$which" '
			$1 == "counter" { name = $2 }
			/packets/ { for (i = 1; i <= NF; i++) if ($i == "packets" && (w == "" || name == "drop_" w)) n += $(i + 1) }
			END { print n + 0 }'
}

# tt_netns_drops_reset: zero the drop counters.
tt_netns_drops_reset() {
	ip netns exec "$NS_CLI" nft reset counters table inet ftt >/dev/null
}

# tt_netns_log: the cli firewall with its counters (for failure reports).
tt_netns_log() { ip netns exec "$NS_CLI" nft list table inet ftt; }

# ---------------------------------------------------------------- packet capture

# tt_capture NETNS IFACE [NAME]: capture every packet on IFACE inside
# NETNS ("" = here) to $T/NAME.pcap (default cap-IFACE) with dumpcap;
# returns once dumpcap is capturing. Sets TT_CAP_FILE and TT_CAP_PID.
tt_capture() {
	local ns=$1 ifc=$2 name=${3:-cap-$2}
	TT_CAP_FILE="$T/$name.pcap"
	tt_spawn -o "$T/logs/$name.log" ${ns:+-n "$ns"} dumpcap -q -P -i "$ifc" -w "$TT_CAP_FILE"
	TT_CAP_PID=$TT_PID
	tt_wait_until "$TT_READY_TENTHS" grep -q "Capturing on" "$T/logs/$name.log" ||
		{ echo "tt_capture: dumpcap did not start" >&2; cat "$T/logs/$name.log" >&2; return 1; }
}

# tt_capture_stop [PID]: stop dumpcap (default the last one); the file is
# complete when this returns.
tt_capture_stop() { tt_kill "${1:-$TT_CAP_PID}"; }

# tt_capture_count FILE STRING: how many times STRING appears in the
# packets' bytes (e.g. "RETR ", "PASV", or a chunk of a file that must not
# cross the wire in clear).
tt_capture_count() { grep -a -o -F -- "$2" "$1" 2>/dev/null | wc -l; }

# tt_capture_packets FILE [FILTER]: number of packets (tshark display
# FILTER, e.g. "tcp.port == 21").
tt_capture_packets() {
	tshark -r "$1" ${2:+-Y "$2"} 2>/dev/null | wc -l
}

# tt_hits_listener NETNS PORT: a listener on 127.0.0.1:PORT in NETNS
# ("" = here) that logs one line per connection to $T/hits.PORT and closes
# it; tt_hits PORT: how many connections it has seen.
tt_hits_listener() {
	: >"$T/hits.$2"
	tt_spawn ${1:+-n "$1"} "$TT_PYTHON" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
while True:
    c, a = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write("%s:%d\n" % a)
    c.close()
' "$2" "$T/hits.$2"
	tt_wait_port "$2" "$1"
}
tt_hits() { wc -l <"$T/hits.$1"; }

# The FTP client drivers (tt_ftp, tt_ftp_supports, ...).
# shellcheck source=clients.sh
. "$TT_LIB_DIR/clients.sh"
