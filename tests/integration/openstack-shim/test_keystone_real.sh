#!/usr/bin/env bash
# test_keystone_real.sh - real-Keystone mode against a REAL Keystone (Debian's,
# started by scripts/lib/openstack.sh, reused when already up): vmmgr-shim
# logs in there with its service credentials and validates the tokens that
# Keystone issued (GET /v3/auth/tokens), caches them, refuses garbage and a
# token Keystone revoked once the cache expired. Skips (77)
# only when OpenStack's packages are not installed (opt-in:
# scripts/setup-openstack.sh), naming the package.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
. "$SRC/scripts/lib/openstack.sh"

if ! miss=$(vmmgr_os_missing); then
    echo "SKIP: OpenStack package '$miss' is not installed (run scripts/setup-openstack.sh or VMMGR_OPENSTACK=1 scripts/setup.sh)"
    exit 77
fi
OS_STARTED=0
ks_cleanup() {
    [ "$OS_STARTED" = 1 ] && vmmgr_os_down
    cleanup
}
trap ks_cleanup EXIT
# One run at a time uses $VMMGR_OS_DIR (the Nova test, its benchmark).
exec 9>"$VMMGR_OS_DIR.lock"
flock -w 1000 9 || fail "another run holds $VMMGR_OS_DIR.lock for over 1000 s"
if vmmgr_os_status; then
    echo "# reusing the OpenStack in $VMMGR_OS_DIR"
else
    echo "# starting OpenStack in $VMMGR_OS_DIR (1-3 minutes)"
    OS_STARTED=1
    vmmgr_os_up || fail "OpenStack did not start (logs in $VMMGR_OS_DIR/logs)"
fi

start_shim 1
printf 'secret\n' >"$T/ks-pass"
chmod 600 "$T/ks-pass"
KPORT=$(free_port)
B_URL="http://127.0.0.1:$KPORT"
sed -e "s/^listen = .*/listen = 127.0.0.1:$KPORT/" -e "s#^state_dir = .*#state_dir = $T/b-state#" \
    "$T/shim.conf" >"$T/b.conf"
cat >>"$T/b.conf" <<CONF
keystone_url = $VMMGR_OS_KEYSTONE
keystone_user = admin
keystone_project = admin
keystone_password_file = $T/ks-pass
keystone_cache_s = 3
CONF
"$SHIM" --config "$T/b.conf" >>"$T/b.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 20 "shim up in real-Keystone mode" curl -s -o /dev/null "$B_URL/compute/"
code() { curl -s -o "$T/bbody" -w '%{http_code}' -H "X-Auth-Token: $1" "${@:2}"; }

# A token from the real Keystone (admin in project admin).
eval "$(vmmgr_os_env)"
REAL=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
    --data-binary '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"secret"}}},"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}}' \
    "$VMMGR_OS_KEYSTONE/auth/tokens" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p')
check "the real Keystone issued a token" [ -n "$REAL" ]
check "the shim accepts it" [ "$(code "$REAL" "$B_URL/compute/v2.1/flavors")" = 200 ]
check "an admin route too (roles from Keystone)" [ "$(code "$REAL" "$B_URL/compute/v2.1/os-hypervisors")" = 200 ]
check "garbage refused" [ "$(code garbage "$B_URL/compute/v2.1/flavors")" = 401 ]
check "WWW-Authenticate names Keystone" bash -c "curl -s -D - -o /dev/null $B_URL/compute/v2.1/flavors | grep -qi '^WWW-Authenticate: Keystone'"
check "the shim's own token is not valid at the real Keystone's shim" \
    [ "$(code "$(get_token admin admin secret)" "$B_URL/compute/v2.1/flavors")" = 401 ]

# Revoked at the real Keystone: refused once the cache (3 s) expired.
curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $REAL" -H "X-Subject-Token: $REAL" \
    "$VMMGR_OS_KEYSTONE/auth/tokens"
sleep 4
check "a token Keystone revoked is refused after the cache" [ "$(code "$REAL" "$B_URL/compute/v2.1/flavors")" = 401 ]

echo "PASS: $n_checks checks"
