#!/bin/bash
# t_deps.sh — `make deps` installs what `make`, `make install` and `make
# demo` use, and `make deps-test` alone what only the tests use.
# scripts/deps.sh list gives the two sets. "Base" is what a fresh Debian
# 12 has (Essential or Priority required) plus the base set, with the
# packages each depends on, as apt would install them. Checked against
# that:
#  - every program `make all install` runs (from make -n -B), and make,
#    sh, pkg-config and what deps.sh itself runs;
#  - every system header the sources include (cc -M), and every library
#    the programs link (-lX: cc -print-file-name=libX.so);
#  - every program the demo really executes: scripts/demo.sh run under
#    strace -f with a plain root PATH, this run's build;
# each file's package must be in base. The tools only the tests use
# (tshark, valgrind, lintian, debhelper, hyperfine...) must come with
# the test set and not with base.
. "$(dirname "$0")/lib.sh"
tt_init deps
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
DEPS=$TT_TOP/scripts/deps.sh

sh "$DEPS" list >"$T/sets" 2>"$T/sets.err" || tt_die "deps.sh list: $(cat "$T/sets.err")"
BASE=$(awk '$1 == "base" { print $2 }' "$T/sets")
TEST=$(awk '$1 == "test" { print $2 }' "$T/sets")
tt_check "deps.sh list names a base set ($(wc -w <<<"$BASE") packages)" [ -n "$BASE" ]
tt_check "deps.sh list names a test set ($(wc -w <<<"$TEST") packages)" [ -n "$TEST" ]

# closure PKG...: the installed packages these pull in by Depends and
# Pre-Depends, themselves included, one a line.
closure() {
	apt-cache depends --recurse --installed --no-recommends --no-suggests \
		--no-conflicts --no-breaks --no-replaces --no-enhances "$@" 2>/dev/null |
		awk '!/^ / { sub(/:.*/, ""); gsub(/[<>]/, ""); print }' | sort -u
}
SYSTEM=$(dpkg-query -W -f='${Package} ${Essential} ${Priority}\n' |
	awk '$2 == "yes" || $3 == "required" { print $1 }')
# shellcheck disable=SC2086
closure $SYSTEM $BASE >"$T/base.closure"
# shellcheck disable=SC2086
closure $SYSTEM $BASE $TEST >"$T/test.closure"

# twin PATH: the same file on the other side of /usr-merge (dpkg knows
# /bin/ip, the shell finds /usr/bin/ip).
twin() {
	case $1 in
	/usr/bin/* | /usr/sbin/* | /usr/lib/* | /usr/lib64/*) echo "${1#/usr}" ;;
	/bin/* | /sbin/* | /lib/* | /lib64/*) echo "/usr$1" ;;
	*) echo "$1" ;;
	esac
}
# owners FILE: for each path in FILE (one a line) "PATH PKG,PKG..." ("-"
# when no package has it). Asks dpkg once for the path (without ../),
# its twin, and the file it resolves to (alternatives) and that one's
# twin.
owners() {
	local p r c
	declare -A own=()
	while read -r p; do
		r=$(readlink -f "$p")
		p=$(realpath -s -m "$p") # without ../, the link a -dev package has
		for c in "$p" "$(twin "$p")" "$r" "$(twin "$r")"; do echo "$c"; done
	done <"$1" | sort -u >"$T/cand"
	while IFS= read -r line; do
		case $line in "diversion "*) continue ;; esac
		c=${line#*: /}
		own["/$c"]=$(echo "${line%%: /*}" | sed 's/:[a-z0-9]*//g; s/ //g')
	done < <(xargs -r dpkg-query -S <"$T/cand" 2>/dev/null)
	while read -r p; do
		r=$(readlink -f "$p")
		n=$(realpath -s -m "$p")
		c=""
		for x in "$n" "$(twin "$n")" "$r" "$(twin "$r")"; do
			[ -n "${own[$x]:-}" ] && c="$c,${own[$x]}"
		done
		c=$(echo "${c#,}" | tr ',' '\n' | sort -u | paste -sd,)
		echo "$p ${c:--}"
	done <"$1"
}
# in_set CLOSURE PKGS: is one of the comma-separated PKGS in CLOSURE?
in_set() {
	local p
	for p in ${2//,/ }; do grep -q -x -F "$p" "$1" && return 0; done
	return 1
}
# need_base WHAT FILE: every path of FILE comes from a base package.
need_base() {
	local what=$1 bad="" p pk n
	n=$(sort -u "$2" | tee "$T/need" | wc -l)
	while read -r p pk; do
		if [ "$pk" = - ]; then
			bad="$bad $p (no package)"
		elif ! in_set "$T/base.closure" "$pk"; then
			bad="$bad $p ($pk)"
		fi
	done < <(owners "$T/need")
	tt_check "$what: $n, each from the base set${bad:+; not:$bad}" [ -z "$bad" ]
}

# 1. make all install: the programs of its recipes, and what it and
# deps.sh run besides.
make -n -B -C "$TT_TOP" BUILD="$T/b" DESTDIR="$T/d" PREFIX=/opt/ft all install \
	>"$T/make-n" 2>"$T/make-n.err" || tt_die "make -n: $(tail -3 "$T/make-n.err")"
{
	awk '{ print $1 }' "$T/make-n" | sort -u | while read -r w; do
		case $w in */* | -* | '>'* | *=*) continue ;; esac
		command -v "$w" 2>/dev/null | grep '^/'
	done
	for w in make sh pkg-config dpkg-query apt-get apt-cache debconf-set-selections \
		dpkg-deb service mktemp; do
		command -v "$w" || echo "/missing/$w"
	done
} >"$T/make.progs"
tt_check "make -n ran a compiler" grep -q -E '/(cc|gcc|x86_64-linux-gnu-gcc-[0-9]+)$' "$T/make.progs"
need_base "programs of make, make install and deps.sh" "$T/make.progs"

# 2. What the compiler reads and the linker links.
grep -rhoE '^#\s*include\s*<[^>]+>' "$TT_TOP"/common "$TT_TOP"/daemon "$TT_TOP"/shim \
	"$TT_TOP"/include | sed -E 's/.*<(.*)>/#include <\1>/' | sort -u >"$T/all.c"
# shellcheck disable=SC2046
cc -D_GNU_SOURCE $(pkg-config --cflags libssh2 expat 2>/dev/null) -I"$TT_TOP/include" \
	-M -x c "$T/all.c" 2>"$T/cc.err" | tr ' \\' '\n\n' | grep '^/' | grep -v "^$T/" \
	>"$T/headers" || tt_fail "cc -M on the sources' includes: $(head -3 "$T/cc.err")"
grep -oE '(^| )-l[a-z0-9_]+' "$T/make-n" | sed 's/^ //; s/^-l//' | sort -u |
	while read -r l; do
		# (glibc 2.34+ keeps libdl and libpthread only as empty .a)
		f=$(cc -print-file-name="lib$l.so")
		case $f in /*) ;; *) f=$(cc -print-file-name="lib$l.a") ;; esac
		case $f in /*) echo "$f" ;; *) echo "/missing/lib$l.so" ;; esac
	done >"$T/libs"
tt_check "the build links libssh2, libcrypto and libexpat" \
	[ "$(grep -c -E '/lib(ssh2|crypto|expat)\.so$' "$T/libs")" = 3 ]
need_base "system headers the sources include" "$T/headers"
need_base "libraries the programs link" "$T/libs"

# 3. What the demo executes. Its own programs (the build, its scripts,
# its temp dir) are not packages, nor what root's own ~/.bashrc runs
# (bash sources it for the command of the demo's ssh login).
home=$(getent passwd root | cut -d: -f6)
if command -v strace >/dev/null; then
	# LeakSanitizer cannot run under ptrace (check-asan's build): t_demo
	# runs the demo with it.
	mkdir -p "$T/rundir"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" TT_RUN_DIR=$T/rundir \
		strace -f -z -qq --seccomp-bpf -e trace=execve -o "$T/exec.log" \
		timeout -k 10 120 bash "$TT_TOP/scripts/demo.sh" >"$T/demo.out" 2>&1 </dev/null
	rc=$?
	tt_log_add demo.out "$T/demo.out"
	tt_check "the demo under strace succeeds (exit $rc)" [ "$rc" = 0 ]
	# A failed demo keeps its temp dir: its logs are shown, then it goes.
	dtdir=$(cat "$T/rundir/demo.tdir" 2>/dev/null)
	case $dtdir in /tmp/ftt-demo.*)
		if [ -d "$dtdir" ] && [ "${TT_KEEP:-0}" != 1 ]; then
			tail -n 30 "$dtdir"/logs/* "$dtdir"/*.log 2>/dev/null >&2
			rm -rf "$dtdir"
		fi
		;;
	esac
	sed -n 's/^[0-9]* *execve("\([^"]*\)".*/\1/p' "$T/exec.log" | sort -u |
		grep -v -e "^$TT_TOP/" -e "^$TT_BUILD/" -e '^/tmp/ftt-' -e "^$home/" >"$T/demo.progs"
	tt_check "the demo ran sshd, vsftpd, curl, inetutils-ftp, ip and nft" \
		[ "$(sed 's|.*/||' "$T/demo.progs" | sort -u |
			grep -c -x -E 'sshd|vsftpd|curl|inetutils-ftp|ip|nft')" = 6 ]
	need_base "programs the demo executes" "$T/demo.progs"
else
	tt_skip "no strace: what the demo executes is not checked"
fi

# 4. The tools only the tests use: the test set brings them, base not.
while read -r prog; do
	command -v "$prog" || echo "/missing/$prog"
done >"$T/testonly" <<'EOF'
tshark
dumpcap
proxychains4
ncftp
valgrind
lintian
dh
hyperfine
lftp
wget
socat
python3
clang
clang-format
fakeroot
killall
strace
EOF
bad="" bad2=""
while read -r p pk; do
	in_set "$T/test.closure" "$pk" || bad="$bad $p ($pk)"
	in_set "$T/base.closure" "$pk" && bad2="$bad2 $p ($pk)"
done < <(owners "$T/testonly")
tt_check "test-only tools come with the test set${bad:+; not:$bad}" [ -z "$bad" ]
tt_check "test-only tools are not in the base set${bad2:+; but:$bad2}" [ -z "$bad2" ]
tt_done
