#!/bin/sh
# run.sh — runs every test of ftp-tunnel: the unit test binaries
# build/tests/test_* (if built) and the integration scripts
# tests/integration/t_*.sh, each under a timeout; one line per test
# (PASS / FAIL / SKIP and seconds), the output of each failed test, and a
# last line "N passed, N failed[, N skipped]". Exits 1 if any failed.
#
#   TESTS=regex          run only the tests whose name matches (grep -E),
#                        e.g. TESTS=fixtures or TESTS='test_ftp|t_shim'
#   TESTS_EXCLUDE=regex  and skip those whose name matches this
#   TESTS_WITHIN=regex   and only among those whose name matches this
#                        (make check's plain pass: its own set, which
#                        TESTS may narrow)
#   TT_BUILD=dir         the build the tests use (default build; its
#                        tests/test_* are the unit tests run)
#   TT_TEST_TIMEOUT=s    per integration test (default 600)
#   TT_UNIT_TIMEOUT=s    per unit test binary (default 120)
#   TT_LOGDIR=dir        where each test's output is kept (default
#                        build/test-logs)
#   TT_KEEP=1            passed on: tests keep their temp dirs
#
# A test that leaves a process running from its temp dir, the temp dir, or
# a network namespace named with this run's TT_NETNS_PREFIX (exported)
# behind FAILS with a LEAK line.
#
# A test exiting 77 is SKIPPED (automake's convention; lib.sh's
# tt_skip_all). Integration tests run as root (they start sshd, FTP
# servers, network namespaces); without root they skip.

[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
logdir=${TT_LOGDIR:-$top/build/test-logs}
mkdir -p "$logdir"
pattern=${TESTS:-}
exclude=${TESTS_EXCLUDE:-}
within=${TESTS_WITHIN:-}
build=${TT_BUILD:-$top/build}
itimeout=${TT_TEST_TIMEOUT:-600}
utimeout=${TT_UNIT_TIMEOUT:-120}
export TT_RUN_DIR="$logdir"

tests=()
for t in "$build"/tests/test_*; do
	[ -f "$t" ] && [ -x "$t" ] && tests+=("$t")
done
for t in tests/integration/t_*.sh; do
	[ -f "$t" ] && tests+=("$t")
done

npass=0 nfail=0 nskip=0
failed=()
# The tests name their namespaces with this run's prefix (lib.sh's
# tt_netns_topology): note the ones that exist before each test, to report
# any it leaves behind. Other runs on the same machine (other worktrees)
# make and delete namespaces of their own meanwhile, with other prefixes:
# counting those too failed a test for namespaces it never made.
export TT_NETNS_PREFIX="ftt-$$r$RANDOM-"
netns_snapshot() {
	ip netns list 2>/dev/null | awk -v p="$TT_NETNS_PREFIX" 'index($1, p) == 1 { print $1 }' | sort
}

for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	if [ -n "$pattern" ] && ! printf '%s\n' "$name" | grep -q -E -- "$pattern"; then
		continue
	fi
	if [ -n "$exclude" ] && printf '%s\n' "$name" | grep -q -E -- "$exclude"; then
		continue
	fi
	if [ -n "$within" ] && ! printf '%s\n' "$name" | grep -q -E -- "$within"; then
		continue
	fi
	log="$logdir/$name.log"
	before=$(netns_snapshot)
	rm -f "$logdir"/*.tdir
	start=$(date +%s.%N)
	case $t in
	*.sh)
		timeout -k 30 "$itimeout" bash "$t" >"$log" 2>&1 </dev/null
		rc=$?
		lim=$itimeout
		;;
	*)
		timeout -k 10 "$utimeout" "$t" >"$log" 2>&1 </dev/null
		rc=$?
		lim=$utimeout
		;;
	esac
	secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	leak=$(comm -13 <(printf '%s\n' "$before") <(netns_snapshot) | tr '\n' ' ')
	if [ -n "${leak// /}" ]; then
		echo "LEAK: $name left network namespaces behind: $leak" >>"$log"
		[ "$rc" -eq 0 ] && rc=1
	fi
	# lib.sh's tt_init records each test's temp dir: nothing may still run
	# from it, and it must be gone unless TT_KEEP=1.
	for f in "$logdir"/*.tdir; do
		[ -f "$f" ] || continue
		d=$(cat "$f")
		rm -f "$f"
		case $d in /tmp/ftt-*) ;; *) continue ;; esac
		# (The pattern comes from a file, so grep does not find itself.)
		printf '%s/\n' "$d" >"$logdir/.pattern"
		procs=$(grep -l -a -F -f "$logdir/.pattern" /proc/[0-9]*/cmdline 2>/dev/null |
			awk -F/ '{ printf "%s ", $3 }')
		if [ -n "$procs" ]; then
			echo "LEAK: processes still running from $d: $procs" >>"$log"
			for p in $procs; do
				printf '  %s (parent %s): %s\n' "$p" \
					"$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null)" \
					"$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-200)" >>"$log"
			done
			[ "$rc" -eq 0 ] && rc=1
		fi
		if [ -e "$d" ] && [ "${TT_KEEP:-0}" != 1 ]; then
			echo "LEAK: temp dir left behind: $d" >>"$log"
			[ "$rc" -eq 0 ] && rc=1
		fi
	done
	case $rc in
	0)
		status=PASS
		npass=$((npass + 1))
		;;
	77)
		status=SKIP
		nskip=$((nskip + 1))
		;;
	*)
		status=FAIL
		nfail=$((nfail + 1))
		failed+=("$name")
		[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && echo "TIMEOUT after ${lim}s (exit $rc)" >>"$log"
		;;
	esac
	printf '%-4s %-32s %7ss\n' "$status" "$name" "$secs"
	if [ "$status" = FAIL ]; then
		echo "----- output of $name (exit $rc; full log: $log)"
		if [ "$(wc -l <"$log")" -gt 400 ]; then
			# Failures and the fixtures' logs come last; keep the head too.
			head -n 40 "$log"
			echo "[... $(($(wc -l <"$log") - 340)) lines ...]"
			grep -E '^(FAIL|FATAL|LEAK|not ok)' "$log" | head -n 60
			tail -n 300 "$log"
		else
			cat "$log"
		fi
		# The failed checks once more, last: a reader shown only the head
		# and the tail of this output still sees which check failed.
		echo "----- failed checks of $name:"
		grep -E '^(FAIL|FATAL|LEAK|not ok|TIMEOUT)' "$log" | head -n 20
		echo "----- end of $name"
	elif [ "$status" = SKIP ]; then
		grep -m1 -E '^SKIP' "$log" | sed 's/^/     /'
	fi
done

[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
if [ "$nskip" -gt 0 ]; then
	echo "$npass passed, $nfail failed, $nskip skipped"
else
	echo "$npass passed, $nfail failed"
fi
[ "$nfail" -eq 0 ]
