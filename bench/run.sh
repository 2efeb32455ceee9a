#!/bin/bash
# bench/run.sh — `make bench`: ftp-tunnel side by side with what a user
# would pick instead (OpenSSH ssh -L, proxychains4 over ssh -D, a direct
# connection) and with the library's own ceiling (bench/raw_libssh2.c), on
# loopback, with a private sshd and vsftpd; prints one markdown table of
# medians, ratios and the targets of issue 7. See bench/README.md.
#
# Environment: BENCH_SIZE (bulk file, default 1G; K/M/G suffixes),
# BENCH_RUNS (repetitions, interleaved, default 3), BENCH_ONLY (comma list
# of sections: bulk,parallel,small,latency,wan,shim,memory,scale,jump,sftp,
# sftpwan; cpu comes with bulk), BENCH_CHANNELS (tiny RETRs for latency, 200),
# BENCH_PAR_SIZE (each parallel download, default BENCH_SIZE),
# BENCH_MEM_SIZE / BENCH_SCALE_SIZE (per transfer in memory / scale, 32M /
# 16M), BENCH_CONNECTS (100000), BENCH_SPAWNS (1000), BENCH_KEEP=1 keeps
# the temp dir, BENCH_WRAP_ARGS more arguments for the shim path's
# ftp-tunnel-wrap (e.g. "-o Connections=1"); for the wan section
# BENCH_WAN_DELAY (ms each way, 20), BENCH_WAN_SIZE (128M), BENCH_WAN_FILES
# (50). Needs root (sshd, vsftpd), as the integration tests do.

TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tests/integration/lib.sh
. "$TOP/tests/integration/lib.sh"
# shellcheck source=../tests/integration/tunnel.sh
. "$TOP/tests/integration/tunnel.sh"

B=$TT_BUILD
RAW=$B/bench/raw_libssh2
CONNECT_LOOP=$B/bench/connect_loop
SPAWN_LOOP=$B/bench/spawn_loop
RELAY=$B/bench/delay_relay
SHIM=$B/libftptunnel.so

bytes() { # 1G / 64M / 4K / 123 -> bytes
	case $1 in
	*G) echo $((${1%G} * 1073741824)) ;;
	*M) echo $((${1%M} * 1048576)) ;;
	*K) echo $((${1%K} * 1024)) ;;
	*) echo "$1" ;;
	esac
}
RUNS=${BENCH_RUNS:-3}
SIZE_H=${BENCH_SIZE:-1G}
SIZE=$(bytes "$SIZE_H")
PAR_SIZE_H=${BENCH_PAR_SIZE:-$SIZE_H}
PAR_SIZE=$(bytes "$PAR_SIZE_H")
ONLY=${BENCH_ONLY:-bulk,parallel,small,latency,wan,shim,memory,scale,jump,sftp,sftpwan}
WAN_DELAY=${BENCH_WAN_DELAY:-20}
WAN_SIZE_H=${BENCH_WAN_SIZE:-128M}
WAN_SIZE=$(bytes "$WAN_SIZE_H")
WAN_FILES=${BENCH_WAN_FILES:-50}
NCHAN=${BENCH_CHANNELS:-200}
MEM_SIZE=$(bytes "${BENCH_MEM_SIZE:-32M}")
SCALE_SIZE=$(bytes "${BENCH_SCALE_SIZE:-16M}")
NCONNECT=${BENCH_CONNECTS:-100000}
NSPAWN=${BENCH_SPAWNS:-1000}
NSMALL=200
CIPHER=aes128-ctr
MAC=hmac-sha2-256
TT_KEEP=${BENCH_KEEP:-0}

want() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
say() { printf '# %s\n' "$*" >&2; }

for f in "$B/ftp-tunnel" "$B/ftp-tunneld" "$B/ftp-tunnel-wrap" "$SHIM" "$RAW" \
	"$CONNECT_LOOP" "$SPAWN_LOOP" "$RELAY"; do
	[ -x "$f" ] || { echo "bench: $f missing: run make bench" >&2; exit 1; }
done
for c in curl socat proxychains4 sshd ssh vsftpd; do
	command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] ||
		{ echo "bench: $c missing: run make deps-test" >&2; exit 1; }
done

# ---------------------------------------------------------------- numbers

# median: the median of the numbers on stdin (one a line; "" if none).
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit
		if (NR % 2) printf "%.6g\n", v[(NR + 1) / 2]
		else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# calc EXPR: awk arithmetic, "" when an operand is empty.
calc() { awk "BEGIN { printf \"%.6g\n\", $1 }" 2>/dev/null; }
# rec KEY VALUE: one sample of figure KEY; med KEY: their median.
rec() { echo "$2" >>"$T/samples/$1"; }
med() { [ -s "$T/samples/$1" ] && median <"$T/samples/$1"; }
# cpu_ticks PID: utime + stime of PID in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
HZ=$(getconf CLK_TCK)

# ---------------------------------------------------------------- the table

ROWS=()
# row FIGURE VALUE PEER PEER_VALUE RATIO TARGET MET
row() { ROWS+=("$1|$2|$3|$4|$5|$6|$7"); }
fmt() { [ -n "$1" ] && printf "%.${2:-1}f" "$1" || printf 'n/a'; }
# verdict RATIO OP LIMIT: "met" / "**not met**" / "n/a"
verdict() {
	[ -n "$1" ] || { echo "n/a"; return; }
	if awk "BEGIN { exit !($1 $2 $3) }"; then echo "met"; else echo "**not met**"; fi
}

print_table() {
	local r
	echo
	echo "| figure | ftp-tunnel | compared with | its figure | ratio | target | |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	for r in "${ROWS[@]}"; do
		echo "| ${r//|/ | } |"
	done
}

# ---------------------------------------------------------------- fixtures

tt_init bench
mkdir -p "$T/samples" "$T/sink"
T_START=$(date +%s)

# One sshd offering only aes128-ctr + hmac-sha2-256: whatever a client
# prefers, every SSH path negotiates the same algorithms.
TT_SSHD_EXTRA="Ciphers $CIPHER
MACs $MAC
MaxSessions 1000
Subsystem sftp internal-sftp" tt_sshd || tt_die "sshd"
SSHOPTS=(-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes
	-o UserKnownHostsFile="$SSH_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null
	-o IdentitiesOnly=yes -i "$SSH_KEY" -p "$SSHD_PORT" -c "$CIPHER" -m "$MAC"
	-o Compression=no -o ExitOnForwardFailure=yes)

# The FTP servers all listen on 127.0.0.2, so that a forward on 127.0.0.1
# may use the same port number as a passive port of the server: curl
# (EPSV) connects to the control connection's host at the port the server
# names. Three vsftpd, one source: the files are hard links.
#  main: direct, ftp-tunnel -L, the shim (300 passive ports);
#  fwd:  OpenSSH ssh -L with the control port and all 8 passive ports
#        forwarded, 127.0.0.1:P -> 127.0.0.2:P (its 227 names 127.0.0.1,
#        for clients that use the 227's address);
#  raw:  one passive port, which raw_libssh2 forwards; its control
#        connection is relayed in clear by socat (a few hundred bytes).
FTP_ADDR=127.0.0.2
read -r lo hi < <(tt_free_range 300) || tt_die "ports"
TT_VSFTPD_EXTRA="pasv_min_port=$lo
pasv_max_port=$hi" tt_vsftpd "" "$FTP_ADDR" MAIN || tt_die "vsftpd main"
read -r FWD_LO FWD_HI < <(tt_free_range 8) || tt_die "ports"
TT_VSFTPD_EXTRA="pasv_min_port=$FWD_LO
pasv_max_port=$FWD_HI
pasv_address=127.0.0.1" tt_vsftpd "" "$FTP_ADDR" FWD || tt_die "vsftpd fwd"
RAW_PASV=$(tt_free_port) || tt_die "ports"
TT_VSFTPD_EXTRA="pasv_min_port=$RAW_PASV
pasv_max_port=$RAW_PASV" tt_vsftpd "" "$FTP_ADDR" RAW || tt_die "vsftpd raw"

# wan: two more servers whose passive ports are reached on 127.0.0.1 (as
# fwd's): wfwd behind an ssh -L through the delay relay, wdir behind the
# relay itself (plain FTP over the same delay, data connections too).
WFWD_LO="" WFWD_HI="" WDIR_LO="" WDIR_HI=""
if want wan || want sftpwan || want hold; then
	for n in WFWD WDIR; do
		read -r lo hi < <(tt_free_range 8) || tt_die "ports"
		TT_VSFTPD_EXTRA="pasv_min_port=$lo
pasv_max_port=$hi
pasv_address=127.0.0.1" tt_vsftpd "" "$FTP_ADDR" "$n" || tt_die "vsftpd $n"
		printf -v "${n}_LO" %s "$lo"
		printf -v "${n}_HI" %s "$hi"
	done
fi

say "files: bulk $SIZE B (sparse), $NSMALL x 4 KiB, $NCHAN x 1 B"
truncate -s "$SIZE" "$MAIN_PUB/bulk"
truncate -s "$WAN_SIZE" "$MAIN_PUB/wbulk"
truncate -s "$WAN_SIZE" "$T/wup.bin"
truncate -s "$PAR_SIZE" "$MAIN_PUB/par"
truncate -s "$SIZE" "$T/up.bin"
truncate -s "$MEM_SIZE" "$MAIN_PUB/mem"
truncate -s "$SCALE_SIZE" "$MAIN_PUB/scale"
mkdir -p "$MAIN_PUB/small" "$MAIN_PUB/tiny"
for i in $(seq -w 1 "$NSMALL"); do head -c 4096 /dev/urandom >"$MAIN_PUB/small/f$i"; done
for i in $(seq -w 1 "$NCHAN"); do printf x >"$MAIN_PUB/tiny/t$i"; done
for d in "$FWD_PUB" "$RAW_PUB" ${WFWD_PUB:+"$WFWD_PUB"} ${WDIR_PUB:+"$WDIR_PUB"}; do
	rm -f "$d/README"
	cp -al "$MAIN_PUB/." "$d/" 2>/dev/null || cp -a "$MAIN_PUB/." "$d/"
done
chmod -R a+rX "$MAIN_PUB" "$FWD_PUB" "$RAW_PUB" ${WFWD_PUB:+"$WFWD_PUB"} ${WDIR_PUB:+"$WDIR_PUB"}

# Every process that carries the bytes (ssh -L, ftp-tunnel -L, ftp-tunneld,
# raw_libssh2, ssh -D) runs in a session of its own, as ft_tunnel starts
# ftp-tunnel: with autogroup scheduling (kernel.sched_autogroup_enabled)
# the kernel shares the CPU between sessions first, and a carrier left in
# this script's session shares one slice with curl. On a loaded machine
# that cost raw_libssh2 a fifth of its upload rate against an ftp-tunnel
# -L in its own session.

# OpenSSH ssh -L: control and every passive port of the fwd server.
FWD_CTL=$FWD_PORT
fwd_args=(-L "127.0.0.1:$FWD_CTL:$FTP_ADDR:$FWD_PORT")
for ((p = FWD_LO; p <= FWD_HI; p++)); do fwd_args+=(-L "127.0.0.1:$p:$FTP_ADDR:$p"); done
tt_spawn -g -o "$T/logs/ssh-L.log" ssh -N -v "${SSHOPTS[@]}" "${fwd_args[@]}" "$SSH_USER@127.0.0.1"
SSHL_PID=$TT_PID
tt_wait_port "$FWD_HI" || tt_die "ssh -L"
kexline=$(grep -m1 'kex: server->client cipher' "$T/logs/ssh-L.log" | sed 's/^debug1: //')

# socat relays the raw server's control connection (127.0.0.1 -> .2).
RAW_CTL=$RAW_PORT
tt_spawn socat "TCP-LISTEN:$RAW_CTL,bind=127.0.0.1,reuseaddr,fork" "TCP:$FTP_ADDR:$RAW_PORT"
tt_wait_port "$RAW_CTL" || tt_die "socat"

# ftp-tunnel -L ftp/ to the main server.
FT_LPORT=$(tt_free_port) || tt_die "ports"
ft_tunnel -o Port="$SSHD_PORT" -L "ftp/127.0.0.1:$FT_LPORT:$FTP_ADDR:$MAIN_PORT" \
	"$SSH_USER@127.0.0.1" || tt_die "ftp-tunnel"

# ftp-tunneld, started by us (so we know its PID) on a private socket; the
# shim finds it through FTP_TUNNEL_SOCKET, the wrapper adds the rest.
mkdir -p "$T/run" && chmod 700 "$T/run"
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock"
export FTP_TUNNELD="$B/ftp-tunneld" FTP_TUNNEL_SHIM="$SHIM" FTP_TUNNEL_CLI="$B/ftp-tunnel"
exec 8>"$T/run/ready"
tt_spawn -g -o "$T/logs/ftp-tunneld.log" "$B/ftp-tunneld" --ready-fd 8 --idle-exit 0
exec 8>&-
DPID=$TT_PID
tt_wait_until "$TT_READY_TENTHS" grep -q READY "$T/run/ready" || tt_die "ftp-tunneld not ready"
DAEMON_RSS_FRESH=$(ft_rss_kb "$DPID")
WRAP=("$B/ftp-tunnel-wrap" --via "$SSH_USER@127.0.0.1:$SSHD_PORT" --ports "$MAIN_PORT"
	-i "$SSH_KEY" -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" -o StrictHostKeyChecking=yes)
# BENCH_WRAP_ARGS: more wrapper arguments, e.g. "-o Connections=1".
read -r -a more <<<"${BENCH_WRAP_ARGS:-}"
WRAP+=("${more[@]}")

# proxychains4 over ssh -N -D.
SOCKS_PORT=$(tt_free_port) || tt_die "ports"
tt_spawn -g -o "$T/logs/ssh-D.log" ssh -N "${SSHOPTS[@]}" -D "127.0.0.1:$SOCKS_PORT" "$SSH_USER@127.0.0.1"
tt_wait_port "$SOCKS_PORT" || tt_die "ssh -D"
cat >"$T/proxychains.conf" <<EOF
strict_chain
tcp_read_time_out 15000
tcp_connect_time_out 8000
[ProxyList]
socks5 127.0.0.1 $SOCKS_PORT
EOF

# wan: one delay_relay (WAN_DELAY ms each way) between the client side and
# sshd, and between the client and wdir (control and passive ports); every
# SSH path of the section logs in through it: ftp-tunnel -L, the shim's
# daemon (a --via of the relay's port, so a connection of its own) and
# ssh -L to wfwd.
if want wan || want sftpwan || want hold; then
	WAN_SSH=$(tt_free_port) || tt_die "ports"
	relay_args=("127.0.0.1:$WAN_SSH:127.0.0.1:$SSHD_PORT" "127.0.0.1:$WDIR_PORT:$FTP_ADDR:$WDIR_PORT")
	for ((p = WDIR_LO; p <= WDIR_HI; p++)); do relay_args+=("127.0.0.1:$p:$FTP_ADDR:$p"); done
	# The wrapper logs how the relay ended, should it end before the bench.
	tt_spawn -g -o "$T/logs/relay.log" bash -c '"$@"; echo "delay_relay ended: status $?"' relay \
		"$RELAY" -d "$WAN_DELAY" "${relay_args[@]}"
	tt_wait_until 100 grep -q READY "$T/logs/relay.log" || tt_die "delay_relay: $(cat "$T/logs/relay.log")"
	# The relay's port is another name for the same host key.
	awk -v p="$SSHD_PORT" -v w="$WAN_SSH" '$1 == "[127.0.0.1]:" p { $1 = "[127.0.0.1]:" w; print }' \
		"$SSH_KNOWN_HOSTS" >"$T/known_wan" && cat "$T/known_wan" >>"$SSH_KNOWN_HOSTS"
	wfwd_args=(-L "127.0.0.1:$WFWD_PORT:$FTP_ADDR:$WFWD_PORT")
	for ((p = WFWD_LO; p <= WFWD_HI; p++)); do wfwd_args+=(-L "127.0.0.1:$p:$FTP_ADDR:$p"); done
	# ssh takes the first -p: the relay's port replaces sshd's.
	SSHOPTS_WAN=()
	for o in "${SSHOPTS[@]}"; do
		[ "$o" = "$SSHD_PORT" ] && o=$WAN_SSH
		SSHOPTS_WAN+=("$o")
	done
	tt_spawn -g -o "$T/logs/ssh-L-wan.log" ssh -N "${SSHOPTS_WAN[@]}" "${wfwd_args[@]}" "$SSH_USER@127.0.0.1"
	tt_wait_port "$WFWD_HI" || tt_die "ssh -L over the relay"
	FT_PID_LAN=$FT_PID
	FTW_LPORT=$(tt_free_port) || tt_die "ports"
	ft_tunnel -o Port="$WAN_SSH" -L "ftp/127.0.0.1:$FTW_LPORT:$FTP_ADDR:$MAIN_PORT" \
		"$SSH_USER@127.0.0.1" || tt_die "ftp-tunnel over the relay"
	FTW_PID=$FT_PID FT_PID=$FT_PID_LAN
	WRAP_WAN=("${WRAP[@]}" --via "$SSH_USER@127.0.0.1:$WAN_SSH")
fi

# ---------------------------------------------------------------- one transfer

# url PATH: the base URL (control host and port) of each path.
url() {
	case $1 in
	direct | shim | wshim) echo "ftp://$FTP_ADDR:$MAIN_PORT" ;;
	tunnel) echo "ftp://127.0.0.1:$FT_LPORT" ;;
	tunnelJ) echo "ftp://127.0.0.1:$FTJ_LPORT" ;;
	wtunnel) echo "ftp://127.0.0.1:$FTW_LPORT" ;;
	wsshL) echo "ftp://127.0.0.1:$WFWD_PORT" ;;
	wdirect) echo "ftp://127.0.0.1:$WDIR_PORT" ;;
	sshL) echo "ftp://127.0.0.1:$FWD_CTL" ;;
	sshJ) echo "ftp://127.0.0.3:$FWD_CTL" ;;
	raw) echo "ftp://127.0.0.1:$RAW_CTL" ;;
	proxy) echo "ftp://$FTP_ADDR:$MAIN_PORT" ;;
	esac
}
# updir PATH: the server directory an upload of PATH lands in.
updir() {
	case $1 in
	sshL) echo "$FWD_UPLOAD_DIR" ;;
	raw) echo "$RAW_UPLOAD_DIR" ;;
	wsshL) echo "$WFWD_UPLOAD_DIR" ;;
	wdirect) echo "$WDIR_UPLOAD_DIR" ;;
	*) echo "$MAIN_UPLOAD_DIR" ;;
	esac
}
# via PATH CMD ARGS...: run the FTP client CMD by way of PATH (the wrapper
# for the shim, proxychains4 for proxy), stdin from /dev/null so the
# wrapper never asks.
via() {
	local p=$1
	shift
	case $p in
	shim) "${WRAP[@]}" "$@" </dev/null ;;
	wshim) "${WRAP_WAN[@]}" "$@" </dev/null ;;
	proxy) proxychains4 -f "$T/proxychains.conf" "$@" </dev/null ;;
	*) "$@" </dev/null ;;
	esac
}
# cpu_pid PATH: the process whose CPU time a transfer of PATH costs.
cpu_pid() {
	case $1 in
	tunnel) echo "$FT_PID" ;;
	tunnelJ) echo "$FTJ_PID" ;;
	shim) echo "$DPID" ;;
	sshL) echo "$SSHL_PID" ;;
	esac
}

# xfer PATH down|up: one bulk transfer of SIZE bytes; records MB/s in
# samples/bulk-PATH-DIR and CPU seconds per GiB in samples/cpu-PATH.
# XSIZE, XFILE (under pub/) and XUP (the upload's source) override the
# size and files (the wan section's smaller ones).
xfer() {
	local p=$1 dir=$2 u out rc got secs pid t0 t1 cpu="" rawout
	local SIZE=${XSIZE:-$SIZE} file=${XFILE:-bulk} upsrc=${XUP:-$T/up.bin}
	u=$(url "$p")
	if [ "$p" = raw ]; then
		rawout="$T/logs/raw.out"
		# setsid execs in place (not a group leader): $! is raw_libssh2.
		setsid "$RAW" "-${dir:0:1}" -i "$SSH_KEY" -l "$RAW_PASV" 127.0.0.1 "$SSHD_PORT" \
			"$SSH_USER" "$FTP_ADDR" "$RAW_PASV" >"$rawout" 2>"$T/logs/raw.err" &
		local rpid=$!
		tt_wait_until 100 grep -q READY "$rawout" ||
			{ say "raw_libssh2 did not start: $(cat "$T/logs/raw.err")"; kill "$rpid"; wait "$rpid"; return 1; }
	fi
	pid=$(cpu_pid "$p")
	[ -n "$pid" ] && t0=$(cpu_ticks "$pid")
	if [ "$dir" = down ]; then
		out=$(via "$p" curl -sS --max-time 900 -o /dev/null -w '%{size_download} %{time_total}' "$u/pub/$file" 2>"$T/logs/curl.err")
	else
		out=$(via "$p" curl -sS --max-time 900 -T "$upsrc" -w '%{size_upload} %{time_total}' "$u/upload/b-$p" 2>"$T/logs/curl.err")
	fi
	rc=$?
	[ -n "$pid" ] && t1=$(cpu_ticks "$pid")
	if [ "$p" = raw ]; then
		# curl failed before its data connection: raw_libssh2 still waits.
		[ "$rc" != 0 ] && kill "$rpid" 2>/dev/null
		wait "$rpid"
		cpu=$(awk '/^bytes/ { print $4 }' "$rawout")
		RAW_METHODS=$(awk '/^READY/ { print $2 " + " $3 }' "$rawout")
	elif [ -n "$pid" ]; then
		cpu=$(calc "($t1 - $t0) / $HZ")
	fi
	read -r got secs <<<"$out"
	[ "$dir" = up ] && rm -f "$(updir "$p")/b-$p"
	if [ "$rc" != 0 ] || [ "${got:-0}" != "$SIZE" ]; then
		say "bulk $p $dir failed (curl exit $rc, $got of $SIZE bytes): $(head -c 300 "$T/logs/curl.err")"
		rec "fail-bulk-$p-$dir" 1
		return 1
	fi
	rec "bulk-$p-$dir" "$(calc "$got / $secs / 1e6")"
	[ -n "$cpu" ] && rec "cpu-$p" "$(calc "$cpu / ($got / 1073741824)")"
	return 0
}

# par PATH N: N concurrent downloads of PAR_SIZE through PATH; records the
# aggregate MB/s in samples/par-PATH-N.
par() {
	local p=$1 n=$2 u i t0 t1 ok=0 s
	u=$(url "$p")
	t0=$(date +%s.%N)
	for ((i = 0; i < n; i++)); do
		via "$p" curl -sS --max-time 900 -o /dev/null -w '%{size_download}' "$u/pub/par" \
			>"$T/par.$i" 2>"$T/par.$i.err" &
	done
	wait_jobs
	t1=$(date +%s.%N)
	for ((i = 0; i < n; i++)); do
		s=$(cat "$T/par.$i")
		[ "$s" = "$PAR_SIZE" ] && ok=$((ok + 1))
	done
	if [ "$ok" != "$n" ]; then
		say "parallel $p x$n: only $ok complete: $(cat "$T"/par.*.err | head -c 300)"
		rec "fail-par-$p-$n" 1
		return 1
	fi
	rec "par-$p-$n" "$(calc "$n * $PAR_SIZE / ($t1 - $t0) / 1e6")"
}

# wait_jobs: wait for the background clients (not the fixtures: those are
# waited for by PID at exit).
wait_jobs() {
	local j
	for j in $(jobs -p); do
		case " ${TT_KILL[*]} " in *" $j "* | *" -$j "*) continue ;; esac
		wait "$j"
	done
}

# many PATH DIR N: one lftp session fetching N files of pub/DIR by name
# (mget, one control connection, a data connection each; curl 7.88 is not
# used here: reusing its connection it sometimes stalls 1 s before a data
# connect); records the seconds in samples/many-DIR-PATH.
many() {
	local p=$1 d=$2 n=$3 host=$FTP_ADDR port=$MAIN_PORT names rc t0 t1 got total
	case $p in
	tunnel) host=127.0.0.1 port=$FT_LPORT ;;
	tunnelJ) host=127.0.0.1 port=$FTJ_LPORT ;;
	sshL) host=127.0.0.1 port=$FWD_CTL ;;
	sshJ) host=127.0.0.3 port=$FWD_CTL ;;
	sftp) host=127.0.0.1 port=$SFTP_LPORT ;;
	wtunnel) host=127.0.0.1 port=$FTW_LPORT ;;
	wdirect) host=127.0.0.1 port=$WDIR_PORT ;;
	esac
	names=$(cd "$MAIN_PUB/$d" && ls | head -n "$n" | tr '\n' ' ')
	rm -rf "$T/sink" && mkdir -p "$T/sink"
	local fwd0
	fwd0=$(grep -c 'forwarding to' "$T/logs/ssh-L.log")
	# lftp's own ftp:sync-mode (on) is kept: it waits for each reply, as
	# most clients do, which is what makes round trips count.
	t0=$(date +%s.%N)
	# For the latency figure, only PASV + RETR per file (no SIZE, MDTM).
	local lean=""
	[ "$d" = tiny ] && lean="set ftp:use-size no; set ftp:use-mdtm no;"
	# ssh -J's forwards are on 127.0.0.3: EPSV, whose port goes with the
	# control connection's host (the fwd server's 227 names 127.0.0.1).
	[ "$p" = sshJ ] && lean="$lean set ftp:prefer-epsv yes;"
	via "$p" timeout 300 lftp -c "set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 30;
		set ftp:ssl-allow no; set ftp:passive-mode on; set xfer:clobber on; $lean
		open -p $port $host; cd pub/$d; lcd $T/sink; mget $names" >"$T/logs/many.err" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	got=$(find "$T/sink" -type f | wc -l)
	total=$(du -sb --apparent-size "$T/sink" | cut -f1)
	if [ "$rc" != 0 ] || [ "$got" != "$n" ]; then
		say "$d $p failed (lftp exit $rc, $got of $n files): $(grep -v '^\[proxychains\]' "$T/logs/many.err" | head -c 300)"
		rec "fail-many-$d-$p" 1
		return 1
	fi
	[ "$p" = proxy ] && rec "proxied-$d" "$(grep -c '\.\.\.  OK' "$T/logs/many.err")"
	[ "$p" = sshL ] && rec "sshL-fwd-$d" "$(($(grep -c 'forwarding to' "$T/logs/ssh-L.log") - fwd0))"
	rec "many-$d-$p" "$(calc "$t1 - $t0")"
}

# ---------------------------------------------------------------- sections

section_bulk() {
	local r p dir
	say "bulk: $RUNS runs x {direct raw sshL tunnel shim} x {down up}, $SIZE_H each"
	for ((r = 1; r <= RUNS; r++)); do
		for dir in down up; do
			for p in direct raw sshL tunnel shim; do
				xfer "$p" "$dir"
			done
		done
	done
	local dname
	for dir in down up; do
		[ "$dir" = down ] && dname=download || dname=upload
		local raw ssh v
		raw=$(med "bulk-raw-$dir")
		ssh=$(med "bulk-sshL-$dir")
		for p in tunnel shim; do
			v=$(med "bulk-$p-$dir")
			local lab="ftp-tunnel -L"
			[ "$p" = shim ] && lab="shim + ftp-tunneld"
			local ratio
			ratio=$(calc "$v / $raw")
			row "bulk $dname, MB/s ($lab)" "$(fmt "$v")" "raw libssh2 client" "$(fmt "$raw")" \
				"$(fmt "$ratio" 2)" "≥ 0.95" "$(verdict "$ratio" '>=' 0.95)"
			ratio=$(calc "$v / $ssh")
			# No target: libssh2 (1.10 and 1.11.1 alike) needs about
			# twice OpenSSH's CPU per byte (bench/README.md).
			row "bulk $dname, MB/s ($lab)" "$(fmt "$v")" "OpenSSH ssh -L" "$(fmt "$ssh")" \
				"$(fmt "$ratio" 2)" "" ""
		done
		v=$(med "bulk-direct-$dir")
		row "bulk $dname, MB/s (direct FTP, no SSH)" "$(fmt "$v")" "raw libssh2 / ssh -L" \
			"$(fmt "$raw") / $(fmt "$ssh")" "$(fmt "$(calc "$raw / $ssh")" 2) (raw/ssh)" "" ""
	done
	# CPU per GiB, both directions pooled.
	local raw ssh
	raw=$(med cpu-raw)
	ssh=$(med cpu-sshL)
	for p in shim tunnel; do
		local v lab="ftp-tunneld"
		[ "$p" = tunnel ] && lab="ftp-tunnel -L"
		v=$(med "cpu-$p")
		row "CPU s/GiB ($lab)" "$(fmt "$v" 2)" "OpenSSH ssh client" "$(fmt "$ssh" 2)" \
			"$(fmt "$(calc "$v / $ssh")" 2)" "" ""
		row "CPU s/GiB ($lab)" "$(fmt "$v" 2)" "raw libssh2 client" "$(fmt "$raw" 2)" \
			"$(fmt "$(calc "$v / $raw")" 2)" "" ""
	done
}

section_parallel() {
	local r n p
	say "parallel: $RUNS runs x {2 4} concurrent downloads of $PAR_SIZE_H x {tunnel shim sshL}"
	for ((r = 1; r <= RUNS; r++)); do
		for n in 2 4; do
			for p in tunnel shim sshL; do
				par "$p" "$n"
			done
		done
	done
	for n in 2 4; do
		local ssh v ratio
		ssh=$(med "par-sshL-$n")
		for p in tunnel shim; do
			local lab="ftp-tunnel -L"
			[ "$p" = shim ] && lab="shim + ftp-tunneld"
			v=$(med "par-$p-$n")
			ratio=$(calc "$v / $ssh")
			row "$n parallel downloads, aggregate MB/s ($lab)" "$(fmt "$v")" "OpenSSH ssh -L" \
				"$(fmt "$ssh")" "$(fmt "$ratio" 2)" "≥ 1.0" "$(verdict "$ratio" '>=' 1.0)"
		done
	done
}

section_small() {
	local r p
	say "small files: $RUNS runs x $NSMALL x 4 KiB in one lftp session x {direct tunnel shim sshL proxy}"
	for ((r = 1; r <= RUNS; r++)); do
		for p in direct tunnel shim sshL proxy; do
			many "$p" small "$NSMALL"
		done
	done
	local d v px ratio
	d=$(med many-small-direct)
	px=$(med many-small-proxy)
	for p in tunnel shim; do
		local lab="ftp-tunnel -L"
		[ "$p" = shim ] && lab="shim + ftp-tunneld"
		v=$(med "many-small-$p")
		ratio=$(calc "$v / $d")
		row "$NSMALL files of 4 KiB, s ($lab)" "$(fmt "$v" 3)" "direct FTP" "$(fmt "$d" 3)" \
			"$(fmt "$ratio" 2)" "≤ 2" "$(verdict "$ratio" '<=' 2)"
		ratio=$(calc "$px / $v")
		row "$NSMALL files of 4 KiB, s ($lab)" "$(fmt "$v" 3)" "proxychains4 + ssh -D" "$(fmt "$px" 3)" \
			"$(fmt "$ratio" 1)× faster" "≥ 40× faster" "$(verdict "$ratio" '>=' 40)"
	done
	v=$(med many-small-sshL)
	row "$NSMALL files of 4 KiB, s (OpenSSH ssh -L, all ports)" "$(fmt "$v" 3)" "direct FTP" \
		"$(fmt "$d" 3)" "$(fmt "$(calc "$v / $d")" 2)" "" ""
	say "connections per run: proxychains4 proxied $(med proxied-small), ssh -L forwarded $(med sshL-fwd-small) (of $((NSMALL + 1)))"
}

section_latency() {
	local r p
	say "latency: $RUNS runs x $NCHAN PASV+RETRs of 1 B in one lftp session x {direct tunnel shim sshL}"
	for ((r = 1; r <= RUNS; r++)); do
		for p in direct tunnel shim sshL; do
			many "$p" tiny "$NCHAN"
		done
	done
	local ssh d v
	ssh=$(calc "$NCHAN / $(med many-tiny-sshL)")
	d=$(calc "$NCHAN / $(med many-tiny-direct)")
	for p in tunnel shim; do
		local lab="ftp-tunnel -L"
		[ "$p" = shim ] && lab="shim + ftp-tunneld"
		v=$(calc "$NCHAN / $(med "many-tiny-$p")")
		row "data channels/s, $NCHAN × PASV+RETR of 1 B ($lab)" "$(fmt "$v" 0)" "OpenSSH ssh -L / direct" \
			"$(fmt "$ssh" 0) / $(fmt "$d" 0)" "$(fmt "$(calc "$v / $ssh")" 2) / $(fmt "$(calc "$v / $d")" 2)" \
			"" ""
	done
}

section_wan() {
	local r p dir
	say "wan: $WAN_DELAY ms each way; $RUNS runs x {wdirect wsshL wtunnel wshim} x {down up} of $WAN_SIZE_H, then $WAN_FILES x 4 KiB x {wdirect wtunnel wshim}"
	for ((r = 1; r <= RUNS; r++)); do
		for dir in down up; do
			for p in wdirect wsshL wtunnel wshim; do
				XSIZE=$WAN_SIZE XFILE=wbulk XUP="$T/wup.bin" xfer "$p" "$dir"
			done
		done
		for p in wdirect wtunnel wshim; do
			many "$p" small "$WAN_FILES"
		done
	done
	local dname ssh d v lab ratio target op lim
	for dir in down up; do
		if [ "$dir" = down ]; then
			dname=download target="≥ 2.0" op='>=' lim=2.0
		else
			dname=upload target="≥ 0.9" op='>=' lim=0.9
		fi
		ssh=$(med "bulk-wsshL-$dir")
		d=$(med "bulk-wdirect-$dir")
		for p in wtunnel wshim; do
			lab="ftp-tunnel -L"
			[ "$p" = wshim ] && lab="shim + ftp-tunneld"
			v=$(med "bulk-$p-$dir")
			ratio=$(calc "$v / $ssh")
			row "WAN bulk $dname, MB/s ($lab)" "$(fmt "$v")" "OpenSSH ssh -L, same delay" "$(fmt "$ssh")" \
				"$(fmt "$ratio" 2)" "$target" "$(verdict "$ratio" "$op" "$lim")"
		done
		row "WAN bulk $dname, MB/s (plain FTP, same delay)" "$(fmt "$d")" "OpenSSH ssh -L, same delay" \
			"$(fmt "$ssh")" "$(fmt "$(calc "$d / $ssh")" 2)" "" ""
	done
	d=$(med "many-small-wdirect")
	for p in wtunnel wshim; do
		lab="ftp-tunnel -L"
		[ "$p" = wshim ] && lab="shim + ftp-tunneld"
		v=$(med "many-small-$p")
		ratio=$(calc "$v / $d")
		row "WAN $WAN_FILES files of 4 KiB, s ($lab)" "$(fmt "$v" 2)" "plain FTP, same delay" "$(fmt "$d" 2)" \
			"$(fmt "$ratio" 2)" "≤ 0.9" "$(verdict "$ratio" '<=' 0.9)"
	done
}

section_shim() {
	local r closed env_route
	closed=$(tt_free_port) || return 1
	say "shim: $RUNS runs x {$NSPAWN starts of /bin/true, $NCONNECT connect() to closed port $closed}, without and with LD_PRELOAD"
	# The routing variables the wrapper sets are present in both cases;
	# the port connected to is not routed.
	env_route=(FTP_TUNNEL_VIA="$SSH_USER@127.0.0.1:$SSHD_PORT" FTP_TUNNEL_PORTS="$MAIN_PORT")
	for ((r = 1; r <= RUNS; r++)); do
		rec spawn-off "$(env "${env_route[@]}" "$SPAWN_LOOP" "$NSPAWN" /bin/true | awk '{ print $1 }')"
		rec spawn-on "$(env "${env_route[@]}" SPAWN_PRELOAD="$SHIM" "$SPAWN_LOOP" "$NSPAWN" /bin/true | awk '{ print $1 }')"
		rec conn-off "$(env "${env_route[@]}" "$CONNECT_LOOP" "$NCONNECT" "$closed" | awk '{ print $1 }')"
		rec conn-on "$(env "${env_route[@]}" LD_PRELOAD="$SHIM" "$CONNECT_LOOP" "$NCONNECT" "$closed" | awk '{ print $1 }')"
	done
	local on off ratio
	on=$(med spawn-on) off=$(med spawn-off)
	ratio=$(calc "$on / $off")
	row "start of /bin/true, µs (with the shim)" "$(fmt "$on")" "without LD_PRELOAD" "$(fmt "$off")" \
		"$(fmt "$ratio" 3)" "≤ 1.05" "$(verdict "$ratio" '<=' 1.05)"
	on=$(med conn-on) off=$(med conn-off)
	ratio=$(calc "$on / $off")
	row "unrouted connect(), ns (with the shim)" "$(fmt "$on")" "without LD_PRELOAD" "$(fmt "$off")" \
		"$(fmt "$ratio" 3)" "≤ 1.05" "$(verdict "$ratio" '<=' 1.05)"
}

# conc N FILE SIZE TAG: N concurrent downloads of pub/FILE through the shim;
# sets CONC_OK (complete ones) and CONC_SECS (wall clock).
conc() {
	local n=$1 f=$2 sz=$3 tag=$4 i t0 t1
	rm -f "$T/$tag".*
	t0=$(date +%s.%N)
	for ((i = 0; i < n; i++)); do
		via shim curl -sS --max-time 900 -o /dev/null -w '%{size_download}' \
			"$(url shim)/pub/$f" >"$T/$tag.$i" 2>"$T/$tag.$i.err" &
	done
	[ -n "${CONC_DURING:-}" ] && $CONC_DURING
	wait_jobs
	t1=$(date +%s.%N)
	CONC_OK=0
	for ((i = 0; i < n; i++)); do
		[ "$(cat "$T/$tag.$i")" = "$sz" ] && CONC_OK=$((CONC_OK + 1))
	done
	CONC_SECS=$(calc "$t1 - $t0")
	[ "$CONC_OK" = "$n" ] || say "$tag: $CONC_OK of $n complete: $(cat "$T/$tag".*.err | sort | uniq -c | head -5)"
}

# Sampled while the 64 transfers run: the most descriptors the daemon held
# (two sockets per transfer at its peak: that all 64 really overlapped).
sample_channels() {
	local i c
	MAX_OPEN=0
	for i in $(seq 200); do
		c=$(ls "/proc/$DPID/fd" 2>/dev/null | wc -l)
		[ "$c" -gt "$MAX_OPEN" ] && MAX_OPEN=$c
		[ -z "$(jobs -pr)" ] && break
		sleep 0.05
	done
}

section_memory() {
	local idle hwm per fds0
	say "memory: daemon RSS idle, then VmHWM during 64 parallel downloads of $MEM_SIZE B through the shim"
	# Warm up: the SSH connection is up (one transfer), then idle.
	via shim curl -sS -o /dev/null "$(url shim)/pub/tiny/t$(seq -w 1 "$NCHAN" | head -1)" 2>/dev/null
	sleep 1
	idle=$(ft_rss_kb "$DPID")
	echo 5 >"/proc/$DPID/clear_refs" 2>/dev/null || say "cannot reset VmHWM"
	fds0=$(ls "/proc/$DPID/fd" | wc -l)
	CONC_DURING=sample_channels conc 64 mem "$MEM_SIZE" mem
	CONC_DURING=""
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status")
	# Each transfer holds two channels (control and data) at its peak.
	per=$(calc "($hwm - $idle) / 128")
	row "ftp-tunneld RSS idle, KiB (fresh / SSH connection up, after the sections before)" "$DAEMON_RSS_FRESH / $idle" "" "" "" \
		"≤ 8192" "$(verdict "$idle" '<=' 8192)"
	row "ftp-tunneld peak RSS, 64 transfers, KiB" "$hwm" "idle" "$idle" \
		"$(fmt "$per" 0) KiB/channel (128 channels)" "≤ 256 KiB/channel" "$(verdict "$per" '<=' 256)"
	say "memory: $CONC_OK of 64 complete in ${CONC_SECS}s; daemon fds at most $MAX_OPEN (idle $fds0)"
}

section_scale() {
	local one agg ratio
	say "scale: 100 concurrent downloads of $SCALE_SIZE B through the shim (SSH connections: Connections, default one per core, at most 4)"
	one=$(med bulk-shim-down)
	if [ -z "$one" ]; then
		xfer shim down
		one=$(med bulk-shim-down)
	fi
	local logins0 logins1
	logins0=$(grep -c 'Accepted publickey' "$SSHD_LOG")
	conc 100 scale "$SCALE_SIZE" scale
	logins1=$(grep -c 'Accepted publickey' "$SSHD_LOG")
	agg=$(calc "$CONC_OK * $SCALE_SIZE / $CONC_SECS / 1e6")
	ratio=$(calc "$agg / $one")
	row "100 sessions: complete" "$CONC_OK of 100" "" "" "" "all" \
		"$(verdict "$CONC_OK" '==' 100)"
	row "100 sessions: aggregate MB/s" "$(fmt "$agg")" "one session (shim, bulk)" "$(fmt "$one")" \
		"$(fmt "$ratio" 2)" "≥ 0.9" "$(verdict "$ratio" '>=' 0.9)"
	say "scale: new SSH logins during the 100 sessions: $((logins1 - logins0))"
}

# jump_setup: a second sshd on loopback as the bastion (its own host and
# user keys, the same algorithms), an ssh_config naming it, ftp-tunnel -J
# through it to the main sshd (FTJ_LPORT, FTJ_PID), and OpenSSH ssh -J -L
# to the fwd server with all its passive ports, on 127.0.0.3.
jump_setup() {
	local v saved=()
	for v in SSHD_PORT SSHD_PID SSHD_LOG SSHD_DIR SSHD_CONFIG SSHD_HOST \
		SSHD_NETNS SSHD_HOSTKEY_PUB SSH_KEY SSH_KEY_PUB SSH_KNOWN_HOSTS; do
		saved+=("$v=${!v}")
	done
	TT_SSHD_EXTRA="Ciphers $CIPHER
MACs $MAC
MaxSessions 1000" tt_sshd || return 1
	JB_PORT=$SSHD_PORT JB_KEY=$SSH_KEY JB_KH=$SSH_KNOWN_HOSTS
	for v in "${saved[@]}"; do export "${v?}"; done
	cat "$SSH_KNOWN_HOSTS" "$JB_KH" >"$T/jump_known_hosts"
	cat >"$T/jump_ssh_config" <<EOF
Host bench-bastion
    HostName 127.0.0.1
    Port $JB_PORT
    User $SSH_USER
    IdentityFile $JB_KEY
    IdentitiesOnly yes
    UserKnownHostsFile $T/jump_known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    Ciphers $CIPHER
    MACs $MAC
    Compression no
EOF
	FTJ_LPORT=$(tt_free_port) || return 1
	local ft_pid=$FT_PID
	export FTP_TUNNEL_SSH_CONFIG=$T/jump_ssh_config
	ft_tunnel -o Port="$SSHD_PORT" -J bench-bastion \
		-L "ftp/127.0.0.1:$FTJ_LPORT:$FTP_ADDR:$MAIN_PORT" "$SSH_USER@127.0.0.1" || return 1
	unset FTP_TUNNEL_SSH_CONFIG
	FTJ_PID=$FT_PID FT_PID=$ft_pid
	local args=(-L "127.0.0.3:$FWD_CTL:$FTP_ADDR:$FWD_PORT") p
	for ((p = FWD_LO; p <= FWD_HI; p++)); do args+=(-L "127.0.0.3:$p:$FTP_ADDR:$p"); done
	# -F: the jump ssh OpenSSH starts reads the same file.
	tt_spawn -g -o "$T/logs/ssh-J.log" ssh -N -F "$T/jump_ssh_config" -J bench-bastion \
		"${SSHOPTS[@]:2}" "${args[@]}" "$SSH_USER@127.0.0.1"
	tt_wait_until 100 bash -c "exec 3<>/dev/tcp/127.0.0.3/$FWD_HI" 2>/dev/null || return 1
}

section_jump() {
	local r p
	say "jump: a bastion sshd on loopback; $RUNS runs x bulk download of $SIZE_H x {tunnel tunnelJ sshL sshJ}, $NSMALL x 4 KiB x {tunnel tunnelJ sshL sshJ}"
	jump_setup || { say "jump: set-up failed"; rec fail-jump-setup 1; return 1; }
	for ((r = 1; r <= RUNS; r++)); do
		for p in tunnel tunnelJ sshL sshJ; do
			xfer "$p" down
		done
		for p in tunnel tunnelJ sshL sshJ; do
			many "$p" small "$NSMALL"
		done
	done
	local t j sl sj ratio
	t=$(med bulk-tunnel-down) j=$(med bulk-tunnelJ-down)
	sl=$(med bulk-sshL-down) sj=$(med bulk-sshJ-down)
	ratio=$(calc "$j / $t")
	row "bulk download through one jump, MB/s (ftp-tunnel -J)" "$(fmt "$j")" \
		"ftp-tunnel -L, no jump (same run)" "$(fmt "$t")" "$(fmt "$ratio" 2)" "≥ 0.55" \
		"$(verdict "$ratio" '>=' 0.55)"
	row "bulk download through one jump, MB/s (ftp-tunnel -J)" "$(fmt "$j")" \
		"OpenSSH ssh -J -L" "$(fmt "$sj")" "$(fmt "$(calc "$j / $sj")" 2)" "" ""
	row "bulk download through one jump, MB/s (OpenSSH ssh -J -L)" "$(fmt "$sj")" \
		"OpenSSH ssh -L, no jump" "$(fmt "$sl")" "$(fmt "$(calc "$sj / $sl")" 2)" "" ""
	t=$(med many-small-tunnel) j=$(med many-small-tunnelJ)
	ratio=$(calc "$j / $t")
	row "$NSMALL files of 4 KiB through one jump, s (ftp-tunnel -J)" "$(fmt "$j" 3)" \
		"ftp-tunnel -L, no jump (same run)" "$(fmt "$t" 3)" "$(fmt "$ratio" 2)" "≤ 1.2" \
		"$(verdict "$ratio" '<=' 1.2)"
	t=$(med many-small-sshL) j=$(med many-small-sshJ)
	row "$NSMALL files of 4 KiB through one jump, s (OpenSSH ssh -J -L)" "$(fmt "$j" 3)" \
		"OpenSSH ssh -L, no jump" "$(fmt "$t" 3)" "$(fmt "$(calc "$j / $t")" 2)" "" ""
	row "CPU s/GiB, download through one jump (ftp-tunnel -J: both sessions)" \
		"$(fmt "$(med cpu-tunnelJ)" 2)" "ftp-tunnel -L, no jump" "$(fmt "$(med cpu-tunnel)" 2)" \
		"$(fmt "$(calc "$(med cpu-tunnelJ) / $(med cpu-tunnel)")" 2)" "" ""
}

# sftp: FTP to SFTP conversion (ftp-tunnel -L sftp/, curl as the FTP
# client) against the SFTP clients a user would take instead: curl
# sftp:// (libssh2, like ftp-tunnel) and OpenSSH's sftp in batch mode;
# then NSMALL files of 4 KiB, lftp mget through -L sftp/ against OpenSSH
# sftp's mget.
SFTPOPTS=(-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes
	-o UserKnownHostsFile="$SSH_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null
	-o IdentitiesOnly=yes -i "$SSH_KEY" -P "$SSHD_PORT" -c "$CIPHER" -o "MACs=$MAC"
	-o Compression=no)

# sftp_x KIND WHO down|up: one transfer through the bridge (WHO tunnel,
# curl as its FTP client) or a peer (curl sftp://, OpenSSH sftp -b); MB/s
# into samples/KIND-WHO-DIR. KIND sftp: on loopback, SIZE bytes, and the
# bridge's CPU per GiB into samples/cpu-sftp; sftpw: over the delay
# relay, WAN_SIZE bytes.
sftp_x() {
	local kind=$1 who=$2 dir=$3 t0 t1 rc got t0c t1c
	local lport port file size upsrc up opts=() cpu_pid=""
	if [ "$kind" = sftp ]; then
		lport=$SFTP_LPORT port=$SSHD_PORT file=bulk size=$SIZE upsrc=$T/up.bin
		opts=("${SFTPOPTS[@]}") cpu_pid=$SFTP_PID
	else
		lport=$SFTPW_LPORT port=$WAN_SSH file=wbulk size=$WAN_SIZE upsrc=$T/wup.bin
		opts=("${SFTPOPTS_WAN[@]}")
	fi
	[ "$who" = tunnel ] || cpu_pid=""
	up="$MAIN_UPLOAD_DIR/$kind-$who"
	rm -f "$up"
	[ -n "$cpu_pid" ] && t0c=$(cpu_ticks "$cpu_pid")
	t0=$(date +%s.%N)
	case $who:$dir in
	tunnel:down) curl -sS --max-time 900 -o /dev/null "ftp://x:y@127.0.0.1:$lport/pub/$file" ;;
	tunnel:up) curl -sS --max-time 900 -T "$upsrc" "ftp://x:y@127.0.0.1:$lport/upload/$kind-$who" ;;
	curl:down) curl -sS -k --max-time 900 --key "$SSH_KEY" --pubkey "$SSH_KEY_PUB" \
		-o /dev/null "sftp://$SSH_USER@127.0.0.1:$port$MAIN_PUB/$file" ;;
	curl:up) curl -sS -k --max-time 900 --key "$SSH_KEY" --pubkey "$SSH_KEY_PUB" \
		-T "$upsrc" "sftp://$SSH_USER@127.0.0.1:$port$up" ;;
	openssh:down) printf 'get %s /dev/null\n' "$MAIN_PUB/$file" |
		sftp -q "${opts[@]}" -b - "$SSH_USER@127.0.0.1" >/dev/null ;;
	openssh:up) printf 'put %s %s\n' "$upsrc" "$up" |
		sftp -q "${opts[@]}" -b - "$SSH_USER@127.0.0.1" >/dev/null ;;
	esac
	rc=$?
	t1=$(date +%s.%N)
	[ -n "$cpu_pid" ] && t1c=$(cpu_ticks "$cpu_pid")
	if [ "$dir" = up ]; then got=$(stat -c %s "$up" 2>/dev/null); else got=$size; fi
	rm -f "$up"
	if [ "$rc" != 0 ] || [ "${got:-0}" != "$size" ]; then
		say "$kind $who $dir failed (exit $rc, ${got:-0} of $size bytes)"
		rec "fail-$kind-$who-$dir" 1
		return 1
	fi
	rec "$kind-$who-$dir" "$(calc "$size / ($t1 - $t0) / 1e6")"
	[ -n "$cpu_pid" ] && rec "cpu-sftp" "$(calc "($t1c - $t0c) / $HZ / ($size / 1073741824)")"
	return 0
}

# OpenSSH sftp fetching NSMALL files of 4 KiB in one session (mget).
sftp_many() {
	local t0 t1 got
	rm -rf "$T/sink" && mkdir -p "$T/sink"
	t0=$(date +%s.%N)
	printf 'cd %s\nlcd %s\nmget *\n' "$MAIN_PUB/small" "$T/sink" |
		sftp -q "${SFTPOPTS[@]}" -b - "$SSH_USER@127.0.0.1" >/dev/null
	t1=$(date +%s.%N)
	got=$(find "$T/sink" -type f | wc -l)
	if [ "$got" != "$NSMALL" ]; then
		say "sftp mget: $got of $NSMALL files"
		rec "fail-many-small-openssh" 1
		return 1
	fi
	rec "many-small-openssh" "$(calc "$t1 - $t0")"
}

section_sftp() {
	local r dir who
	SFTP_LPORT=$(tt_free_port) || tt_die "ports"
	ft_tunnel -o Port="$SSHD_PORT" -L "sftp/$SFTP_LPORT:$(dirname "$MAIN_PUB")" \
		"$SSH_USER@127.0.0.1" || tt_die "ftp-tunnel -L sftp/"
	SFTP_PID=$FT_PID
	say "sftp: $RUNS runs x {tunnel curl openssh} x {down up}, $SIZE_H each; $NSMALL x 4 KiB mget"
	for ((r = 1; r <= RUNS; r++)); do
		for dir in down up; do
			for who in tunnel curl openssh; do
				sftp_x sftp "$who" "$dir"
			done
		done
		many sftp small "$NSMALL"
		sftp_many
	done
	local v o c dname
	for dir in down up; do
		[ "$dir" = down ] && dname="RETR (download)" || dname="STOR (upload)"
		v=$(med "sftp-tunnel-$dir")
		o=$(med "sftp-openssh-$dir")
		c=$(med "sftp-curl-$dir")
		row "SFTP $dname, MB/s (ftp-tunnel -L sftp/ + curl ftp://)" "$(fmt "$v")" \
			"OpenSSH sftp -b" "$(fmt "$o")" "$(fmt "$(calc "$v / $o")" 2)" "" ""
		ratio=$(calc "$v / $c")
		row "SFTP $dname, MB/s (ftp-tunnel -L sftp/ + curl ftp://)" "$(fmt "$v")" \
			"curl sftp://" "$(fmt "$c")" "$(fmt "$ratio" 2)" "≥ 1.0" "$(verdict "$ratio" '>=' 1.0)"
	done
	row "CPU s/GiB (ftp-tunnel -L sftp/)" "$(fmt "$(med cpu-sftp)" 2)" "" "" "" "" ""
	v=$(med many-small-sftp)
	o=$(med many-small-openssh)
	ratio=$(calc "$v / $o")
	row "$NSMALL files of 4 KiB, s (-L sftp/ + lftp mget)" "$(fmt "$v" 3)" "OpenSSH sftp mget" \
		"$(fmt "$o" 3)" "$(fmt "$ratio" 2)" "≤ 1.5" "$(verdict "$ratio" '<=' 1.5)"
	kill "$SFTP_PID"
}

# sftpwan: the same conversion over the wan section's delay relay
# (WAN_DELAY ms each way between the client side and sshd): a second
# ftp-tunnel -L sftp/ logs in through the relay, curl as its FTP client,
# against OpenSSH sftp -b (the target) and curl sftp:// (reported) through
# the same relay; WAN_SIZE each way, every client interleaved in each run.
SFTPOPTS_WAN=()

section_sftpwan() {
	local r dir who o ft_pid=$FT_PID
	# The relay's port in place of sshd's (-P is sftp's port option).
	for o in "${SFTPOPTS[@]}"; do
		[ "$o" = "$SSHD_PORT" ] && o=$WAN_SSH
		SFTPOPTS_WAN+=("$o")
	done
	SFTPW_LPORT=$(tt_free_port) || tt_die "ports"
	ft_tunnel -o Port="$WAN_SSH" -L "sftp/$SFTPW_LPORT:$(dirname "$MAIN_PUB")" \
		"$SSH_USER@127.0.0.1" || tt_die "ftp-tunnel -L sftp/ over the relay"
	SFTPW_PID=$FT_PID FT_PID=$ft_pid
	say "sftpwan: $WAN_DELAY ms each way; $RUNS runs x {tunnel openssh curl} x down, {tunnel openssh} x up, of $WAN_SIZE_H"
	for ((r = 1; r <= RUNS; r++)); do
		for dir in down up; do
			for who in tunnel openssh curl; do
				# curl sftp:// uploads one packet per round trip
				# (1.5 MB/s at 20 ms): its download only.
				[ "$who:$dir" = curl:up ] && continue
				sftp_x sftpw "$who" "$dir"
			done
		done
	done
	local v c dname target met ratio
	for dir in down up; do
		if [ "$dir" = down ]; then
			dname="RETR (download)" target="≥ 1.0"
		else
			dname="STOR (upload)" target=""
		fi
		v=$(med "sftpw-tunnel-$dir")
		o=$(med "sftpw-openssh-$dir")
		c=$(med "sftpw-curl-$dir")
		ratio=$(calc "$v / $o")
		met=""
		[ -n "$target" ] && met=$(verdict "$ratio" '>=' 1.0)
		row "WAN SFTP $dname, MB/s (ftp-tunnel -L sftp/ + curl ftp://)" "$(fmt "$v")" \
			"OpenSSH sftp -b, same delay" "$(fmt "$o")" "$(fmt "$ratio" 2)" "$target" "$met"
		[ "$dir" = down ] && row "WAN SFTP $dname, MB/s (ftp-tunnel -L sftp/ + curl ftp://)" "$(fmt "$v")" \
			"curl sftp://, same delay" "$(fmt "$c")" "$(fmt "$(calc "$v / $c")" 2)" "" ""
	done
	kill "$SFTPW_PID"
}

# hold: no figure; keeps the fixtures up for poking by hand (BENCH_ONLY=hold)
# for BENCH_HOLD seconds (600) or until $T/stop exists; $T/env says where.
section_hold() {
	declare -p FTP_ADDR MAIN_PORT FT_LPORT FWD_CTL RAW_CTL RAW_PASV SOCKS_PORT SSHD_PORT \
		SSH_KEY SSH_KNOWN_HOSTS FTP_TUNNEL_SOCKET DPID FT_PID SSHL_PID WRAP T >"$T/env"
	declare -p WAN_SSH FTW_LPORT FTW_PID WFWD_PORT WDIR_PORT WRAP_WAN >>"$T/env"
	declare -p FTJ_LPORT FTJ_PID JB_PORT >>"$T/env" 2>/dev/null || true
	say "holding: . $T/env; touch $T/stop to end"
	tt_wait_until "$((${BENCH_HOLD:-600} * 10))" test -e "$T/stop"
}

# ---------------------------------------------------------------- run

{
	echo "ftp-tunnel bench, $(date -u '+%Y-%m-%d %H:%M UTC'), git $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)"
	echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r)"
	echo "$(ssh -V 2>&1), libssh2 $(dpkg-query -W -f='${Version}' libssh2-1 2>/dev/null), curl $(curl -V | awk 'NR == 1 { print $2 }'), vsftpd on loopback"
	echo "every SSH path: $CIPHER + $MAC (sshd offers nothing else; OpenSSH: ${kexline:-?})"
	{ want wan || want sftpwan; } && echo "wan: delay_relay, $WAN_DELAY ms each way (handshakes included), bulk $WAN_SIZE_H, $WAN_FILES small files"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); medians of $RUNS interleaved runs; bulk $SIZE_H, parallel $PAR_SIZE_H each; MB = 10^6 B"
} >"$T/header"
cat "$T/header" >&2

for s in bulk parallel small latency wan shim memory scale jump sftp sftpwan hold; do
	want "$s" && "section_$s"
done

{
	cat "$T/header"
	print_table
	fails=$(cd "$T/samples" && ls fail-* 2>/dev/null | tr '\n' ' ')
	[ -n "$fails" ] && echo && echo "FAILED transfers (see above): $fails"
	[ -n "${RAW_METHODS:-}" ] && echo && echo "raw_libssh2 negotiated $RAW_METHODS."
	echo
	echo "(took $(($(date +%s) - T_START)) s; load average at end: $(cut -d' ' -f1-3 /proc/loadavg))"
} | tee "$T/table.md"
[ -n "${BENCH_OUT:-}" ] && cp "$T/table.md" "$BENCH_OUT"
# tt_done wants an assertion: the bench's is that the table was printed.
tt_pass "bench table printed" >/dev/null
tt_done >/dev/null
