#!/bin/sh
# deps.sh — installs the Debian packages a make target needs, and no more.
#   sh scripts/deps.sh        build and demo: what `make` and `make demo` use
#   sh scripts/deps.sh test   that, plus what `make check`, `make check-deb`
#                             and `make bench` add (more FTP clients and
#                             servers, capture, valgrind, debhelper, lintian)
#   sh scripts/deps.sh list   installs nothing: prints both sets, one
#                             package a line, "base PKG" (deps) and
#                             "test PKG" (what the test set adds; "unpack
#                             PKG" for the two unpacked below)
# Idempotent and non-interactive. When everything is there it installs
# nothing and needs no root, so make targets can run it every time;
# otherwise it must run as root. Leaves no service running.
set -eu

# `make`: the compiler and the libraries the programs link.
BUILD_PKGS="build-essential pkg-config libssh2-1-dev libssl-dev libexpat1-dev"
# `make demo` (scripts/demo.sh with tests/integration/lib.sh): namespaces
# and their firewall, a private sshd and vsftpd, curl and inetutils-ftp.
DEMO_PKGS="openssh-server openssh-client vsftpd curl inetutils-ftp
iproute2 nftables openssl procps util-linux passwd"
# `make check`, `make check-deb`, `make bench`: every FTP client of the
# matrix, captures (tshark's dumpcap), helpers in python3 and socat,
# valgrind, strace, clang-format, the Debian packaging tools, and the
# runtime libraries of pure-ftpd and proftpd (unpacked below, not
# installed). tests/integration/t_deps.sh checks that what make, make
# install and make demo run comes with the first two lists, and the
# tools only the tests use with this one alone.
TEST_PKGS="clang clang-format lftp ftp wget ncftp python3 socat tshark
proxychains4 hyperfine psmisc valgrind strace debhelper lintian fakeroot
dpkg-dev libsodium23 libpcre2-posix3 libhiredis0.14 libmemcached11
libmemcachedutil2"
UNPACK_PKGS="pure-ftpd proftpd-core"

case ${1:-} in
"") PKGS="$BUILD_PKGS $DEMO_PKGS" ;;
test) PKGS="$BUILD_PKGS $DEMO_PKGS $TEST_PKGS" ;;
list)
	for p in $BUILD_PKGS $DEMO_PKGS; do echo "base $p"; done
	for p in $TEST_PKGS; do echo "test $p"; done
	for p in $UNPACK_PKGS; do echo "unpack $p"; done
	exit 0
	;;
*)
	echo "usage: sh scripts/deps.sh [test|list]" >&2
	exit 2
	;;
esac

# The test set also unpacks pure-ftpd and proftpd (they conflict with
# vsftpd: all Provide ftp-server) beside the tree instead of installing them.
EXTRA=/opt/ftp-tunnel-testdeps
UNPACK=""
if [ "${1:-}" = test ]; then
	for p in $UNPACK_PKGS; do
		[ -e "$EXTRA/$p.done" ] || UNPACK="$UNPACK $p"
	done
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ] && [ -z "$UNPACK" ]; then
	echo "deps: all packages present${1:+ (with the $1 set)}"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing$UNPACK; run as root: sh scripts/deps.sh ${1:-}" >&2
	exit 1
fi

# Installing servers must not start them: a policy-rc.d that refuses.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
fi

export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ]; then
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi

mkdir -p "$EXTRA"
for p in $UNPACK; do
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq "$p") || {
		apt-get update -qq
		(cd "$tmp" && apt-get download -qq "$p")
	}
	dpkg-deb -x "$tmp"/"$p"_*.deb "$EXTRA/root"
	rm -rf "$tmp"
	touch "$EXTRA/$p.done"
done

# Any service the packages started anyway.
for s in ssh vsftpd; do
	service "$s" stop >/dev/null 2>&1 || true
done
echo "deps: all packages present${1:+ (with the $1 set)}"
