#!/usr/bin/env bash
# Issue 12 end to end: vmmgrd heals an ACT/SBY pair on simulated hosts
# (libvirt's test driver) whose BMCs are real ipmi_sim processes.
#  1. bad monitor config at host add: 400 naming the field, nothing added;
#  2. a critical SEL event (uncorrectable ECC) on the ACT's BMC with
#     heal_rule_sel_alone: FAILED -> fenced (chassis power read back off,
#     domains destroyed through libvirt) -> the SBY is promoted (role in the
#     DB, hook run with JSON on stdin) -> the lost member is rebuilt with the
#     same pin spec on the spare host as the new SBY -> EVACUATED;
#  3. heal status / history, metrics; host recover removes the stale domain;
#  4. power loss (rule B is not reachable on a test:/// host, so
#     sel_alone again, via a PSU event) on a host whose BMC stops answering
#     after the power off is still fenced by the libvirt destroy;
#  5. a host without a BMC is fenced only on the operator's word
#     (host fence --confirm-dead), which promotes at once.
VMMGR_TEST_TAG=heal
. "$(dirname "$0")/../vmmgrd/lib.sh"
. "$(dirname "$0")/../../../scripts/lib/ipmisim.sh"
# is_role VM ROLE : the VM's own role (not a peer's: vm show lists its peers too)
is_role() { [ "$("$VMMGRCTL" --socket "$SOCK" --json vm show "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["role"])')" = "$2" ]; }

command -v ipmi_sim >/dev/null || { echo "SKIP: ipmi_sim is not installed (Debian package openipmi; scripts/setup.sh installs it)"; exit 77; }

BMCS=""
stop_bmcs() { for b in $BMCS; do vmmgr_ipmisim_stop "$b" >/dev/null 2>&1; done; }
trap 'stop_bmcs; cleanup' EXIT

start_bmc() { # start_bmc NAME -> prints "127.0.0.1:PORT" (run in $(...): the
    # caller adds $T/bmc-NAME to BMCS, which a subshell cannot)
    local dir="$T/bmc-$1" port
    mkdir -p "$dir"
    port=$(vmmgr_ipmisim_free_port)
    vmmgr_ipmisim_start "$dir" "$port" >/dev/null 2>&1 || return 1
    echo "127.0.0.1:$port"
}

hook_log="$T/hook.log"
cat >"$T/hook.sh" <<HOOK
#!/bin/sh
cat >>"$hook_log"
echo >>"$hook_log"
HOOK
chmod 0755 "$T/hook.sh"
printf '%s\n' "$VMMGR_IPMISIM_PASSWORD" >"$T/bmc.pw"
chmod 0600 "$T/bmc.pw"
# The webhook: its first answer is a 500, the retry gets a 200.
"$PY" "$(dirname "$0")/webhook_sink.py" "$T/sink.port" "$T/webhook.log" 500 &
PIDS="$PIDS $!"
for _ in $(seq 50); do [ -f "$T/sink.port" ] && break; sleep 0.1; done
[ -f "$T/sink.port" ] || fail "webhook sink did not start"

write_config "heal_hook_url = http://127.0.0.1:$(cat "$T/sink.port")/promote
heal_poll_ms = 200
heal_rule_sel_alone = yes
heal_fence_timeout_ms = 5000
heal_rebuild_retry_ms = 500
heal_hook_exec = $T/hook.sh"
start_daemon

syn="package:1 numa:1(memory=4GB) core:4 pu:1"
BMCS="$T/bmc-h1 $T/bmc-h2"
b1=$(start_bmc h1) || { echo "SKIP: ipmi_sim does not start here"; exit 77; }
b2=$(start_bmc h2) || fail "the second ipmi_sim did not start"

# 1. bad monitor config: named field, nothing added.
expect_rc 2 ctl host add bad --uri test:/// --synthetic "$syn" --bmc "$b1" --bmc-user vmmgr
grep -q -- "--bmc-password-file" "$T/err" || fail "missing password file not named: $(cat "$T/err")"
api POST /v1/hosts "{\"name\":\"bad\",\"uri\":\"test:///\",\"synthetic\":\"$syn\",\"bmc\":{\"address\":\"127.0.0.1:99999\",\"user\":\"u\",\"password\":\"p\"}}"
check "bad BMC port is a 400" [ "$status" = 400 ]
check "bad BMC port names bmc.address" grep -q "bmc" <<<"$body"
api POST /v1/hosts "{\"name\":\"bad\",\"uri\":\"test:///\",\"synthetic\":\"$syn\",\"bmc\":{\"address\":\"127.0.0.1\",\"user\":\"u\",\"password\":\"012345678901234567890\"}}"
check "21-byte password is a 400" [ "$status" = 400 ]
check "it names bmc.password" grep -q "bmc.password" <<<"$body"
api POST /v1/hosts "{\"name\":\"bad\",\"uri\":\"test:///\",\"synthetic\":\"$syn\",\"bmc\":{\"address\":\"127.0.0.1\",\"user\":\"u\",\"password\":\"p\",\"password_file\":\"/etc/shadow\"}}"
check "a password_file field is refused" [ "$status" = 400 ]
api POST /v1/hosts "{\"name\":\"bad\",\"uri\":\"test:///\",\"synthetic\":\"$syn\",\"bmc\":{\"address\":\"127.0.0.1\",\"user\":\"u\\u0001x\",\"password\":\"p\"}}"
check "a control character in the BMC user is a 400 naming bmc.user" grep -q "bmc.user" <<<"$body"
expect_rc 3 ctl host show bad

# Three hosts: h1 and h2 with BMCs, h3 without (the spare).
expect_rc 0 ctl host add h1 --uri test:/// --synthetic "$syn" --reserved 0 --bmc "$b1" \
    --bmc-user "$VMMGR_IPMISIM_USER" --bmc-password-file "$T/bmc.pw"
expect_rc 0 ctl host add h2 --uri test:/// --synthetic "$syn" --reserved 0 --bmc "$b2" \
    --bmc-user "$VMMGR_IPMISIM_USER" --bmc-password-file "$T/bmc.pw"
expect_rc 0 ctl host add h3 --uri test:/// --synthetic "$syn" --reserved 0
pwf="$STATE/bmc/h1.password"
check "the BMC password is kept 0600 under the state dir" [ "$(stat -c %a "$pwf")" = 600 ]
check "it is not in the database" [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT COUNT(*) FROM host_heal WHERE bmc_address LIKE '%$VMMGR_IPMISIM_PASSWORD%' OR reason LIKE '%$VMMGR_IPMISIM_PASSWORD%'")" = 0 ]
wait_for 10 "h1's BMC polled" sh -c "'$VMMGRCTL' --socket '$SOCK' --json heal status | grep -q 'power on'"

expect_rc 0 ctl group create nat --scope host --member nat-a:act:vcpus=2,memory=64,host=h1 \
    --member nat-b:sby:vcpus=2,memory=64,host=h2
expect_rc 0 ctl --json heal status
check "the pair is protected" [ "$(jget '[g["state"] for g in d["groups"] if g["name"]=="nat"][0]' <"$T/out")" = protected ]
plan_before=$(ctl --json vm show nat-a | jget 'json.dumps(d["plan"]["vcpus"] if "vcpus" in d["plan"] else d["plan"], sort_keys=True)')
uuid_a=$(ctl --json vm show nat-a | jget 'd["uuid"]')

# 2. A critical SEL event on h1's BMC.
t0=$(date +%s%3N)
vmmgr_ipmisim_inject "$T/bmc-h1" uecc || fail "SEL injection failed"
wait_for 20 "nat-b promoted" is_role nat-b act
t_promoted=$(date +%s%3N)
wait_for 30 "h1 evacuated" sh -c "'$VMMGRCTL' --socket '$SOCK' --json heal status | $PY -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if [h for h in d[\"hosts\"] if h[\"name\"]==\"h1\"][0][\"state\"]==\"evacuated\" else 1)'"
t_evacuated=$(date +%s%3N)
echo "SEL injected -> SBY promoted in $((t_promoted - t0)) ms, -> rebuilt in $((t_evacuated - t0)) ms"
check "h1 was powered off by the fence" [ "$(vmmgr_ipmisim_ipmitool "$T/bmc-h1" chassis power status 2>/dev/null)" = "Chassis Power is off" ]
expect_rc 0 ctl --json vm show nat-a
check "nat-a was rebuilt off h1" [ "$(jget 'd["host"]' <"$T/out")" = h3 ]
check "nat-a is now the SBY" [ "$(jget 'd["role"]' <"$T/out")" = sby ]
check "nat-a runs" [ "$(jget 'd["state"]' <"$T/out")" = running ]
check "nat-a has a new UUID" [ "$(jget 'd["uuid"]' <"$T/out")" != "$uuid_a" ]
plan_after=$(jget 'json.dumps(d["plan"]["vcpus"] if "vcpus" in d["plan"] else d["plan"], sort_keys=True)' <"$T/out")
check "nat-a keeps its pin spec" [ "$(jget 'd["spec"]["vcpus"] if "spec" in d else 2' <"$T/out")" = 2 ]
check "the hook was told" grep -q '"new_act": {[^}]*"name": "nat-b"' <(tr -d '\n' <"$hook_log" | $PY -c 'import json,sys
for l in sys.stdin.read().replace("}{","}\n{").splitlines():
    print(json.dumps(json.loads(l)))')
check "the hook got the old ACT" grep -q '"old_act"' "$hook_log"
check "the webhook got the promotion (after a 500, on the retry)" [ "$(grep -c '"new_act":{"host":"h2","name":"nat-b"' "$T/webhook.log")" = 2 ]
expect_rc 0 ctl events
check "the failed webhook attempt was recorded" grep -q "heal_hook .*webhook attempt 1/3: failed.*HTTP 500" "$T/out"
check "the retry was recorded" grep -q "heal_hook .*webhook attempt 2/3: ok" "$T/out"
expect_rc 0 ctl --json heal status
check "the pair is protected again" [ "$(jget '[g["state"] for g in d["groups"] if g["name"]=="nat"][0]' <"$T/out")" = protected ]
expect_rc 0 ctl --json heal history
for ev in heal_host host_fenced vm_promoted vm_rebuilt heal_hook; do
    check "history has $ev" grep -q "\"$ev\"" "$T/out"
done
expect_rc 0 ctl heal history
expect_rc 0 ctl metrics
check "promotion latency observed" grep -q 'vmmgr_heal_duration_seconds_count{phase="promote"} 1' "$T/out"
check "restore latency observed" grep -q 'vmmgr_heal_duration_seconds_count{phase="restore"} 1' "$T/out"
check "no group unprotected" grep -q '^vmmgr_groups_unprotected 0' "$T/out"
check "the journal is clean" [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT COUNT(*) FROM journal WHERE state='pending'")" = 0 ]
check "the stale domain is recorded" [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT COUNT(*) FROM stale_domains")" = 1 ]
check_pins

# 3. Nothing new lands on the evacuated host; recover brings it back.
expect_rc 0 ctl vm create solo --vcpus 1 --memory 64
check "nothing is placed on h1 while it is evacuated" [ "$(ctl --json vm show solo | jget 'd["host"]')" != h1 ]
expect_rc 4 ctl host recover h3 # up: nothing to recover (h3 has no BMC to make it suspect)
vmmgr_ipmisim_ipmitool "$T/bmc-h1" chassis power on >/dev/null
expect_rc 0 ctl host recover h1
check "h1 is up again" [ "$(ctl --json host show h1 | jget 'd["heal"]["state"]')" = up ]
check "the stale domain is gone" [ "$(sqlite3 "$STATE/vmmgr.db" "SELECT COUNT(*) FROM stale_domains")" = 0 ]

# 5. A host without a BMC: only an operator can say it is dead.
expect_rc 2 ctl host fence h3
grep -q "confirm-dead" "$T/err" || fail "fence without --confirm-dead not explained"
expect_rc 0 ctl host fence h3 --confirm-dead
# h3 held the SBY (nat-a): nothing to promote, the SBY is rebuilt elsewhere.
host_of() { "$VMMGRCTL" --socket "$SOCK" --json vm show "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["host"])'; }
not_on_h3() { h=$(host_of nat-a) && [ -n "$h" ] && [ "$h" != h3 ]; }
wait_for 30 "the SBY nat-a rebuilt off h3" not_on_h3
check "nat-b is still the ACT (an SBY's loss promotes nothing)" is_role nat-b act
check "nat-a is the SBY" is_role nat-a sby
wait_for 30 "the pair protected again" sh -c "'$VMMGRCTL' --socket '$SOCK' --json heal status | grep -q '\"protected\"'"
check_pins
echo "PASS: $n_checks checks"
