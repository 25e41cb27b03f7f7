# tests/integration/openstack-shim/lib.sh - a real vmmgrd on simulated
# (libvirt test-driver) hosts plus vmmgr-shim in front of it, for the shim's
# script tests. Sources the vmmgrd tests' lib.sh (temp dir, start_daemon,
# cleanup on exit) and adds:
#   start_shim [N_HOSTS]   hosts sim1..simN (2 x 8 cores x 2 PUs each), the
#                          shim's users/images/config files, vmmgr-shim on a
#                          free port; exports OS_* for the openstack CLI
#   osc ARGS...            the Debian openstack CLI, unmodified
#   shim METHOD PATH [BODY] [HEADER...]  curl to the shim with $TOKEN; sets
#                          $status, $body and the headers file $T/hdrs
#   get_token USER PROJECT PASSWORD      prints a token
set -u
VMMGR_TEST_TAG=shim
# shellcheck source=../vmmgrd/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vmmgrd/lib.sh"
SHIM="$VMMGR_BINARY_DIR/openstack-shim/vmmgr-shim"
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed (password hashes)"; exit 77; }

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_shim() {
    local n=${1:-2} i syn="package:2 numa:2(memory=64GB) core:8 pu:2"
    write_config "healing_reserve = off"
    start_daemon
    for i in $(seq "$n"); do
        ctl host add "sim$i" --uri test:/// --synthetic "$syn" --reserved 0-1 --label "rack=r$i" \
            >/dev/null || fail "host add sim$i"
    done
    SHIM_PORT=$(free_port)
    SHIM_URL="http://127.0.0.1:$SHIM_PORT"
    # Users: admin (project admin) and two members of two other projects.
    {
        echo "admin admin admin,member $(openssl passwd -6 secret)"
        echo "alice proja member $(openssl passwd -6 pw-a)"
        echo "bob projb member $(openssl passwd -6 pw-b)"
    } >"$T/shim-users"
    chmod 600 "$T/shim-users"
    printf '# images for the shim test\ncirros\nempty\n' >"$T/shim-images"
    cat >"$T/shim.conf" <<CONF
listen = 127.0.0.1:$SHIM_PORT
vmmgrd_socket = $SOCK
state_dir = $T/shim-state
users_file = $T/shim-users
images_file = $T/shim-images
vm_name_prefix = vmmgr-test-shim-$$-
token_ttl_s = ${SHIM_TOKEN_TTL:-3600}
log_level = debug
CONF
    "$SHIM" --config "$T/shim.conf" >>"$T/shim.log" 2>&1 &
    SHIM_PID=$!
    PIDS="$PIDS $SHIM_PID"
    for _ in $(seq 100); do
        curl -s -o /dev/null "$SHIM_URL/identity/v3" && break
        kill -0 "$SHIM_PID" 2>/dev/null || { cat "$T/shim.log" >&2; fail "vmmgr-shim exited at start-up"; }
        sleep 0.1
    done
    export OS_AUTH_URL="$SHIM_URL/identity/v3" OS_USERNAME=admin OS_PASSWORD=secret
    export OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
    export OS_IDENTITY_API_VERSION=3 OS_INTERFACE=public OS_REGION_NAME=RegionOne
    unset OS_CLOUD OS_TOKEN OS_AUTH_TYPE
}

osc() { openstack "$@"; }

get_token() { # USER PROJECT PASSWORD
    curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
        --data-binary "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$1\",\"domain\":{\"name\":\"Default\"},\"password\":\"$3\"}}},\"scope\":{\"project\":{\"name\":\"$2\",\"domain\":{\"name\":\"Default\"}}}}}" \
        "$SHIM_URL/identity/v3/auth/tokens" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p'
}

# shim METHOD PATH [BODY] [extra curl header args...]
shim() {
    local method=$1 path=$2 data=${3:-}
    shift 3 2>/dev/null || shift $#
    local args=(-s -o "$T/sbody" -D "$T/hdrs" -w '%{http_code}' -X "$method" -H "X-Auth-Token: ${TOKEN:-}")
    [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
    status=$(curl "${args[@]}" "$@" "$SHIM_URL$path")
    body=$(cat "$T/sbody")
}

jq_() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
