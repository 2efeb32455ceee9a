#!/bin/bash
# t_forward.sh — plain -L and -R forwards through a real sshd: 100 MiB both
# ways sha256-equal, 50 concurrent connections, half-close, a slow reader
# with bounded memory, IPv6.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init forward
tt_sshd || tt_die "sshd"

tt_mkfile "$T/big" 100M
# A source that sends the file, a sink that stores what it gets, and a
# service that answers the sha256 of all it read once its input ends.
src=$(tt_free_port); sink=$(tt_free_port); sha=$(tt_free_port)
tt_spawn socat -U "TCP-LISTEN:$src,bind=127.0.0.1,reuseaddr,fork" "OPEN:$T/big"
tt_spawn socat -u "TCP-LISTEN:$sink,bind=127.0.0.1,reuseaddr,fork" "SYSTEM:cat > $T/sink.\$\$"
tt_spawn socat "TCP-LISTEN:$sha,bind=127.0.0.1,reuseaddr,fork,backlog=128" "SYSTEM:sha256sum"
for p in $src $sink $sha; do tt_wait_port "$p" || tt_die "socat"; done

down=$(tt_free_port); up=$(tt_free_port); svc=$(tt_free_port)
rdown=$(tt_free_port); rup=$(tt_free_port)
ft_tunnel -L "$down:127.0.0.1:$src" -L "$up:127.0.0.1:$sink" \
	-L "$svc:127.0.0.1:$sha" -R "$rdown:127.0.0.1:$src" -R "$rup:127.0.0.1:$sink" \
	"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel"

# Waits for the sink to have received a whole file: the newest sink file.
sink_file() {
	local f
	for i in $(seq 100); do
		f=$(ls -t "$T"/sink.* 2>/dev/null | head -1)
		[ -n "$f" ] && [ "$(stat -c %s "$f")" -ge "$1" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	echo "${f:-$T/sink.missing}"
}

# 100 MiB through -L, both directions.
timeout 60 socat -u "TCP:127.0.0.1:$down" "CREATE:$T/got.L"
tt_same "$T/big" "$T/got.L" "-L download 100 MiB"
rm -f "$T"/sink.*
timeout 60 socat -u "OPEN:$T/big" "TCP:127.0.0.1:$up"
tt_same "$T/big" "$(sink_file 104857600)" "-L upload 100 MiB"

# 100 MiB through -R (the listener is on the SSH server: its loopback).
timeout 60 socat -u "TCP:127.0.0.1:$rdown" "CREATE:$T/got.R"
tt_same "$T/big" "$T/got.R" "-R download 100 MiB"
rm -f "$T"/sink.*
timeout 60 socat -u "OPEN:$T/big" "TCP:127.0.0.1:$rup"
tt_same "$T/big" "$(sink_file 104857600)" "-R upload 100 MiB"

# Half-close: the client shuts its write side and still gets the reply.
head -c 3000000 "$T/big" >"$T/part"
want=$(tt_sha "$T/part")
got=$(timeout 30 socat -t 30 - "TCP:127.0.0.1:$svc" <"$T/part" | cut -d' ' -f1)
tt_check "half-close: reply after EOF ($got)" [ "$got" = "$want" ]

# 50 concurrent connections through one tunnel, each a different payload.
for i in $(seq 50); do
	head -c $((200000 + i * 1000)) "$T/big" >"$T/c$i"
done
pids=()
for i in $(seq 50); do
	timeout 60 socat -t 30 - "TCP:127.0.0.1:$svc" <"$T/c$i" >"$T/r$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
ok=0
for i in $(seq 50); do
	[ "$(cut -d' ' -f1 "$T/r$i")" = "$(tt_sha "$T/c$i")" ] && ok=$((ok + 1))
done
tt_check "50 concurrent connections: $ok/50 correct" [ "$ok" -eq 50 ]

# A slow reader: the sender pushes 100 MiB, the reader takes 64 KiB every
# 20 ms. The tunnel must stop the SSH window, not buffer the file.
rss0=$(ft_rss_kb "$FT_PID")
python3 - "$down" >"$T/slow.out" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
n = 0
end = time.time() + 4
while time.time() < end:
    d = s.recv(65536)
    if not d:
        break
    n += len(d)
    time.sleep(0.02)
print(n)
PY
slow=$!
peak=0
for i in $(seq 35); do
	r=$(ft_rss_kb "$FT_PID")
	[ "$r" -gt "$peak" ] && peak=$r
	sleep 0.1
done
wait "$slow"
tt_log "slow reader: read $(cat "$T/slow.out") B; tunnel RSS $rss0 KiB -> peak $peak KiB"
tt_check "slow reader: RSS grew by $((peak - rss0)) KiB (< 12 MiB)" [ $((peak - rss0)) -lt 12288 ]
tt_check "slow reader: the reader was really slow" [ "$(cat "$T/slow.out")" -lt 52428800 ]

# IPv6: to sshd over ::1, with a listener on [::1].
v6=$(tt_free_port)
ft_tunnel -L "[::1]:$v6:127.0.0.1:$sha" "$SSH_USER@[::1]:$SSHD_PORT" || tt_die "v6 tunnel"
got=$(timeout 30 socat -t 30 - "TCP6:[::1]:$v6" <"$T/part" | cut -d' ' -f1)
tt_check "IPv6: [::1] listener, sshd over ::1" [ "$got" = "$want" ]

tt_done
