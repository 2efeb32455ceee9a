#!/bin/bash
# t_ftp_security.sh — the security properties of FTP tunnels (DESIGN.md,
# "Security properties"), each against a real sshd and vsftpd:
#
# (a) FTP bounce: through -L ftp/ (and -R ftp/), a PORT or EPRT naming
#     another address than the client's, or a port below 1024, gets a 500
#     from the tunnel and never reaches the server (vsftpd's command log);
#     the session goes on (NOOP gets 200, a good PORT still works).
# (b) data listener theft (ftp-tunnel -L, and the daemon through the
#     shim): another local user connects first to the
#     passive data listener the client was told about (PASV on 127.0.0.1,
#     EPSV on ::1): it gets nothing and is closed at once, the tunnel logs
#     "refused a data connection", and the real client then gets the file.
#     One connection per listener: a second one, even by the same user, is
#     refused.
# (c) AUTH TLS / AUTH SSL get 534, and FEAT hides AUTH, PBSZ and PROT,
#     from a vsftpd that offers TLS (checked directly: it does); the
#     session goes on; curl --ssl falls back to clear text inside the
#     tunnel, curl --ssl-reqd fails cleanly.
# (d) malformed server replies (a scripted FTP server): a 227 with a
#     number over 255, too few numbers, a 229 port over 65535, an
#     unsolicited 227, an overlong line: the client gets a 4xx line and
#     the session ends; the tunnel survives and the next good session
#     (a real transfer from the scripted server, and one from vsftpd)
#     works.
# (e) a 227 naming another host (helpers/hostile_ftpd.py "decoy": the
#     227 names 127.0.0.3:P while 127.0.0.1:P listens too): by default,
#     through -L ftp/ and -R ftp/, the data connection goes to the control
#     connection's server (127.0.0.1) at the reply's port and 127.0.0.3
#     gets nothing; with -o FtpPassiveAddress=reply it goes to 127.0.0.3.
# (f) active mode opens no listener by default (FtpActiveMode=auto): a
#     PORT through -L ftp/ to vsftpd on the SSH server's loopback is
#     converted (vsftpd gets PASV; no tcpip-forward on the SSH server that
#     another local user there could connect to first), and the file
#     arrives. A server that refuses PASV/EPSV (hostile_ftpd.py
#     "activeonly") makes the tunnel fall back to forward mode, say so,
#     and the file arrives.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tunnel.sh"
tt_init ftp_security
PY=$TT_PYTHON

# ---- the other local user, removed at exit ---------------------------------

THIEF="ftt-thief-$$"
_sec_exit() {
	local rc=$?
	# The thief's processes are short (timeouts) and ours: kill by uid.
	if id -u "$THIEF" >/dev/null 2>&1; then
		pkill -KILL -U "$(id -u "$THIEF")" 2>/dev/null
		userdel "$THIEF" >/dev/null 2>&1 || userdel -f "$THIEF" >/dev/null 2>&1
	fi
	(exit "$rc")
	_tt_exit
}
trap '_sec_exit' EXIT
useradd -M -U -d /nonexistent -s /usr/sbin/nologin "$THIEF" || tt_die "useradd $THIEF"
THIEF_UID=$(id -u "$THIEF")
THIEF_GID=$(id -g "$THIEF")
as_thief() { setpriv --reuid="$THIEF_UID" --regid="$THIEF_GID" --clear-groups "$@"; }
tt_check "second local user $THIEF (uid $THIEF_UID)" [ "$THIEF_UID" -ne 0 ]

# ---- servers and tunnels ----------------------------------------------------

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ftt-test \
	-keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 || tt_die "openssl"
tt_sshd || tt_die "sshd"
TT_VSFTPD_EXTRA="ssl_enable=YES
rsa_cert_file=$T/tls.crt
rsa_private_key_file=$T/tls.key
allow_anon_ssl=YES
force_anon_logins_ssl=NO
force_anon_data_ssl=NO
require_ssl_reuse=NO" tt_vsftpd || tt_die "vsftpd"
tt_mkfile "$VSFTPD_PUB/fbig" 3M
chmod -R a+rX "$VSFTPD_PUB"

# The scripted FTP server for (d): what it answers depends on the user
# name the client logs in with (USER <variant>).
cat >"$T/badsrv.py" <<'PY'
import socket, sys, threading
PAYLOAD = b"ftt scripted server payload\n" * 1000

def serve(c):
    f = c.makefile("rb")
    def send(s):
        c.sendall(s.encode() + b"\r\n")
    send("220 ftt scripted FTP server")
    variant = ""
    data = None
    try:
        for raw in f:
            line = raw.decode("latin-1").strip()
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "USER":
                variant = arg
                send("331 password please")
            elif verb == "PASS":
                send("230 logged in")
            elif verb == "PASV":
                if variant == "v300":
                    send("227 Entering Passive Mode (300,1,1,1,1,1)")
                elif variant == "vport300":
                    send("227 Entering Passive Mode (127,0,0,1,300,1)")
                elif variant == "vshort":
                    send("227 Entering Passive Mode (1,2,3)")
                else:
                    data = socket.socket()
                    data.bind(("127.0.0.1", 0))
                    data.listen(1)
                    p = data.getsockname()[1]
                    send("227 Entering Passive Mode (127,0,0,1,%d,%d)" % (p >> 8, p & 255))
            elif verb == "EPSV":
                if variant == "vepsv":
                    send("229 Entering Extended Passive Mode (|||99999|)")
                else:
                    send("500 no EPSV here")
            elif verb == "NOOP":
                if variant == "vunsol":
                    send("227 Entering Passive Mode (10,1,2,3,4,5)")
                elif variant == "vlong":
                    send("200 " + "x" * 9000)
                else:
                    send("200 NOOP ok")
            elif verb == "TYPE":
                send("200 type set")
            elif verb == "RETR" and data is not None:
                send("150 here it comes")
                d, _ = data.accept()
                d.sendall(PAYLOAD)
                d.close()
                data.close()
                data = None
                send("226 done")
            elif verb == "QUIT":
                send("221 bye")
                break
            else:
                send("502 not here")
    except OSError:
        pass
    c.close()

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
open(sys.argv[2], "wb").write(PAYLOAD)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
BADPORT=$(tt_free_port)
tt_spawn -o "$T/logs/badsrv.log" "$PY" "$T/badsrv.py" "$BADPORT" "$T/bad.payload"
BADSRV_PID=$TT_PID
tt_wait_until 100 _tt_greets "" 127.0.0.1 "$BADPORT" || tt_die "scripted FTP server"

LP=$(tt_free_port)
LP6=$(tt_free_port)
LB=$(tt_free_port)
RP=$(tt_free_port)
ft_tunnel -vv -L "ftp/$LP:127.0.0.1:$VSFTPD_PORT" -L "ftp/[::1]:$LP6:127.0.0.1:$VSFTPD_PORT" \
	-L "ftp/$LB:127.0.0.1:$BADPORT" -R "ftp/$RP:127.0.0.1:$VSFTPD_PORT" \
	"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel"
tt_pass "tunnel up: -L ftp/$LP, -L ftp/[::1]:$LP6 -> vsftpd; -L ftp/$LB -> scripted server; -R ftp/$RP -> vsftpd"
MAIN_LOG=$FT_LOG

# A scripted client: ftpc.py HOST PORT CMD...: one line per command,
# "CMD<TAB>last line of its reply" (or "CMD<TAB>EOF"); "+" before a command
# reads a whole multi-line reply into the output, one "  | line" each.
cat >"$T/ftpc.py" <<'PY'
import re, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
f = s.makefile("rb")
def reply(show=False):
    first = None
    while True:
        l = f.readline()
        if not l:
            return "EOF"
        l = l.decode("latin-1").rstrip("\r\n")
        if show:
            print("  | " + l)
        if first is None:
            if not re.match(r"^\d{3}", l):
                continue
            first = l[:3]
            if l[3:4] != "-":
                return l
        elif l.startswith(first + " "):
            return l
print("greeting\t" + reply())
for cmd in sys.argv[3:]:
    show = cmd.startswith("+")
    cmd = cmd.lstrip("+")
    try:
        s.sendall(cmd.encode() + b"\r\n")
        r = reply(show)
    except OSError as e:
        r = "EOF (%s)" % e.strerror
    print(cmd + "\t" + r, flush=True)
    if r.startswith("EOF"):
        break
PY
ftpc() { "$PY" "$T/ftpc.py" "$@"; }

# ---- (a) FTP bounce -----------------------------------------------------------

BOUNCE=(
	"PORT 127,0,0,2,15,160"    # another address on loopback
	"PORT 10,1,2,3,15,160"     # another host
	"EPRT |1|127.0.0.9|4000|"  # the same, in EPRT
	"EPRT |1|10.1.2.3|4000|"
	"PORT 127,0,0,1,0,21"      # the client itself, a privileged port
	"PORT 127,0,0,1,3,255"     # port 1023
	"EPRT |1|127.0.0.1|21|"
	"port 127,0,0,2,15,160"    # commands are case-insensitive
	"Port 127,0,0,2,15,160"
)
# The good PORT's listener: in the default converted mode the tunnel
# connects to it before the client gets its 200.
GP=$(tt_free_port)
tt_spawn -o "$T/logs/goodport.log" "$PY" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
held = []
while True:
    held.append(s.accept()[0])
' "$GP"
bounce_session() { # TAG PORT
	local tag=$1 port=$2 out="$T/bounce-${1//[^a-zA-Z]/}.out" c r good
	good="PORT 127,0,0,1,$((GP / 256)),$((GP % 256))"
	tt_wire_mark VSFTPD
	ftpc 127.0.0.1 "$port" "USER anonymous" "PASS x" "${BOUNCE[@]}" NOOP "$good" NOOP QUIT >"$out" 2>&1
	for c in "${BOUNCE[@]}"; do
		r=$(ft_reply_of "$out" "$c")
		tt_check "(a) FTP bounce: $tag: '$c' -> '$r'" [ "${r:0:4}" = "500 " ]
	done
	r=$(ft_reply_of "$out" NOOP)
	tt_check "(a) FTP bounce: $tag: the session goes on: NOOP -> '$r'" [ "${r:0:4}" = "200 " ]
	r=$(ft_reply_of "$out" "$good")
	tt_check "(a) FTP bounce: $tag: a PORT naming the client itself is accepted: '$r'" [ "${r:0:4}" = "200 " ]
	# The server saw one data command only: for the good PORT (a PASV
	# in the default converted mode, a PORT naming the tunnel's forward
	# in forward mode).
	local w n
	w=$(tt_wire_raw VSFTPD)
	n=$(printf '%s\n' "$w" | grep -c .)
	if [ "$n" -eq 1 ] && ! grep -q -E '127,0,0,2|10,1,2,3|127\.0\.0\.9|10\.1\.2\.3|,0,21$|,3,255$|\|21\|' <<<"$w"; then
		tt_pass "(a) FTP bounce: $tag: vsftpd got no bounce PORT/EPRT, only the good one ($w)"
	else
		tt_fail "(a) FTP bounce: $tag: vsftpd got these data commands: $(paste -sd';' <<<"$w")"
	fi
}
bounce_session "-L ftp/" "$LP"
bounce_session "-R ftp/" "$RP"
tt_check "(a) FTP bounce: vsftpd never said Illegal PORT/EPRT (the tunnel refused first)" \
	tt_quiet bash -c "! grep -q 'Illegal' '$VSFTPD_LOG'"

# ---- (b) data listener theft -------------------------------------------------

# The client (helpers/theft_client.py) and the one who tries to take its
# data connection first (helpers/theft_thief.py, as the other user).
LEGIT="$TT_LIB_DIR/helpers/theft_client.py"
THIEF_PY="$TT_LIB_DIR/helpers/theft_thief.py"

theft() { # TAG HOST PORT MODE
	local tag=$1 host=$2 port=$3 mode=$4 d lpid dport r
	d=$(mktemp -d "$T/theft-$4.XXXX")
	mkdir -p "$d"
	chmod 755 "$d"
	${THEFT_PRE:-} "$PY" "$LEGIT" "$host" "$port" "$mode" "$d" >"$d/legit.out" 2>&1 &
	lpid=$!
	tt_wait_until 100 test -s "$d/port" || { tt_fail "(b) data listener theft: $tag: no passive reply ($(cat "$d/legit.out"))"; kill "$lpid"; return; }
	dport=$(cat "$d/port")
	local before
	before=$(grep -c 'refused a data connection' "${THEFT_LOG:-$FT_LOG}")
	# The other user connects first and reads while the client gets going.
	: >"$d/thief.out"
	as_thief "$PY" "$THIEF_PY" "$host" "$dport" >"$d/thief.out" 2>&1 &
	local tpid=$!
	tt_wait_until 50 grep -q . "$d/thief.out"
	touch "$d/go"
	wait "$tpid"
	wait "$lpid"
	ft_theft_verdict "(b) data listener theft: $tag (thief: uid $THIEF_UID, data port $dport)" "$d" \
		"${THEFT_LOG:-$FT_LOG}" 'refused a data connection' "$before" "$VSFTPD_PUB/fbig"
}
theft "PASV on 127.0.0.1" 127.0.0.1 "$LP" pasv
theft "EPSV on ::1" ::1 "$LP6" epsv
grep 'refused a data connection' "$FT_LOG" | sed 's/^/# tunnel: /' >&2

# (b) in the transparent mode: the daemon's data listener, which the
# program reaches through the shim, takes only the program's own
# connection. The daemon is started by hand to keep its log.
export FTP_TUNNEL_SOCKET="$T/run/daemon.sock" FTP_TUNNELD="$TT_BUILD/ftp-tunneld" \
	FTP_TUNNEL_SHIM="$TT_BUILD/libftptunnel.so"
mkdir -p "$T/run" && chmod 700 "$T/run"
THEFT_LOG="$T/logs/daemon.log"
"$TT_BUILD/ftp-tunneld" -vv --ready-fd 3 3>"$T/daemon.ready" >"$THEFT_LOG" 2>&1 &
tt_track "$!"
tt_wait_until 50 grep -q READY "$T/daemon.ready" || tt_fail "(b) data listener theft: the daemon did not start"
THEFT_PRE="$TT_BUILD/ftp-tunnel-wrap --via $SSH_USER@127.0.0.1:$SSHD_PORT --ports $VSFTPD_PORT -i $SSH_KEY -o UserKnownHostsFile=$SSH_KNOWN_HOSTS"
theft "PASV through the daemon (shim)" 127.0.0.1 "$VSFTPD_PORT" pasv
"$TT_BUILD/ftp-tunnel" stop >/dev/null 2>&1
unset THEFT_PRE THEFT_LOG

# ---- (c) AUTH TLS -----------------------------------------------------------

ftpc 127.0.0.1 "$VSFTPD_PORT" "+FEAT" QUIT >"$T/feat-direct.out" 2>&1
tt_check "(c) AUTH TLS: control: vsftpd itself offers AUTH TLS, PBSZ, PROT in FEAT" \
	bash -c "grep -q -E '^  \| +AUTH TLS' '$T/feat-direct.out' && grep -q -E '^  \| +PBSZ' '$T/feat-direct.out' && grep -q -E '^  \| +PROT' '$T/feat-direct.out'"
tt_wire_mark VSFTPD
ftpc 127.0.0.1 "$LP" "+FEAT" "AUTH TLS" "AUTH SSL" "auth tls" "USER anonymous" NOOP "TYPE I" "SIZE pub/fbig" QUIT \
	>"$T/auth.out" 2>&1
tt_check "(c) AUTH TLS: FEAT through the tunnel: $(ft_reply_of "$T/auth.out" FEAT)" \
	bash -c "grep -q '^FEAT	211 ' '$T/auth.out' && grep -q -E '^  \| +EPSV' '$T/auth.out'"
tt_check "(c) AUTH TLS: FEAT through the tunnel lists no AUTH, PBSZ or PROT" \
	tt_quiet bash -c "! grep -E '^  \\| +(AUTH|PBSZ|PROT)' '$T/auth.out'"
for c in "AUTH TLS" "AUTH SSL" "auth tls"; do
	r=$(ft_reply_of "$T/auth.out" "$c")
	tt_check "(c) AUTH TLS: '$c' -> '$r'" [ "${r:0:4}" = "534 " ]
done
r="$(ft_reply_of "$T/auth.out" "USER anonymous") / $(ft_reply_of "$T/auth.out" NOOP) / $(ft_reply_of "$T/auth.out" "SIZE pub/fbig")"
tt_check "(c) AUTH TLS: the session goes on in clear: login, NOOP, SIZE -> '$r'" \
	grep -q -E '^230 .* / 200 .* / 213 ' <<<"$r"
tt_check "(c) AUTH TLS: vsftpd never saw an AUTH command" \
	tt_quiet bash -c "! grep -i 'FTP command: .*\"AUTH ' '$VSFTPD_LOG'"
rm -f "$T/ssl.got"
curl -sS -v --ssl -o "$T/ssl.got" "ftp://anonymous:x@127.0.0.1:$LP/pub/fbig" >"$T/curl-ssl.log" 2>&1
rc=$?
tt_check "(c) AUTH TLS: curl --ssl falls back to clear text inside the tunnel (exit $rc)" \
	bash -c "[ $rc = 0 ] && cmp -s '$VSFTPD_PUB/fbig' '$T/ssl.got' && grep -q '< 534' '$T/curl-ssl.log'"
timeout 20 curl -sS -v --ssl-reqd -o "$T/sslreqd.got" "ftp://anonymous:x@127.0.0.1:$LP/pub/fbig" >"$T/curl-sslreqd.log" 2>&1
rc=$?
tt_check "(c) AUTH TLS: curl --ssl-reqd fails cleanly (exit $rc, no file)" [ "$rc" -ne 0 -a "$rc" -ne 124 -a ! -s "$T/sslreqd.got" ]

# ---- (d) malformed replies from the server ----------------------------------

# bad VARIANT CMD DESCRIPTION: one session on the scripted server.
bad() {
	local v=$1 c=$2 what=$3 out="$T/bad-$1.out" r
	ftpc 127.0.0.1 "$LB" "USER $v" "PASS x" "$c" "TYPE I" QUIT >"$out" 2>&1
	r=$(ft_reply_of "$out" "$c")
	tt_check "(d) malformed reply: $what: the client gets '$r'" bash -c "[[ '$r' =~ ^[45][0-9][0-9]\  ]]"
	r=$(ft_reply_of "$out" "TYPE I")
	tt_check "(d) malformed reply: $what: ... and the session ends (next command: '$r')" [ "${r:0:3}" = EOF ]
	tt_check "(d) malformed reply: $what: nothing of the bad reply reached the client" \
		tt_quiet bash -c "! grep -q -E '300,1|\\(1,2,3\\)|99999|10,1,2,3|xxxxxxxx' '$out'"
	tt_check "(d) malformed reply: $what: the tunnel is still running" _tt_alive "$FT_PID"
}
bad v300 PASV "227 (300,1,1,1,1,1)"
bad vport300 PASV "227 (127,0,0,1,300,1)"
bad vshort PASV "227 (1,2,3)"
bad vepsv EPSV "229 (|||99999|)"
bad vunsol NOOP "a 227 answering NOOP"
bad vlong NOOP "a 9000-byte reply line"
grep 'ending the FTP session' "$FT_LOG" | sed 's/^/# tunnel: /' >&2
rm -f "$T/good.got"
TT_FTP_USER=good tt_ftp ftplib pasv get 127.0.0.1 "$LB" pub/x "$T/good.got"
tt_same "$T/bad.payload" "$T/good.got" "(d) after them, a good session with the scripted server gets its file"
tt_ftp curl epsv get 127.0.0.1 "$LP" pub/fbig "$T/good2.got" &&
	tt_same "$VSFTPD_PUB/fbig" "$T/good2.got" "(d) ... and one with vsftpd through the same tunnel"
tt_check "the scripted server is still running" _tt_alive "$BADSRV_PID"

# ---- (e) a 227 naming another host -------------------------------------------

DP=$(tt_free_port)
DLOG="$T/decoy.log"
tt_spawn -o "$T/logs/decoy.log" "$PY" "$TT_LIB_DIR/helpers/hostile_ftpd.py" "$DP" decoy "$DLOG"
tt_wait_until 100 _tt_greets "" 127.0.0.1 "$DP" || tt_die "decoy FTP server"
# decoy SETTING: one RETR through -L and one through -R, each on a tunnel
# made with SETTING (empty: the default); prints where each data
# connection landed ("at 127.0.0.1" / "at 127.0.0.3" / "nowhere").
decoy() {
	local set=$1 ld rd side out at port
	ld=$(tt_free_port)
	rd=$(tt_free_port)
	ft_tunnel -vv ${set:+-o "$set"} -L "ftp/$ld:127.0.0.1:$DP" -R "ftp/$rd:127.0.0.1:$DP" \
		"$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel to the decoy server (${set:-default})"
	for side in L R; do
		port=$ld
		[ "$side" = R ] && port=$rd
		: >"$DLOG"
		out="$T/decoy-${set:-default}-$side.out"
		"$PY" "$TT_LIB_DIR/helpers/hostile_ftpc.py" 127.0.0.1 "$port" dataflood 1 65541 >"$out" 2>&1
		at=$(sed -n 's/^DATA at //p' "$DLOG")
		echo "$side:${at:-nowhere}:$(awk -F'\t' '$1 == "full" {print $2}' "$out")"
	done
	tt_kill "$FT_PID"
}
r=$(decoy "" | paste -sd' ')
tt_check "(e) finding 5: default: -L and -R data go to the control connection's server, not the 227's 127.0.0.3 ($r)" \
	[ "$r" = "L:127.0.0.1:1 R:127.0.0.1:1" ]
r=$(decoy FtpPassiveAddress=reply | paste -sd' ')
tt_check "(e) finding 5: FtpPassiveAddress=reply: -L and -R data go to the 227's address ($r)" \
	[ "$r" = "L:127.0.0.3:1 R:127.0.0.3:1" ]

# ---- (f) active mode without a listener --------------------------------------

fwds() { grep -c "data forward on the server's port" "$MAIN_LOG"; }
n0=$(fwds)
v0=$(grep -c 'FTP command: .*"PASV"' "$VSFTPD_LOG")
rm -f "$T/act.got"
tt_ftp curl port get 127.0.0.1 "$LP" pub/fbig "$T/act.got" &&
	tt_same "$VSFTPD_PUB/fbig" "$T/act.got" "(f) default: curl PORT get through -L to the SSH server's loopback"
tt_check "(f) finding 6: default: the PORT reached vsftpd as PASV ($v0 before, $(grep -c 'FTP command: .*"PASV"' "$VSFTPD_LOG") after)" \
	[ "$(grep -c 'FTP command: .*"PASV"' "$VSFTPD_LOG")" -gt "$v0" ]
tt_check "(f) finding 6: default: no data listener on the SSH server for it ($n0 before, $(fwds) after)" [ "$(fwds)" = "$n0" ]

AP=$(tt_free_port)
ALOG="$T/activeonly.log"
tt_spawn -o "$T/logs/activeonly.log" "$PY" "$TT_LIB_DIR/helpers/hostile_ftpd.py" "$AP" activeonly "$ALOG" "$T/bad.payload"
tt_wait_until 100 _tt_greets "" 127.0.0.1 "$AP" || tt_die "active-only FTP server"
LA=$(tt_free_port)
ft_tunnel -vv -L "ftp/$LA:127.0.0.1:$AP" "$SSH_USER@127.0.0.1:$SSHD_PORT" || tt_die "tunnel to the active-only server"
rm -f "$T/act2.got"
tt_ftp curl port get 127.0.0.1 "$LA" f "$T/act2.got" &&
	tt_same "$T/bad.payload" "$T/act2.got" "(f) a server that refuses PASV: curl PORT get still works"
tt_check "(f) finding 6: ... the tunnel tried PASV, then sent a PORT naming the SSH server's loopback ($(grep -o -E "^b'(PASV|PORT)[^\\]*" "$ALOG" | paste -sd' '))" \
	bash -c "grep -q \"^b'PASV\" '$ALOG' && grep -q \"^b'PORT 127,0,0,1,\" '$ALOG'"
tt_check "(f) finding 6: ... and said it fell back to forward mode" grep -q "refused PASV/EPSV: active mode falls back to forward" "$FT_LOG"
tt_kill "$FT_PID"

tt_done
