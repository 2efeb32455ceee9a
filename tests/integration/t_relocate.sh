#!/bin/bash
# t_relocate.sh — an installation works wherever it was moved: the tree is
# installed twice with DESTDIR (the default layout, bin/ and lib/, and a
# Debian-like one, bin/ and lib/<triplet>/), each stage moved to a
# directory of its own that is not the PREFIX it was built for. From each,
# ftp-tunnel-wrap --via preloads that installation's shim and starts that
# installation's daemon (curl through a private sshd and vsftpd, sha256),
# and ftp-tunnel -f starts that installation's daemon too: the daemon's
# /proc/PID/exe says which one ran.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init relocate
[ -x "$TT_BUILD/ftp-tunneld" ] && [ -x "$TT_BUILD/ftp-tunnel-wrap" ] ||
	tt_die "build first (make)"

tt_sshd || tt_die "sshd"
tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/f" 2M
chmod -R a+rX "$VSFTPD_PUB"

# Nothing may point the programs at the build tree: they find their own.
unset FTP_TUNNELD FTP_TUNNEL_SHIM FTP_TUNNEL_CLI LD_PRELOAD
triplet=$(${CC:-cc} -print-multiarch 2>/dev/null)
[ -n "$triplet" ] || triplet=x86_64-linux-gnu

# Installs with make install (the build is up to date: nothing is built
# again, so the built-in paths stay those of the default PREFIX).
stage() { # dir make-args...
	local d=$1
	shift
	make -s -C "$TT_TOP" BUILD="$TT_BUILD" DESTDIR="$d" "$@" install \
		>"$T/logs/install.$(basename "$d").log" 2>&1
}
stage "$T/stage-a" || tt_die "make install (a): $(tail -5 "$T/logs/install.stage-a.log")"
stage "$T/stage-b" PREFIX=/usr LIBDIR="/usr/lib/$triplet" ||
	tt_die "make install (b): $(tail -5 "$T/logs/install.stage-b.log")"
# a: /usr/local staged, moved to $T/opt-a; b: /usr staged, copied to
# $T/root-b/usr and the stage removed.
mv "$T/stage-a/usr/local" "$T/opt-a"
mkdir -p "$T/root-b"
cp -a "$T/stage-b/usr" "$T/root-b/usr"
rm -rf "$T/stage-a" "$T/stage-b"
A=$T/opt-a
B=$T/root-b/usr
tt_check "a: the shim is in lib/" [ -f "$A/lib/libftptunnel.so" ]
tt_check "b: the shim is in lib/$triplet/" [ -f "$B/lib/$triplet/libftptunnel.so" ]

daemon_pid() { # root
	"$1/bin/ftp-tunnel" status 2>/dev/null | awk '/^pid:/ {print $2}'
}

# Stops the daemon of root (its socket: FTP_TUNNEL_SOCKET) and waits.
stop_daemon() { # root pid
	"$1/bin/ftp-tunnel" stop >/dev/null 2>&1
	for _ in $(seq 50); do _tt_alive "$2" || break; sleep 0.1; done
}

one_root() { # label root shim-dir
	local l=$1 r=$2 lib=$3 dp exe pre LP out
	export FTP_TUNNEL_SOCKET="$T/run-$l/daemon.sock"
	mkdir -p "$T/run-$l" && chmod 700 "$T/run-$l"
	local wrap=("$r/bin/ftp-tunnel-wrap" --via "$SSH_USER@127.0.0.1:$SSHD_PORT"
		--ports "$VSFTPD_PORT" -i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS"
		-o StrictHostKeyChecking=yes)

	# The wrapper: its shim preloaded, its daemon started by it.
	pre=$("${wrap[@]}" sh -c 'printf %s "$LD_PRELOAD"' 2>"$T/logs/wrap-$l.pre.err")
	tt_check "$l: the wrapper preloads $lib/libftptunnel.so ($pre)" \
		[ "$pre" = "$lib/libftptunnel.so" ]
	rm -f "$T/got"
	"${wrap[@]}" curl -sS --max-time 30 -o "$T/got" \
		"ftp://127.0.0.1:$VSFTPD_PORT/pub/f" >"$T/logs/wrap-$l.log" 2>&1
	tt_same "$VSFTPD_PUB/f" "$T/got" "$l: curl through ftp-tunnel-wrap --via ($(head -c 200 "$T/logs/wrap-$l.log"))"
	dp=$(daemon_pid "$r")
	[ -n "$dp" ] && tt_track "$dp"
	exe=$([ -n "$dp" ] && readlink "/proc/$dp/exe")
	tt_check "$l: the wrapper started $r/bin/ftp-tunneld ($exe)" \
		[ "$exe" = "$r/bin/ftp-tunneld" ]
	stop_daemon "$r" "$dp"

	# ftp-tunnel -f: the daemon beside it holds the tunnel.
	LP=$(tt_free_port)
	out=$("$r/bin/ftp-tunnel" -f -i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" \
		-o StrictHostKeyChecking=yes -o BatchMode=yes -p "$SSHD_PORT" \
		-L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" "$SSH_USER@127.0.0.1" 2>&1)
	tt_check "$l: ftp-tunnel -f: held ($out)" eval 'echo "$out" | grep -q "tunnels up"'
	dp=$(daemon_pid "$r")
	[ -n "$dp" ] && tt_track "$dp"
	exe=$([ -n "$dp" ] && readlink "/proc/$dp/exe")
	tt_check "$l: ftp-tunnel -f started $r/bin/ftp-tunneld ($exe)" \
		[ "$exe" = "$r/bin/ftp-tunneld" ]
	rm -f "$T/got"
	curl -sS --max-time 30 -o "$T/got" "ftp://127.0.0.1:$LP/pub/f" >"$T/logs/held-$l.log" 2>&1
	tt_same "$VSFTPD_PUB/f" "$T/got" "$l: curl through the held tunnel"
	stop_daemon "$r" "$dp"
}

one_root a "$A" "$A/lib"
one_root b "$B" "$B/lib/$triplet"

# Built for /usr/local, and nothing is there: the built-in path alone
# would have failed ("cannot start the daemon /usr/local/bin/ftp-tunneld").
tt_done
