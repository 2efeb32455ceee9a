#!/bin/bash
# t_deb.sh — `make check-deb`: the Debian package from build to purge.
# Builds it with `make deb` (the tree must stay as git saw it), checks that
# debian/changelog's version is daemon/core/version.h's, runs lintian (no
# error), installs it with dpkg -i, proves the installed commands work
# (/usr/bin/ftp-tunnel -L ftp/... and /usr/bin/ftp-tunnel-wrap with the
# installed shim and daemon, on a client host whose firewall lets only SSH
# out, curl downloads and uploads compared by sha256), and purges it:
# every path dpkg listed for it is gone (but directories other packages
# own), and /etc/ld.so.preload was never touched. Needs root; changes the
# machine's package database for the length of the test, so it is not
# part of `make check` (tests/run.sh runs tests/integration/ only).
TT_NAME=deb
TT_FT_BIN=/usr/bin/ftp-tunnel # the installed command, never $PATH's
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/tunnel.sh"
tt_init deb

PKG=ftp-tunnel
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
SHIM=/usr/lib/$MA/libftptunnel.so

# dpkg waits for nobody: another dpkg or apt holding its lock makes it
# fail at once. Retry while the lock is the reason (up to 2 minutes).
dpkg_locked() {
	local out
	for _ in $(seq 60); do
		out=$(dpkg "$@" 2>&1) && { printf '%s\n' "$out"; return 0; }
		grep -q -i 'lock' <<<"$out" || { printf '%s\n' "$out"; return 1; }
		sleep 2
	done
	printf '%s\n' "$out"
	return 1
}
installed() { dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'install ok installed'; }
# What dpkg knows of the package: anything but "not-installed" (purged).
known() { dpkg-query -W -f='${db:Status-Abbrev}' "$PKG" 2>/dev/null | grep -q -v '^un'; }

# The machine must not have the package or another /usr/bin/ftp-tunnel:
# the test would remove the first and mistake the second for its own.
known && tt_die "$PKG is installed already; remove it first (dpkg --purge $PKG)"
for f in /usr/bin/ftp-tunnel /usr/bin/ftp-tunneld /usr/bin/ftp-tunnel-wrap "$SHIM"; do
	[ -e "$f" ] && tt_die "$f exists and is not from $PKG; move it away first"
done
# Whatever happens below, the package does not stay installed.
_deb_cleanup() {
	if known; then
		[ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null
		dpkg_locked --purge "$PKG" >/dev/null || echo "t_deb: could not purge $PKG" >&2
	fi
}
trap 'rc=$?; _deb_cleanup; (exit $rc); _tt_exit' EXIT

# --- the version, from one place --------------------------------------
want=$(sed -n 's/^#define FTP_TUNNEL_VERSION "\(.*\)"$/\1/p' "$TT_TOP/daemon/core/version.h")
got=$(dpkg-parsechangelog -l "$TT_TOP/debian/changelog" -S Version)
tt_check "debian/changelog's version ($got) is version.h's ($want)" \
	[ -n "$want" ] && [ "$got" = "$want" ]

# --- build -------------------------------------------------------------
before=$(git -C "$TT_TOP" status --porcelain 2>/dev/null)
out=$(cd "$TT_TOP" && make --no-print-directory deb 2>&1)
rc=$?
DEB=$(printf '%s\n' "$out" | tail -n 1)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
if [ "$rc" != 0 ] || [ ! -f "$DEB" ]; then
	printf '%s\n' "$out" | tail -n 30
	tt_die "make deb failed"
fi
tt_check "make deb built $(basename "$DEB")" \
	[ "$(basename "$DEB")" = "${PKG}_${want}_${ARCH}.deb" ]
after=$(git -C "$TT_TOP" status --porcelain 2>/dev/null)
tt_check "the source tree is as git saw it before the build" [ "$before" = "$after" ] ||
	diff <(echo "$before") <(echo "$after") | head

# --- lintian -------------------------------------------------------------
changes=$(dirname "$DEB")/deb/${PKG}_${want}_${ARCH}.changes
lintian "$changes" >"$T/lintian.out" 2>&1
sed 's/^/    | /' "$T/lintian.out"
tt_check "lintian: no error ($(grep -c '^E:' "$T/lintian.out") errors, $(grep -c '^W:' "$T/lintian.out") warnings)" \
	bash -c "! grep -q '^E:' '$T/lintian.out'"

# --- what is in it -------------------------------------------------------
mkdir -p "$T/ctrl"
dpkg-deb -e "$DEB" "$T/ctrl"
scripts=$(cd "$T/ctrl" && ls preinst postinst prerm postrm config triggers 2>/dev/null | paste -sd' ')
tt_check "no maintainer script ($scripts) names ld.so.preload" \
	bash -c "cd '$T/ctrl' && ! grep -l 'ld\.so\.preload' $scripts"
deps=$(dpkg-deb -f "$DEB" Depends)
tt_check "Depends comes from the linked libraries: $deps" \
	bash -c "grep -q 'libssh2-1' <<<'$deps' && grep -q 'libssl3' <<<'$deps' && grep -q 'libexpat1' <<<'$deps'"

# --- install -------------------------------------------------------------
preload_before=$(sha256sum /etc/ld.so.preload 2>/dev/null || echo none)
dpkg_locked -i "$DEB" >"$T/dpkg-i.out" || { cat "$T/dpkg-i.out"; tt_die "dpkg -i failed"; }
tt_check "dpkg -i: $PKG installed" installed
dpkg -L "$PKG" | sort >"$T/list"
for f in /usr/bin/ftp-tunnel /usr/bin/ftp-tunneld /usr/bin/ftp-tunnel-wrap "$SHIM" \
	/usr/share/man/man1/ftp-tunnel.1.gz /usr/share/man/man1/ftp-tunnel-wrap.1.gz \
	/usr/share/man/man5/ftp-tunnel.conf.5.gz /usr/share/man/man7/libftptunnel.7.gz \
	/usr/share/man/man8/ftp-tunneld.8.gz /usr/lib/systemd/user/ftp-tunneld.socket \
	/usr/lib/systemd/user/ftp-tunneld.service; do
	grep -q -x -F "$f" "$T/list" && [ -e "$f" ] || tt_fail "installed: $f missing"
done
tt_pass "installed: the 3 commands, the shim in $(dirname "$SHIM"), 5 manual pages, 2 user units"
tt_check "the service runs the installed daemon" \
	grep -q -x 'ExecStart=/usr/bin/ftp-tunneld' /usr/lib/systemd/user/ftp-tunneld.service
tt_check "the socket unit is not enabled for every user" \
	[ ! -e /etc/systemd/user/sockets.target.wants/ftp-tunneld.socket ]
man -w ftp-tunnel-wrap >/dev/null 2>&1 && tt_pass "man finds ftp-tunnel-wrap(1)" ||
	tt_skip "man-db not installed"

# --- the installed commands at work --------------------------------------
tt_netns_topology firewall || tt_die "namespaces"
tt_sshd "$NS_SRV" "$SRV_IP" || tt_die "sshd"
tt_vsftpd "$NS_SRV" "$SRV_IP" || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/f" 4M
tt_mkfile "$T/up" 3M
tt_netns_drops_reset

# cli [PREFIX...] -- CURL-ARGS...: curl on the client host, after PREFIX.
cli_curl() {
	local pre=()
	while [ "$1" != -- ]; do pre+=("$1"); shift; done
	shift
	ip netns exec "$NS_CLI" "${pre[@]}" curl -q -sS --max-time 60 "$@"
}

# 1. ftp-tunnel -L ftp/...: passive download, active upload.
ft_tunnel -n "$NS_CLI" -L "ftp/2121:$SRV_IP:$VSFTPD_PORT" "$SSH_USER@$SRV_IP" ||
	tt_die "/usr/bin/ftp-tunnel did not come up"
tt_check "the tunnel runs /usr/bin/ftp-tunnel" \
	[ "$(readlink "/proc/$FT_PID/exe")" = /usr/bin/ftp-tunnel ]
cli_curl -- -o "$T/got.L" "ftp://127.0.0.1:2121/pub/f"
tt_same "$VSFTPD_PUB/f" "$T/got.L" "ftp-tunnel -L: passive download (sha256)"
cli_curl -- -P - -T "$T/up" "ftp://127.0.0.1:2121/upload/up.L"
tt_same "$T/up" "$VSFTPD_UPLOAD_DIR/up.L" "ftp-tunnel -L: active upload (sha256)"
tt_kill "$FT_PID"

# 2. ftp-tunnel-wrap --via: the wrapper finds the shim and the daemon
# where the package put them (nothing in the environment says where).
unset FTP_TUNNELD FTP_TUNNEL_SHIM FTP_TUNNEL_CLI LD_PRELOAD
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock" FTP_TUNNEL_LOG="$T/daemon.log"
mkdir -p "$T/run" && chmod 700 "$T/run"
tt_log_add daemon.log "$FTP_TUNNEL_LOG"
WRAP=(/usr/bin/ftp-tunnel-wrap --via "$SSH_USER@$SRV_IP" --ports "$VSFTPD_PORT"
	-i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -o StrictHostKeyChecking=yes)
preload=$(ip netns exec "$NS_CLI" "${WRAP[@]}" sh -c 'printf %s "$LD_PRELOAD"' </dev/null 2>"$T/wrap.err")
tt_check "ftp-tunnel-wrap preloads the installed shim ($preload)" [ "$preload" = "$SHIM" ] ||
	cat "$T/wrap.err"
cli_curl "${WRAP[@]}" -- -o "$T/got.W" "ftp://$SRV_IP:$VSFTPD_PORT/pub/f" </dev/null
tt_same "$VSFTPD_PUB/f" "$T/got.W" "ftp-tunnel-wrap curl: passive download (sha256)"
cli_curl "${WRAP[@]}" -- -P - -T "$T/up" "ftp://$SRV_IP:$VSFTPD_PORT/upload/up.W" </dev/null
tt_same "$T/up" "$VSFTPD_UPLOAD_DIR/up.W" "ftp-tunnel-wrap curl: active upload (sha256)"
/usr/bin/ftp-tunnel status >"$T/status" 2>&1
DPID=$(awk '/^pid:/ {print $2}' "$T/status")
[ -n "$DPID" ] && tt_track "$DPID"
tt_check "the shim started the installed daemon (pid ${DPID:-none}: $(readlink "/proc/${DPID:-0}/exe"))" \
	[ -n "$DPID" ] && [ "$(readlink "/proc/$DPID/exe")" = /usr/bin/ftp-tunneld ]
tt_check "the daemon reports version $want" grep -q "^version: *$want\$" "$T/status" ||
	cat "$T/status"
tt_check "nothing but SSH left the client host ($(tt_netns_drops) drops)" \
	[ "$(tt_netns_drops)" -eq 0 ]
/usr/bin/ftp-tunnel stop >/dev/null 2>&1
[ -n "$DPID" ] && tt_kill "$DPID"

# --- purge -----------------------------------------------------------------
dpkg_locked --purge "$PKG" >"$T/dpkg-purge.out" || { cat "$T/dpkg-purge.out"; tt_fail "dpkg --purge failed"; }
tt_check "dpkg --purge: dpkg knows nothing of $PKG" bash -c "! dpkg-query -W -f='\${db:Status-Abbrev}' $PKG 2>/dev/null | grep -q -v '^un'"
left=""
while read -r p; do
	[ "$p" = /. ] && continue
	[ -e "$p" ] || [ -L "$p" ] || continue
	# A directory another package also owns (/usr/bin) stays.
	[ -d "$p" ] && dpkg -S "$p" >/dev/null 2>&1 && continue
	left="$left $p"
done <"$T/list"
tt_check "every path of dpkg -L is gone ($(wc -l <"$T/list") listed)${left:+; left:$left}" [ -z "$left" ]
tt_check "no maintainer file left in /var/lib/dpkg/info" \
	bash -c "! ls /var/lib/dpkg/info/$PKG.* /var/lib/dpkg/info/$PKG:* 2>/dev/null | grep -q ."
tt_check "no unit state left (deb-systemd-helper)" \
	bash -c "! ls /etc/systemd/user/*/ftp-tunneld.* /var/lib/systemd/deb-systemd-user-helper-*/*ftp-tunneld* 2>/dev/null | grep -q ."
tt_check "/etc/ld.so.preload as before ($preload_before)" \
	[ "$(sha256sum /etc/ld.so.preload 2>/dev/null || echo none)" = "$preload_before" ]
tt_done
