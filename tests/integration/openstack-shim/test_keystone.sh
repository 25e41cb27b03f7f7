#!/usr/bin/env bash
# test_keystone.sh - real-Keystone mode: a second vmmgr-shim ("B") takes the
# tokens of a Keystone it does not run, validating each there
# (GET /v3/auth/tokens with its own service token, X-Subject-Token) and
# caching the answer for keystone_cache_s. The Keystone here is the first
# shim's /identity/v3, which answers the same Keystone v3 calls; the real
# Keystone is test_keystone_real.sh's.
. "$(dirname "$0")/lib.sh"
start_shim 2
KPORT=$(free_port)
B_URL="http://127.0.0.1:$KPORT"
printf 'secret\n' >"$T/ks-pass"
chmod 600 "$T/ks-pass"
sed -e "s/^listen = .*/listen = 127.0.0.1:$KPORT/" -e "s#^state_dir = .*#state_dir = $T/b-state#" \
    "$T/shim.conf" >"$T/b.conf"
cat >>"$T/b.conf" <<CONF
keystone_url = $SHIM_URL/identity/v3
keystone_user = admin
keystone_project = admin
keystone_password_file = $T/ks-pass
keystone_cache_s = 2
CONF
"$SHIM" --config "$T/b.conf" >>"$T/b.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 "shim B up" curl -s -o /dev/null "$B_URL/compute/"
validations() { grep -c "GET /identity/v3/auth/tokens -> 200" "$T/shim.log"; }
code() { curl -s -o "$T/bbody" -w '%{http_code}' -H "X-Auth-Token: $1" "${@:2}"; }

ALICE=$(get_token alice proja pw-a)
n0=$(validations)
check "B accepts a token the Keystone issued" [ "$(code "$ALICE" "$B_URL/compute/v2.1/servers")" = 200 ]
n1=$(validations)
check "validated at the Keystone once ($n0 -> $n1)" [ "$n1" = $((n0 + 1)) ]
check "second call from the cache" [ "$(code "$ALICE" "$B_URL/compute/v2.1/servers")" = 200 ]
check "no second validation" [ "$(validations)" = "$n1" ]
check "garbage token refused" [ "$(code garbage "$B_URL/compute/v2.1/servers")" = 401 ]
check "WWW-Authenticate on B" bash -c "curl -s -D - -o /dev/null $B_URL/compute/v2.1/servers | grep -qi '^WWW-Authenticate: Keystone'"
# The project comes from Keystone: alice's flavor-less call to a member-only
# route works, an admin route does not.
check "alice is a member, not admin, at B" [ "$(code "$ALICE" "$B_URL/compute/v2.1/os-hypervisors")" = 403 ]
ADMIN=$(get_token admin admin secret)
check "admin token is admin at B" [ "$(code "$ADMIN" "$B_URL/compute/v2.1/os-hypervisors")" = 200 ]
# Revoked at the Keystone: B keeps it at most keystone_cache_s.
TOKEN=$ADMIN shim DELETE /identity/v3/auth/tokens "" -H "X-Subject-Token: $ALICE"
check "revocation at the Keystone" [ "$status" = 204 ]
sleep 3
check "revoked token refused after the cache time" [ "$(code "$ALICE" "$B_URL/compute/v2.1/servers")" = 401 ]
echo "PASS: $n_checks checks"
