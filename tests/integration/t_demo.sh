#!/bin/bash
# t_demo.sh — `make demo` tells the truth and leaves nothing behind: the
# demo's script (scripts/demo.sh, run with this test run's build) exits
# 0, says "identical" for each of its six transfers (four through
# `ftp-tunnel -L ftp/...`, two through ftp-tunnel-wrap), counts 0 packets
# dropped by the client host's firewall in both parts, shows `ftp-tunnel
# status` with a data connection, and ends with its success line. After
# it: none of its namespaces, processes, /etc/netns entry or temp dir is
# left. The make target itself is checked to run that script.
. "$(dirname "$0")/lib.sh"
tt_init demo_run
[ -x "$TT_BUILD/ftp-tunnel" ] && [ -x "$TT_BUILD/ftp-tunnel-wrap" ] ||
	tt_die "build first (make)"

# `make demo` is deps.sh (base set), the build, then this script.
tt_check "make demo runs scripts/demo.sh" \
	grep -q 'scripts/demo.sh' <(make -n -s -C "$TT_TOP" demo 2>/dev/null)

# The demo's lib.sh records its temp dir here (as run.sh's do), so that
# this test can check it is gone.
mkdir -p "$T/rundir"
start=$(date +%s)
TT_RUN_DIR=$T/rundir TT_KEEP=0 timeout -k 10 120 bash "$TT_TOP/scripts/demo.sh" \
	>"$T/demo.out" 2>&1 </dev/null
rc=$?
secs=$(($(date +%s) - start))
tt_log_add demo.out "$T/demo.out"
dtdir=$(cat "$T/rundir/demo.tdir" 2>/dev/null)

tt_check "the demo exits 0 (exit $rc, ${secs}s)" [ "$rc" = 0 ]
tt_check "six transfers reported identical ($(grep -c ': identical (' "$T/demo.out"))" \
	[ "$(grep -c ': identical (' "$T/demo.out")" = 6 ]
tt_check "no transfer FAILED or DIFFERENT" \
	tt_quiet eval "! grep -q -e ': FAILED' -e ': DIFFERENT' '$T/demo.out'"
tt_check "the direct FTP connection was refused by the firewall" \
	grep -q -- '-> fails (port closed, firewall)' "$T/demo.out"
# Step 7 prints its count on the line after the one that names it.
drops7=$(grep -A1 'dropped since step 3' "$T/demo.out" | sed -n 's/.*other than SSH): //p')
drops9=$(sed -n 's/.*dropped during step 8: //p' "$T/demo.out")
tt_check "0 packets dropped in the -L part (got '$drops7')" [ "$drops7" = 0 ]
tt_check "0 packets dropped in the transparent part (got '$drops9')" [ "$drops9" = 0 ]
tt_check "the tunnel opened 4 SSH channels for data" \
	grep -q 'SSH channels the tunnel opened for data: 4$' "$T/demo.out"
tt_check "ftp-tunnel status listed the data connection during the download" \
	grep -q '^ *data [0-9]*: active' "$T/demo.out"
tt_check "the transparent mode fetched the data in passive mode" \
	grep -q 'asked for data with: PASV PASV$' "$T/demo.out"
tt_check "the demo's last line says all went through SSH" \
	[ "$(tail -n 1 "$T/demo.out")" = "demo: all transfers went through SSH and arrived intact." ]

# What the demo made, and must have removed.
x=$(sed -n 's/.*client host 10\.200\.\([0-9]*\)\.2;.*/\1/p' "$T/demo.out")
if [ -n "$x" ]; then
	tt_check "its namespaces ftt-$x-cli and ftt-$x-srv are gone" \
		tt_quiet eval "! ip netns list | grep -q -E '^ftt-$x-(cli|srv)( |\$)'"
	tt_check "its /etc/netns/ftt-$x-cli is gone" [ ! -e "/etc/netns/ftt-$x-cli" ]
else
	tt_fail "the demo did not name its client host"
fi
if [ -n "$dtdir" ]; then
	printf '%s/\n' "$dtdir" >"$T/pattern"
	left=$(grep -l -a -F -f "$T/pattern" /proc/[0-9]*/cmdline 2>/dev/null | awk -F/ '{ printf "%s ", $3 }')
	tt_check "no process runs from its temp dir $dtdir${left:+ (left: $left)}" [ -z "$left" ]
	tt_check "its temp dir is removed" [ ! -e "$dtdir" ]
	# A failed demo keeps its dir for the logs: show them, then remove it.
	if [ -d "$dtdir" ] && [ "${TT_KEEP:-0}" != 1 ]; then
		tail -n 30 "$dtdir"/logs/* "$dtdir"/*.log 2>/dev/null >&2
		rm -rf "$dtdir"
	fi
else
	tt_fail "the demo recorded no temp dir"
fi
tt_done
