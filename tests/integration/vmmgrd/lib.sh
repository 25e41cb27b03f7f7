# tests/integration/vmmgrd/lib.sh - shared pieces of the vmmgrd script tests.
#
# Sourced by each test. Makes a private temp dir (socket, state, config),
# starts vmmgrd on it, and on exit (success, failure or signal) stops every
# vmmgrd it started and removes the dir, so no daemon, socket or file is left.
# Helpers: ctl (vmmgrctl on our socket), api (curl over the socket, sets
# $status and $body), expect_rc, check, check_pins, jget (a JSON field via
# python3, $PY), libvirt_usable / skip_real_host, domain_type.
set -u

: "${VMMGR_BINARY_DIR:?run through ctest}"
VMMGRD="$VMMGR_BINARY_DIR/vmmgr/daemon/vmmgrd"
VMMGRCTL="$VMMGR_BINARY_DIR/vmmgr/ctl/vmmgrctl"
for tool in curl python3 sqlite3; do
    command -v "$tool" >/dev/null || { echo "SKIP: '$tool' is not installed (scripts/setup.sh installs it)"; exit 77; }
done
# Debian's python3 first: a pyenv shim first on PATH costs over a second per
# call on a loaded machine, and the tests call python3 hundreds of times (jget).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# $VMMGR_TEST_TAG names the temp dir (e.g. "crash": /tmp/vmmgr-test-crash-*).
T=$(mktemp -d "/tmp/vmmgr-test-${VMMGR_TEST_TAG:-vmmgrd}-XXXXXX")
SOCK="$T/vmmgrd.sock"
STATE="$T/state"
CONF="$T/vmmgrd.conf"
PIDS=""
n_checks=0

KVM_DOMAINS=""

cleanup() {
    for dom in $KVM_DOMAINS; do
        virsh -q -c qemu:///system destroy "$dom" >/dev/null 2>&1
        virsh -q -c qemu:///system undefine "$dom" >/dev/null 2>&1
    done
    for p in $PIDS; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $PIDS; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    [ -f "$T/vmmgrd.pid" ] && kill -TERM "$(cat "$T/vmmgrd.pid")" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*" >&2
    [ -f "$T/vmmgrd.log" ] && { echo "--- vmmgrd log:" >&2; tail -30 "$T/vmmgrd.log" >&2; }
    exit 1
}

check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    n_checks=$((n_checks + 1))
    "$@" || fail "$what"
}

write_config() {
    cat >"$CONF" <<CONF
# written by $0
socket = $SOCK
state_dir = $STATE
log_level = debug
max_body_bytes = 4096
reconnect_min_ms = 100
reconnect_max_ms = 1000
$*
CONF
}

# start_daemon [extra args] : starts vmmgrd and waits until it answers.
# vmmgrd connects to every host, recovers its journal and reconciles with
# libvirt before it serves (vm_daemon_new), which takes 0.5 s here when idle
# but over 5 s on a loaded machine after a kill -9 (libvirtd still busy with
# the killed daemon's calls): so the wait is long, and ends at once if the
# daemon exits.
start_daemon() {
    "$VMMGRD" --config "$CONF" "$@" >>"$T/vmmgrd.log" 2>&1 &
    DPID=$!
    PIDS="$PIDS $DPID"
    for _ in $(seq 600); do
        # Serving, and start-up recovery done (changes are refused before).
        [ -S "$SOCK" ] && ctl --json status >"$T/status.json" 2>/dev/null &&
            grep -q '"recovering": false' "$T/status.json" && return 0
        kill -0 "$DPID" 2>/dev/null || fail "vmmgrd exited at start-up"
        sleep 0.1
    done
    fail "vmmgrd did not answer on $SOCK within 60 s"
}

stop_daemon() { # SIGTERM, wait, expect exit 0
    kill -TERM "$DPID"
    wait "$DPID"
    local rc=$?
    [ $rc = 0 ] || fail "vmmgrd exited $rc after SIGTERM"
    [ -e "$SOCK" ] && fail "socket left behind after shutdown"
    return 0
}

ctl() { "$VMMGRCTL" --socket "$SOCK" --timeout 10000 "$@"; }

# expect_rc RC COMMAND... : the command must exit with RC.
expect_rc() {
    local want=$1 rc
    shift
    n_checks=$((n_checks + 1))
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$T/err")"
}

# api METHOD PATH [BODY] : curl over the socket; sets $status and $body.
api() {
    local method=$1 path=$2
    shift 2
    if [ $# -gt 0 ]; then
        status=$(curl -s -o "$T/body" -w '%{http_code}' --unix-socket "$SOCK" -X "$method" \
            -H 'Content-Type: application/json' --data-binary "$1" "http://vmmgrd$path")
    else
        status=$(curl -s -o "$T/body" -w '%{http_code}' --unix-socket "$SOCK" -X "$method" \
            "http://vmmgrd$path")
    fi
    body=$(cat "$T/body")
}

# wait_for SECONDS DESCRIPTION COMMAND... : polls every 0.1 s until COMMAND succeeds.
wait_for() {
    local secs=$1 what=$2
    shift 2
    n_checks=$((n_checks + 1))
    for _ in $(seq $((secs * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    fail "timed out: $what"
}

# check_pins : every host's core map, the allocations table and, for running
# guests on qemu:///system, libvirt's live pins and /proc agree with each VM's
# plan (check_pins.py says what it compares).
check_pins() {
    n_checks=$((n_checks + 1))
    "$PY" "$(dirname "${BASH_SOURCE[0]}")/check_pins.py" "$VMMGRCTL" "$SOCK" "$STATE/vmmgr.db" \
        >"$T/check_pins.out" 2>&1 || fail "core maps / live pins vs plans: $(cat "$T/check_pins.out")"
}

# libvirt_usable : qemu:///system answers and the machine has the 2 CPUs the
# real-host sections pin to; else sets $libvirt_why (for the exit-77 line).
libvirt_usable() {
    if ! virsh -q -c qemu:///system version >/dev/null 2>&1; then
        libvirt_why="libvirtd does not answer on qemu:///system"
        return 1
    fi
    if [ "$(nproc --all)" -lt 2 ]; then
        libvirt_why="the real-host checks pin to CPUs 0-1 and this machine has $(nproc --all) CPU"
        return 1
    fi
    return 0
}

# skip_real_host WHY : the end of a test whose other checks all passed but
# whose real-host section could not run: exit 77 (ctest: skipped) and say why.
skip_real_host() {
    echo "SKIP: the real-host (qemu:///system) section could not run: $1; the other $n_checks checks passed"
    exit 77
}

# domain_type : "kvm" or "qemu" (TCG) for a domain XML written by a test, by
# the harness's one rule (tests/harness/vt_libvirt.c vt_domain_type()).
domain_type() { "$VMMGR_BINARY_DIR/tests/harness/vt-domain-type"; }

# jget EXPR : evaluates a Python expression on the JSON document "d" read from stdin.
jget() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# expect_api_error STATUS CODE METHOD PATH [BODY]
expect_api_error() {
    local want_status=$1 want_code=$2
    shift 2
    api "$@"
    n_checks=$((n_checks + 1))
    [ "$status" = "$want_status" ] || fail "$*: HTTP $status, expected $want_status: $body"
    local code
    code=$(printf '%s' "$body" | jget 'd["error"]["code"]' 2>/dev/null) ||
        fail "$*: error body is not {\"error\":{...}}: $body"
    [ "$code" = "$want_code" ] || fail "$*: code $code, expected $want_code"
}
