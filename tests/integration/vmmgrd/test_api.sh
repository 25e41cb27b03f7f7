#!/usr/bin/env bash
# vmmgrd skeleton end to end: config file, Unix socket mode, status, events
# (list and --follow long-poll), /metrics, bad input over the API and the CLI
# (4xx with a JSON error body, exit codes, state unchanged), pid file and
# daemon mode, SIGTERM shutdown, a second daemon refused, TCP with a token.
. "$(dirname "$0")/lib.sh"

write_config "pid_file = $T/vmmgrd.pid"
start_daemon --foreground

# The socket is group-accessible, not world-accessible (0660).
check "socket mode is 660" [ "$(stat -c %a "$SOCK")" = 660 ]
check "pid file holds the daemon's pid" [ "$(cat "$T/vmmgrd.pid")" = "$DPID" ]

# status: table and JSON
expect_rc 0 ctl status
check "status names the database" grep -q "database: $STATE/vmmgr.db (schema 5)" "$T/out"
expect_rc 0 ctl --json status
check "status --json pid" [ "$(jget 'd["pid"]' <"$T/out")" = "$DPID" ]
check "status --json no hosts" [ "$(jget 'd["hosts"]["total"]' <"$T/out")" = 0 ]

# The raw API, as curl users see it.
api GET /v1/status
check "GET /v1/status is 200" [ "$status" = 200 ]
events_before=$(printf '%s' "$body" | jget 'd["last_event_id"]')

expect_api_error 404 NOT_FOUND GET /v1/nope
expect_api_error 404 NOT_FOUND GET /v2/status
expect_api_error 405 UNSUPPORTED DELETE /v1/status
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts '{"name": "h1", "uri":'
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts '["not", "an", "object"]'
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts '{"name":"h1","uri":"test:///","synthetic":"core:2","colour":"red"}'
check "unknown field is named" grep -q "'colour': unknown field" "$T/body"
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts '{"name":"h1","uri":"test:///","synthetic":"core:2","reserved":"-1"}'
expect_api_error 400 INVALID_ARGUMENT POST /v1/hosts '{"name":"../etc","uri":"test:///","synthetic":"core:2"}'
expect_api_error 400 INVALID_ARGUMENT GET '/v1/events?since=-5'
expect_api_error 400 INVALID_ARGUMENT GET '/v1/events?sinse=5'
expect_api_error 400 INVALID_ARGUMENT GET /v1/status '{"unexpected":"body"}'
expect_api_error 404 NOT_FOUND GET /v1/hosts/ghost
expect_api_error 404 NOT_FOUND GET /v1/operations/12345
expect_api_error 400 INVALID_ARGUMENT GET /v1/operations/abc
# Oversize body: refused with 413 from the Content-Length alone.
big=$("$PY" -c 'print("{\"name\":\"h\",\"uri\":\"test:///\",\"synthetic\":\"" + "x"*5000 + "\"}")')
expect_api_error 413 INVALID_ARGUMENT POST /v1/hosts "$big"
# ... and when sent chunked, without a Content-Length.
status=$(printf '%s' "$big" | curl -s -o "$T/body" -w '%{http_code}' --unix-socket "$SOCK" \
    -X POST -H 'Transfer-Encoding: chunked' --data-binary @- http://vmmgrd/v1/hosts)
check "chunked oversize body is 413 (got $status)" [ "$status" = 413 ]

# None of that changed any state: no host, no journal entry, no event.
api GET /v1/hosts
check "no host after bad input" [ "$(printf '%s' "$body" | jget 'len(d["hosts"])')" = 0 ]
api GET /v1/operations
check "no journal entry after bad input" [ "$(printf '%s' "$body" | jget 'len(d["operations"])')" = 0 ]
api GET /v1/status
check "no event after bad input" [ "$(printf '%s' "$body" | jget 'd["last_event_id"]')" = "$events_before" ]

# The CLI: usage errors exit 2 with one line naming the option; a missing
# object exits 3; an unreachable daemon 6.
expect_rc 2 ctl host add h1
check "missing --uri named" grep -q "'--uri'" "$T/err"
check "one line on stderr" [ "$(wc -l <"$T/err")" = 1 ]
expect_rc 2 ctl host add h1 --uri test:/// --synthetic core:2 --label norack
check "bad label named" grep -q "'--label'" "$T/err"
expect_rc 2 ctl host add h1 --uri test:/// --synthetic core:2 --bogus
expect_rc 2 ctl host add h1 --uri xen:///x
check "daemon's reason shown" grep -q "'uri'" "$T/err"
expect_rc 2 ctl events --limit -3
expect_rc 3 ctl host show ghost
check "not-found message" grep -q "host 'ghost' not found" "$T/err"
expect_rc 6 "$VMMGRCTL" --socket "$T/nobody.sock" status
check "unreachable hint" grep -q "cannot connect to vmmgrd" "$T/err"

# events: the log lists what happened, --follow sees new events as they come.
expect_rc 0 ctl events
check "daemon_started event listed" grep -q daemon_started "$T/out"
ctl --json=short events --follow >"$T/follow" 2>&1 &
follower=$!
PIDS="$PIDS $follower"
sleep 0.5
expect_rc 0 ctl host add h1 --uri test:/// --synthetic "package:1 core:2 pu:2"
for _ in $(seq 50); do grep -q host_added "$T/follow" && break; sleep 0.1; done
kill "$follower" 2>/dev/null
check "events --follow saw host_added" grep -q '"type":"host_added"' "$T/follow"
check "events --follow did not replay old events" bash -c "! grep -q daemon_started '$T/follow'"
# A long-poll with nothing new returns after its wait with no events.
t0=$(date +%s%N)
api GET "/v1/events?since=999999&wait=1"
t1=$(date +%s%N)
check "long-poll waited ~1 s ($(((t1 - t0) / 1000000)) ms)" [ $(((t1 - t0) / 1000000)) -ge 900 ]
check "long-poll timeout is empty" [ "$(printf '%s' "$body" | jget 'len(d["events"])')" = 0 ]

# /metrics in Prometheus text format.
api GET /metrics
check "metrics 200" [ "$status" = 200 ]
check "hosts gauge" grep -q '^vmmgr_hosts{state="up"} 1$' "$T/body"
check "op latency histogram" grep -q '^vmmgr_operation_duration_seconds_count{op="host_add",result="ok"} 1$' "$T/body"
check "http error counter counts the 4xx above" grep -Eq '^vmmgr_http_errors_total [1-9][0-9]*$' "$T/body"
expect_rc 0 ctl metrics
check "vmmgrctl metrics" grep -q '^# TYPE vmmgr_pus gauge$' "$T/out"

# A second daemon on the same pid file or socket is refused.
"$VMMGRD" --config "$CONF" >"$T/second.log" 2>&1
check "second vmmgrd refused (pid file)" grep -q "another vmmgrd is running" "$T/second.log"
"$VMMGRD" --config "$CONF" --pid-file "$T/other.pid" >"$T/second.log" 2>&1
check "second vmmgrd refused (socket)" grep -q "another vmmgrd is listening" "$T/second.log"
ctl status >/dev/null || fail "first daemon hurt by the second"

# SIGTERM: clean exit 0, socket and pid file removed.
stop_daemon
check "pid file removed" [ ! -e "$T/vmmgrd.pid" ]

# Bad configuration: file:line: message, exit 2, nothing started.
printf 'socket = %s\nlog_level = chatty\n' "$SOCK" >"$T/bad.conf"
"$VMMGRD" --config "$T/bad.conf" >"$T/out" 2>&1
rc=$?
check "bad config exits 2 (got $rc)" [ $rc = 2 ]
check "bad config names file and line" grep -q "$T/bad.conf:2: 'log_level'" "$T/out"
expect_rc 0 "$VMMGRD" --config "$CONF" --check-config

# Daemon mode: the parent returns once the API answers.
"$VMMGRD" --config "$CONF" --daemon --log-target stderr 2>>"$T/vmmgrd.log"
rc=$?
check "--daemon parent exits 0 (got $rc)" [ $rc = 0 ]
DPID=$(cat "$T/vmmgrd.pid")
PIDS="$PIDS $DPID"
expect_rc 0 ctl status
check "state survived the restart" grep -q "hosts:    1 (1 up" "$T/out"
kill -TERM "$DPID"
for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
check "daemonized vmmgrd stopped" bash -c "! kill -0 $DPID 2>/dev/null"
check "daemon removed its pid file" [ ! -e "$T/vmmgrd.pid" ]

# TCP with a bearer token (plain TCP: allowed on loopback when asked for;
# tests/integration/vmmgrd/test_security.sh covers TLS and roles).
port=$((20000 + $$ % 20000))
printf '# id role sha256\nci admin %s\n' "$(printf %s s3cret-token | sha256sum | cut -d' ' -f1)" >"$T/token"
chmod 600 "$T/token"
write_config "listen_tcp = 127.0.0.1:$port
allow_plain_tcp = yes
api_token_file = $T/token"
start_daemon
status=$(curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$port/v1/status")
check "TCP without token is 401 (got $status)" [ "$status" = 401 ]
check "401 body is a JSON error" grep -q '"PERMISSION_DENIED"' "$T/body"
status=$(curl -s -o "$T/body" -w '%{http_code}' -H 'Authorization: Bearer wrong' "http://127.0.0.1:$port/v1/status")
check "TCP with a wrong token is 401" [ "$status" = 401 ]
status=$(curl -s -o "$T/body" -w '%{http_code}' -H 'Authorization: Bearer s3cret-token' "http://127.0.0.1:$port/v1/status")
check "TCP with the token is 200 (got $status)" [ "$status" = 200 ]
stop_daemon

echo "PASS: $n_checks checks"
