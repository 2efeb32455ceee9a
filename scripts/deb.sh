#!/bin/sh
# deb.sh — `make deb`: builds the Debian package ftp-tunnel_VERSION_ARCH.deb
# with dpkg-buildpackage (debian/), in a copy of the tree under
# $BUILD/deb, so nothing it writes lands in the source tree; the package
# is then copied to $BUILD. Prints the package's path on its last line.
# Needs debhelper and the build dependencies (make deps-test).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac

# debhelper and the libraries: say at once what is missing, and how to get it.
if ! (cd "$top" && dpkg-checkbuilddeps); then
	echo "deb: install the build dependencies first: make deps-test (as root)" >&2
	exit 1
fi

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
work=$build/deb
src=$work/ftp-tunnel-$version

rm -rf "$work"
mkdir -p "$src"
# The files of the tree as git sees them (tracked, and new ones not
# ignored), or, outside a git checkout, everything but the build folders.
cd "$top"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf - | tar -xf - -C "$src"
else
	tar --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$src"
fi

cd "$src"
dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	echo "deb: dpkg-buildpackage failed; the whole log is $work/build.log" >&2
	exit 1
}
deb=ftp-tunnel_${version}_${arch}.deb
cp "$work/$deb" "$build/$deb"
echo "$build/$deb"
