#!/usr/bin/env bash
# vmmgrd security (issue 10), probed as an attacker with API access would:
# a test:// URI naming a secret file, libvirt query options that run a
# program, ssh option injection, a synthetic topology that escapes the node
# file's comment, labels with terminal escapes and 100 KB, a world-readable
# token file, roles (403), TLS with and without client certificates, plain
# TCP only on loopback, 512 half-open connections against an authenticated
# client, and the modes of the state dir and database.
. "$(dirname "$0")/lib.sh"
command -v virsh >/dev/null || { echo "SKIP: virsh is not installed"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed (test certificates)"; exit 77; }

# A file whose content must never come back: our own secret, and root's
# shadow file when we can read it (the issue's case).
secret="$T/secret.xml"
marker="SECRET-$$-$(date +%N)-do-not-leak"
printf '%s:$6$salt$hash:19000:0:99999:7:::\n' "$marker" >"$secret"
markers=("$marker")
if [ -r /etc/shadow ]; then
    shadow_line=$(head -1 /etc/shadow)
    [ -n "$shadow_line" ] && markers+=("$shadow_line")
fi
# no_leak WHERE FILE... : none of the markers appears in the files.
no_leak() {
    local where=$1 m
    shift
    for m in "${markers[@]}"; do
        check "$where does not hold the secret" bash -c '! grep -aqF -- "$1" "${@:2}" 2>/dev/null' _ "$m" "$@"
    done
}

# ---- URIs, topologies and labels over the Unix socket ----
pwned="$T/pwned"
cat >"$T/evil.sh" <<EOF
#!/bin/sh
touch $pwned
EOF
chmod 755 "$T/evil.sh"
write_config "max_body_bytes = 1048576
uri_alias.nolibvirtd = qemu+unix:///system?socket=$T/no-libvirtd.sock"
start_daemon

for uri in "test://$secret" "test:///etc/shadow" "test:///../../etc/shadow"; do
    expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts \
        "{\"name\":\"x\",\"uri\":\"$uri\",\"synthetic\":\"package:1 core:2 pu:1\"}"
    no_leak "400 answer to $uri" "$T/body"
done
for uri in "qemu+ssh://127.0.0.1/system?command=$T/evil.sh" \
    "qemu+ssh://127.0.0.1/system?netcat=$T/evil.sh" \
    "qemu+ext:///system?command=$T/evil.sh" \
    "qemu+unix:///system?socket=$T/x.sock" \
    "qemu+ssh://-oProxyCommand=$T/evil.sh/system" \
    "qemu+ssh://127.0.0.1/system%3Fcommand=$T/evil.sh" \
    "qemu+tcp://127.0.0.1/system" "qemu:///session" "xen:///system" "alias:nosuch"; do
    expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts "{\"name\":\"x\",\"uri\":\"$uri\"}"
done
sleep 0.5
check "no URI ran the attacker's program" [ ! -e "$pwned" ]
check "'uri' is named" grep -q "'uri'" "$T/body"

# The comment of the generated node file cannot be closed from the API.
# hwloc accepts (and ignores) this index list, so before the check the
# string reached the node file and libvirt choked on the injected element.
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts \
    '{"name":"inj","uri":"test:///","synthetic":"core:1 pu:2(indexes=0,1,--><domain/><!--)"}'
check "synthetic named" grep -q "'synthetic'" "$T/body"
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts \
    '{"name":"inj","uri":"test:///","synthetic":"package:1 core:2 pu:1 --><domain type=\"test\"><name>evil</name></domain><!--"}' 
check "no node file for the injection" [ ! -e "$STATE/hosts/inj.xml" ]
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts \
    "{\"name\":\"xx\",\"uri\":\"test:///\",\"hwloc_xml\":\"<!DOCTYPE t [<!ENTITY s SYSTEM \\\"file://$secret\\\">]><topology>&s;</topology>\"}"
no_leak "400 answer to an entity" "$T/body"

# Labels: control characters and 100 KB refused; plain UTF-8 kept.
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts \
    '{"name":"l1","uri":"test:///","synthetic":"core:2 pu:1","labels":{"rack":"r1\u001b[2J\u001b]0;owned\u0007"}}'
check "label named" grep -q "'labels.rack'" "$T/body"
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts \
    '{"name":"l2","uri":"test:///","synthetic":"core:2 pu:1","labels":{"note":"a\u009bb"}}'
big=$(head -c 102400 /dev/zero | tr '\0' 'a')
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts \
    "{\"name\":\"l3\",\"uri\":\"test:///\",\"synthetic\":\"core:2 pu:1\",\"labels\":{\"note\":\"$big\"}}"
expect_rc 0 ctl host add ok1 --uri test:/// --synthetic "core:2 pu:1" --label rack=r1 --label "site=Zürich"
expect_rc 0 ctl --json host show ok1
check "UTF-8 label kept" [ "$(jget 'd["labels"]["site"]' <"$T/out")" = "Zürich" ]

# Outside error text: libvirt's message (it names the socket path and
# errno text) stays in the debug log; the answer names the operation and
# libvirt's code.
expect_rc 6 ctl host add far --uri alias:nolibvirtd
check "answer names the operation and libvirt's code" grep -q "open the host connection: libvirt .*code [0-9]*, domain [0-9]*" "$T/err"
check "answer does not carry libvirt's text" bash -c "! grep -q 'no-libvirtd.sock' '$T/err'"
api GET /v1/operations
check "journal does not carry libvirt's text" bash -c "! grep -q 'no-libvirtd.sock' '$T/body'"
check "libvirt's text is in the debug log" grep -q "no-libvirtd.sock" "$T/vmmgrd.log"

# Nothing of the secret anywhere: answers, journal, events, the database.
api GET "/v1/operations?limit=1000"
no_leak "journal" "$T/body"
api GET "/v1/events?limit=10000"
no_leak "events" "$T/body"
stop_daemon
no_leak "database" "$STATE"/vmmgr.db*
check "state dir is 0700" [ "$(stat -c %a "$STATE")" = 700 ]
check "database is 0600" [ "$(stat -c %a "$STATE/vmmgr.db")" = 600 ]

# An older database (0644) is made private again at start-up.
chmod 644 "$STATE/vmmgr.db"
chmod 755 "$STATE"
start_daemon
check "database made 0600" [ "$(stat -c %a "$STATE/vmmgr.db")" = 600 ]
check "state dir made 0700" [ "$(stat -c %a "$STATE")" = 700 ]
for f in "$STATE"/vmmgr.db-wal "$STATE"/vmmgr.db-shm; do
    [ -e "$f" ] && check "$(basename "$f") is 0600" [ "$(stat -c %a "$f")" = 600 ]
done

# The CLI escapes control characters a row from an older vmmgrd still holds.
sqlite3 "$STATE/vmmgr.db" "UPDATE hosts SET labels = '{\"rack\":\"r1\\u001b[31mRED\"}' WHERE name = 'ok1'" ||
    fail "sqlite3"
expect_rc 0 ctl host list
check "host list escapes ESC" grep -qF 'r1\x1b[31mRED' "$T/out"
check "host list prints no raw ESC" bash -c "! grep -q $'\x1b' '$T/out'"
stop_daemon

# ---- config: aliases checked at start-up ----
printf 'uri_alias.a = qemu+ssh://h/system?command=%s\n' "$T/missing-program" >"$T/bad.conf"
expect_rc 2 "$VMMGRD" --config "$T/bad.conf" --socket "$SOCK" --state-dir "$STATE" --check-config
check "missing program named" grep -q "missing-program" "$T/err"
chmod 777 "$T/evil.sh"
printf 'uri_alias.a = qemu+ssh://h/system?command=%s\n' "$T/evil.sh" >"$T/bad.conf"
expect_rc 2 "$VMMGRD" --config "$T/bad.conf" --socket "$SOCK" --state-dir "$STATE" --check-config
check "world-writable program refused" grep -q "writable by group or others" "$T/err"
printf 'uri_alias.a = qemu+ssh://h/system?bogus=1\n' >"$T/bad.conf"
expect_rc 2 "$VMMGRD" --config "$T/bad.conf" --socket "$SOCK" --state-dir "$STATE" --check-config
printf 'uri_alias.a = qemu+ssh://h/system?keyfile=relative/key\n' >"$T/bad.conf"
expect_rc 2 "$VMMGRD" --config "$T/bad.conf" --socket "$SOCK" --state-dir "$STATE" --check-config

# ---- tokens, roles ----
tok() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
READER=r-$(openssl rand -hex 16)
OPERATOR=o-$(openssl rand -hex 16)
ADMIN=a-$(openssl rand -hex 16)
cat >"$T/tokens" <<EOF
# id role sha256(token)
ro reader $(tok "$READER")
ops operator $(tok "$OPERATOR")
boss admin $(tok "$ADMIN")
EOF
chmod 644 "$T/tokens"
port=$((20000 + ($$ + 7) % 20000))
printf 'api_token_file = %s\n' "$T/tokens" >"$T/t.conf"
expect_rc 2 "$VMMGRD" --config "$T/t.conf" --socket "$SOCK" --state-dir "$STATE" --check-config
check "world-readable token file refused" grep -q "must be 0600" "$T/err"
chmod 600 "$T/tokens"
printf 'plain-token\n' >"$T/plain"
chmod 600 "$T/plain"
printf 'api_token_file = %s\n' "$T/plain" >"$T/t.conf"
expect_rc 2 "$VMMGRD" --config "$T/t.conf" --socket "$SOCK" --state-dir "$STATE" --check-config
check "a plain token (not a hash) refused" grep -q "ID ROLE SHA256-HEX" "$T/err"
check "the plain token is not echoed" bash -c "! grep -q plain-token '$T/err'"

# TLS certificates: a CA, the server (127.0.0.1), a client.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=vmmgr-test-ca \
    -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null || fail "openssl ca"
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$T/srv.key" -out "$T/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/san"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
    -extfile "$T/san" -out "$T/srv.pem" 2>/dev/null || fail "openssl server cert"
openssl req -newkey rsa:2048 -nodes -subj /CN=client -keyout "$T/cli.key" -out "$T/cli.csr" 2>/dev/null
openssl x509 -req -in "$T/cli.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
    -out "$T/cli.pem" 2>/dev/null || fail "openssl client cert"
chmod 600 "$T/srv.key"

# Plain TCP: refused unless allowed, and never off loopback.
write_config "listen_tcp = 127.0.0.1:$port
api_token_file = $T/tokens"
expect_rc 2 "$VMMGRD" --config "$CONF" --check-config
check "plain TCP needs TLS" grep -q "needs tls_cert" "$T/err"
write_config "listen_tcp = 0.0.0.0:$port
allow_plain_tcp = yes
api_token_file = $T/tokens"
expect_rc 2 "$VMMGRD" --config "$CONF" --check-config
check "plain TCP only on loopback" grep -q "loopback" "$T/err"

write_config "listen_tcp = 127.0.0.1:$port
api_token_file = $T/tokens
tls_cert = $T/srv.pem
tls_key = $T/srv.key
socket_mode = 0666
max_connections_per_ip = 16
http_timeout_s = 3"
start_daemon
URL="https://127.0.0.1:$port"
tcurl() { # tcurl TOKEN METHOD PATH [BODY]
    local t=$1 m=$2 p=$3
    shift 3
    status=$(curl -s --cacert "$T/ca.pem" -o "$T/body" -w '%{http_code}' -X "$m" \
        ${t:+-H "Authorization: Bearer $t"} ${1:+--data-binary "$1"} "$URL$p")
}
tcurl "" GET /v1/status
check "TLS without a token is 401 (got $status)" [ "$status" = 401 ]
tcurl "$READER" GET /v1/status
check "TLS with the reader token is 200 (got $status)" [ "$status" = 200 ]
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $READER" "http://127.0.0.1:$port/v1/status")
check "plain HTTP to the TLS port gets no answer (got $status)" [ "$status" != 200 ]
tcurl "$READER" POST /v1/hosts '{"name":"r1","uri":"test:///","synthetic":"core:2 pu:1"}'
check "reader adding a host is 403 (got $status)" [ "$status" = 403 ]
check "403 is a JSON PERMISSION_DENIED naming the role" grep -q '"PERMISSION_DENIED".*admin' "$T/body"
tcurl "$OPERATOR" POST /v1/hosts '{"name":"r1","uri":"test:///","synthetic":"core:2 pu:1"}'
check "operator adding a host is 403 (got $status)" [ "$status" = 403 ]
tcurl "$OPERATOR" POST /v1/vms '{"name":"v1","vcpus":1,"memory_mib":64,"dry_run":true,"ignore_reserve":true}'
check "operator passes the role check for VM creates (got $status: $(cat "$T/body"))" \
    bash -c "[ $status != 403 ] && [ $status != 401 ]"
tcurl "$READER" POST /v1/vms '{"name":"v1","vcpus":1,"memory_mib":64,"dry_run":true}'
check "reader creating a VM is 403 (got $status)" [ "$status" = 403 ]
tcurl "$ADMIN" POST /v1/hosts '{"name":"r2","uri":"test:///","synthetic":"core:2 pu:1"}'
check "admin adds a host (got $status)" [ "$status" = 201 ]

# vmmgrctl: token from the environment or a 0600 file, over the socket or TLS.
expect_rc 7 env VMMGR_TOKEN="$READER" "$VMMGRCTL" --socket "$SOCK" host remove r2
check "ctl reports the missing right" grep -q "needs the admin role" "$T/err"
printf '%s\n' "$ADMIN" >"$T/admin.tok"
chmod 644 "$T/admin.tok"
expect_rc 2 ctl --token-file "$T/admin.tok" status
chmod 600 "$T/admin.tok"
expect_rc 0 ctl --url "$URL" --cacert "$T/ca.pem" --token-file "$T/admin.tok" host remove r2
expect_rc 7 ctl --url "$URL" --cacert "$T/ca.pem" status

# Audit: who, what, when, result -- refusals included; admin only.
expect_rc 0 ctl --json audit
check "audit: the admin token removed r2" [ "$(jget '[(a["who"],a["status"],a["result"]) for a in d if a["method"]=="DELETE" and a["path"]=="/v1/hosts/r2"][0]' <"$T/out")" = "('token:boss', 200, 'ok')" ]
check "audit: the reader's refused host add" [ "$(jget '[a["result"] for a in d if a["who"]=="token:ro" and a["method"]=="POST"][0]' <"$T/out")" = PERMISSION_DENIED ]
check "audit: entries have a time" [ "$(jget 'min(a["ts_ms"] for a in d) > 1600000000000' <"$T/out")" = True ]
expect_rc 7 env VMMGR_TOKEN="$READER" "$VMMGRCTL" --socket "$SOCK" audit
expect_rc 0 ctl audit
check "audit table" grep -q "token:boss *DELETE */v1/hosts/r2 *200 *ok" "$T/out"

# Unix-socket peers by uid: another user is a reader by default.
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
    chmod 755 "$T"
    asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    st=$(asnobody curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://x/v1/status)
    check "nobody reads (got $st)" [ "$st" = 200 ]
    st=$(asnobody curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X DELETE http://x/v1/hosts/ok1)
    check "nobody cannot remove a host (got $st)" [ "$st" = 403 ]
    chmod 700 "$T"
else
    echo "note: not root; the SO_PEERCRED uid mapping is left to the unit tests"
fi

# 512 half-open connections from one address (127.0.0.2) do not lock out an
# authenticated TLS client (127.0.0.1): per-address cap, short timeouts.
python3 - "$port" 512 >"$T/flood.out" 2>&1 <<'PY' &
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
held = []
for _ in range(n):
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", port))
        s.send(b"\x16\x03\x01\x02\x00\x01")  # the start of a TLS ClientHello, never finished
        held.append(s)
    except OSError:
        s.close()
print("held", len(held), flush=True)
time.sleep(6)
PY
flood=$!
PIDS="$PIDS $flood"
wait_for 10 "flood connected" grep -q held "$T/flood.out"
t=$(curl -s --cacert "$T/ca.pem" -o "$T/body" -w '%{http_code} %{time_total}' \
    -H "Authorization: Bearer $READER" -m 5 "$URL/v1/status")
check "status answers during the flood ($t)" [ "${t%% *}" = 200 ]
check "status answers in under 1 s during the flood ($t)" python3 -c "import sys; sys.exit(0 if float('${t#* }') < 1.0 else 1)"
echo "note: authenticated TLS GET /v1/status during 512 half-open connections: HTTP $t s"
kill "$flood" 2>/dev/null
wait "$flood" 2>/dev/null
# The idle timeout (3 s here) guards the request's arrival, not a handler
# that blocks on purpose: a 5 s long-poll still answers.
tcurl "$READER" GET "/v1/events?since=999999&wait=5"
check "long-poll longer than http_timeout_s answers (got $status)" [ "$status" = 200 ]
# ... and the kept-alive connection then idles out after http_timeout_s again.
idle=$(python3 - "$port" "$T/ca.pem" "$READER" <<'PY'
import socket, ssl, sys, time
port, ca, tok = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
s.sendall(("GET /v1/events?since=999999&wait=1 HTTP/1.1\r\nHost: x\r\n"
           "Authorization: Bearer %s\r\n\r\n" % tok).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, body = buf.split(b"\r\n\r\n", 1)
n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
while len(body) < n:
    body += s.recv(4096)
t0 = time.monotonic()
s.settimeout(30)
try:
    while s.recv(4096):
        pass
except (OSError, ssl.SSLError):
    pass
print("%.1f" % (time.monotonic() - t0))
PY
)
check "kept-alive connection closed after the idle timeout again (${idle}s)" python3 -c "import sys; sys.exit(0 if float('$idle') < 8 else 1)"
stop_daemon

# Client certificates: with tls_ca, a token alone is not enough.
write_config "listen_tcp = 127.0.0.1:$port
api_token_file = $T/tokens
tls_cert = $T/srv.pem
tls_key = $T/srv.key
tls_ca = $T/ca.pem"
start_daemon
tcurl "$READER" GET /v1/status
check "no client certificate: refused (got $status)" [ "$status" != 200 ]
status=$(curl -s --cacert "$T/ca.pem" --cert "$T/cli.pem" --key "$T/cli.key" -o "$T/body" \
    -w '%{http_code}' -H "Authorization: Bearer $READER" "$URL/v1/status")
check "client certificate and token: 200 (got $status)" [ "$status" = 200 ]
stop_daemon

echo "PASS: $n_checks checks"
