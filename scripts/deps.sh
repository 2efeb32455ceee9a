#!/bin/sh
# Installs every Debian package the build and the tests need. Idempotent,
# non-interactive, as root; leaves no service running.
set -eu

PKGS="build-essential pkg-config libssh2-1-dev libssl-dev libexpat1-dev
clang clang-format
openssh-server openssh-client vsftpd curl lftp ftp inetutils-ftp wget ncftp
python3 socat nftables iproute2 tshark proxychains4 hyperfine procps psmisc
openssl util-linux passwd valgrind
libsodium23 libpcre2-posix3 libhiredis0.14 libmemcached11 libmemcachedutil2"

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: run as root (it installs Debian packages)" >&2
	exit 1
fi

# Installing servers must not start them: a policy-rc.d that refuses.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
fi

export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	debconf-set-selections

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi

# pure-ftpd and proftpd conflict with vsftpd (all Provide ftp-server):
# unpack them beside the tree instead of installing them.
EXTRA=/opt/ftp-tunnel-testdeps
mkdir -p "$EXTRA"
for p in pure-ftpd proftpd-core; do
	if [ ! -e "$EXTRA/$p.done" ]; then
		tmp=$(mktemp -d)
		(cd "$tmp" && apt-get download -qq "$p") || {
			apt-get update -qq
			(cd "$tmp" && apt-get download -qq "$p")
		}
		dpkg-deb -x "$tmp"/"$p"_*.deb "$EXTRA/root"
		rm -rf "$tmp"
		touch "$EXTRA/$p.done"
	fi
done

# Any service the packages started anyway.
for s in ssh vsftpd; do
	service "$s" stop >/dev/null 2>&1 || true
done
echo "deps: all packages present"
