#!/bin/bash
# t_keepalive.sh — ServerAliveInterval/CountMax: a server that stops
# answering (sshd frozen with SIGSTOP) ends the tunnel within
# interval * (count + 1) seconds with a clear message; an answering
# server keeps it up however long it is idle.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init keepalive
tt_sshd || tt_die "sshd"
echo_port=$(tt_free_port)
tt_spawn socat "TCP-LISTEN:$echo_port,bind=127.0.0.1,reuseaddr,fork" EXEC:cat
tt_wait_port "$echo_port" || tt_die "echo"

# Idle but answering: still up after 4 intervals.
lp=$(tt_free_port)
ft_tunnel -o ServerAliveInterval=1 -o ServerAliveCountMax=2 \
	-L "$lp:127.0.0.1:$echo_port" "$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel"
sleep 4.5
tt_check "idle tunnel with keepalives answered: still running" _tt_alive "$FT_PID"
got=$(echo hi | timeout 10 socat -t 5 - "TCP:127.0.0.1:$lp")
tt_check "and still forwarding" [ "$got" = hi ]

# Freeze the session's sshd process (the child serving this connection).
child=$(pgrep -P "$SSHD_PID" | head -1)
[ -n "$child" ] || tt_die "no sshd session process"
kill -STOP "$child"
start=$(date +%s)
for i in $(seq 100); do
	_tt_alive "$FT_PID" || break
	sleep 0.1
done
took=$(($(date +%s) - start))
kill -CONT "$child"
tt_check "frozen server: tunnel ended after ${took}s (at most 1 s * (2 + 1) + 2)" \
	eval '! _tt_alive "$FT_PID" && [ "$took" -le 5 ]'
wait "$FT_PID" 2>/dev/null
rc=$?
tt_check "exit status 255 ($rc)" [ "$rc" -eq 255 ]
tt_check "message says the server is not responding" \
	grep -q "Timeout, server root@127.0.0.1:$SSHD_PORT not responding" "$FT_LOG"
tt_done
