#!/usr/bin/env bash
# test_pin_cli.sh VMMGRCTL - the offline pinning verbs as an operator uses them.
#
# `vmmgrctl topology` and `vmmgrctl plan`: table, --json (checked with
# python3's json module), --xml (must equal the renderer's golden file for
# the same request), and every bad-input case: exit code 2 and exactly one
# line on stderr that names the option. A request that does not fit exits 5.
set -u
# Debian's python3 rather than a pyenv shim first on PATH (a second per call
# when the machine is busy).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
CTL=${1:?usage: test_pin_cli.sh VMMGRCTL}
SRC=${VMMGR_SOURCE_DIR:?}
DATA=$SRC/tests/data/pinning
TMP=$(mktemp -d /tmp/vmmgr-test-pincli.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fails=0

fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# expect_ok DESC ARGS... : exit 0, stdout in $TMP/out
expect_ok() {
    local desc=$1
    shift
    if ! "$CTL" "$@" >"$TMP/out" 2>"$TMP/err"; then
        fail "$desc: exit $? ($(cat "$TMP/err"))"
        return 1
    fi
    return 0
}

# expect_bad CODE OPTION ARGS... : exit CODE, one stderr line naming OPTION
expect_bad() {
    local code=$1 opt=$2 rc
    shift 2
    "$CTL" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" != "$code" ]; then
        fail "'$*': exit $rc, want $code ($(cat "$TMP/err"))"
        return
    fi
    if [ "$(wc -l <"$TMP/err")" != 1 ]; then
        fail "'$*': stderr is not one line: $(cat "$TMP/err")"
        return
    fi
    if ! grep -qF -- "$opt" "$TMP/err"; then
        fail "'$*': stderr does not name $opt: $(cat "$TMP/err")"
    fi
    if [ -s "$TMP/out" ]; then
        fail "'$*': printed to stdout on error"
    fi
}

json() { "$PY" -c "import json,sys; d=json.load(open('$TMP/out')); $1"; }

SYN="package:2 numa:1 core:4 pu:2"

# topology: table, JSON, NICs
if expect_ok "topology table" topology --synthetic "$SYN"; then
    grep -q "^NODE  PACKAGE  CPUS" "$TMP/out" || fail "topology: no node table header"
    grep -Eq "^ +1 +1 +8-15 +4 " "$TMP/out" || fail "topology: node 1 row wrong: $(cat "$TMP/out")"
    grep -Eq "^ +5 +1 +1 +10,11$" "$TMP/out" || fail "topology: core 5 should be PUs 10,11 on node 1"
fi
if expect_ok "topology no-legend" --no-legend topology --synthetic "$SYN"; then
    grep -q "NODE" "$TMP/out" && fail "topology --no-legend printed a header"
fi
if expect_ok "topology json" --json topology --synthetic "$SYN"; then
    json "assert len(d['nodes'])==2 and len(d['cores'])==8 and d['pus']==16, d" ||
        fail "topology --json content"
fi
if expect_ok "topology nics" topology --hwloc-xml "$DATA/nic-host.xml"; then
    grep -Eq "^ens1f0 +0000:3b:00.0 +1$" "$TMP/out" || fail "topology: ens1f0 not on node 1"
    grep -Eq "^eno1 +0000:01:00.0 +0$" "$TMP/out" || fail "topology: eno1 not on node 0"
fi
expect_ok "topology live" topology || true

# plan: table, JSON, XML
# node 0 keeps 3 whole cores after --reserved 0-1: 3 vCPUs fit there (best
# fit), 4 do not and go to node 1
if expect_ok "plan table" plan --vcpus 3 --shared-vcpus 0 --reserved 0-1 --synthetic "$SYN"; then
    grep -Eq "^ +0 +shared +2 +1 +0$" "$TMP/out" || fail "plan: vcpu 0 should be shared on PU 2"
    grep -Eq "^ +2 +exclusive +6 +3 +0$" "$TMP/out" ||
        fail "plan: vcpu 2 should be on PU 6: $(cat "$TMP/out")"
    grep -q "^emulator: 0-1$" "$TMP/out" || fail "plan: emulator line"
    grep -q "^kept empty: 3,5,7$" "$TMP/out" || fail "plan: kept-empty line"
fi
if expect_ok "plan table node 1" plan --vcpus 4 --reserved 0-1 --synthetic "$SYN"; then
    grep -Eq "^ +3 +exclusive +14 +7 +1$" "$TMP/out" ||
        fail "plan: vcpu 3 should be on PU 14 (node 1): $(cat "$TMP/out")"
    grep -q "^memory nodes: 1 (strict)$" "$TMP/out" || fail "plan: memory node line"
fi
if expect_ok "plan json" --json=short plan --vcpus 2 --cpu-mode numbered --cpu-map 0:4,1:6 \
    --reserved 0-1 --synthetic "$SYN"; then
    json "v=d['plan']['vcpus']; assert [x['pu'] for x in v]==[4,6] and v[0]['mode']=='numbered', d" ||
        fail "plan --json: numbered PUs"
    [ "$(wc -l <"$TMP/out")" = 1 ] || fail "--json=short is not one line"
fi
if expect_ok "plan xml" plan --vcpus 4 --shared-vcpus 0 --emulator isolate --nic ens1f0 \
    --iothreads 1 --memory 1024 --hugepages 2048 --reserved 0-1 --hwloc-xml "$DATA/nic-host.xml" --xml; then
    diff -u "$DATA/golden/mixed-vnf-nic.xml" "$TMP/out" || fail "plan --xml differs from the golden file"
fi
expect_bad 5 "memory: numa node 1 has 1024 MiB free in 2048 KiB hugepages, need 2048 MiB" plan --vcpus 2 \
    --nic ens1f0 --memory 2048 --hugepages 2048 --reserved 0-1 --hwloc-xml "$DATA/nic-host.xml"
expect_bad 5 "no numa node has 8 free cores" plan --vcpus 8 --reserved 0 --synthetic "package:1 core:4 pu:1"
expect_bad 2 "'--cpu-map': vcpu 0: PU 0 is not in the dedicated pool" plan --vcpus 1 --cpu-mode numbered \
    --cpu-map 0:0 --reserved 0 --synthetic "package:1 core:4 pu:1"

# issue 9: defaults that work on a bare host. The plainest offline plan exits 0
# and its XML, put in a domain, is valid libvirt XML; its emulator threads
# float over the VM's PUs (policy auto -> vcpus).
if expect_ok "plainest plan" plan --synthetic "package:2 numa:2 core:16 pu:2" --vcpus 4 \
    --cpu-mode exclusive --thread-policy isolate --xml; then
    grep -q "<emulatorpin cpuset='0,2,4,6'/>" "$TMP/out" || fail "plainest plan: emulatorpin"
    { echo "<domain type='qemu'><name>vmmgr-test-plan</name><memory unit='MiB'>64</memory>"
      cat "$TMP/out"
      echo "<os><type arch='x86_64'>hvm</type></os></domain>"; } >"$TMP/dom.xml"
    if command -v virt-xml-validate >/dev/null; then
        virt-xml-validate "$TMP/dom.xml" domain >/dev/null 2>&1 ||
            fail "plainest plan: not valid domain XML: $(virt-xml-validate "$TMP/dom.xml" domain 2>&1)"
    else
        python3 -c "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])" "$TMP/dom.xml" ||
            fail "plainest plan: XML is not well-formed"
    fi
fi
if expect_ok "auto emulator policy shown" plan --vcpus 2 --synthetic "$SYN"; then
    grep -q "^emulator policy: vcpus$" "$TMP/out" || fail "plan: resolved emulator policy line"
fi
if expect_ok "auto emulator on reserved" --json=short plan --vcpus 2 --reserved 0-1 --synthetic "$SYN"; then
    json "p=d['plan']; assert p['emulator']=='0-1' and p['emulator_policy']=='reserved', p" ||
        fail "auto emulator should go to the reserved PUs"
fi
# an explicit 'reserved' without reserved PUs stays an error naming the option
expect_bad 2 "'--emulator': 'reserved' needs host-reserved" plan --vcpus 2 --emulator reserved --synthetic "$SYN"
# a numbered map over two nodes implies numa spread
if expect_ok "numbered map implies spread" --json=short plan --vcpus 2 --cpu-mode numbered \
    --cpu-map 0:2,1:10 --reserved 0 --synthetic "$SYN"; then
    json "p=d['plan']; assert p['numa']=='spread' and p['nodes']==[0,1], p" ||
        fail "numbered map over two nodes should plan numa spread"
fi
expect_bad 2 "'--cpu-map': numbered PUs span several numa nodes" plan --vcpus 2 --cpu-mode numbered \
    --cpu-map 0:2,1:10 --numa single --reserved 0 --synthetic "$SYN"

# a recorded host: --save/--owner claim and write the state, --allocation plans on it
ALLOC=$TMP/host.json
if expect_ok "save vm1" plan --vcpus 2 --reserved 0-1 --synthetic "$SYN" --save "$ALLOC" --owner vm1; then
    grep -q '"owner": "vm1"' "$ALLOC" || fail "--save: vm1 not in the saved allocation"
fi
if expect_ok "plan on saved" --json=short plan --vcpus 2 --allocation "$ALLOC" --synthetic "$SYN"; then
    # node 0 has one whole core left: the next 2-vCPU VM goes to node 1
    json "assert [x['pu'] for x in d['plan']['vcpus']]==[8,10], d" || fail "--allocation: vm1's cores reused"
fi
expect_bad 4 "PU 2 is held by 'vm1' (vcpu 0)" plan --vcpus 1 --cpu-mode numbered --cpu-map 0:2 \
    --allocation "$ALLOC" --synthetic "$SYN"
expect_bad 4 "'--owner': owner 'vm1': already holds a claim" plan --vcpus 1 --allocation "$ALLOC" \
    --synthetic "$SYN" --save "$ALLOC" --owner vm1
expect_bad 2 "'--allocation' conflicts" plan --vcpus 1 --allocation "$ALLOC" --reserved 0 --synthetic "$SYN"
expect_bad 2 "'--allocation'" plan --vcpus 1 --allocation /nonexistent.json --synthetic "$SYN"
expect_bad 2 "'--save' and '--owner' go together" plan --vcpus 1 --reserved 0 --synthetic "$SYN" --save "$ALLOC"

# bad input: exit 2, one line naming the option
expect_bad 2 "'--cpu-mode'" plan --vcpus 2 --cpu-mode bogus --synthetic "$SYN"
expect_bad 2 "'--vcpus'" plan --vcpus 0 --synthetic "$SYN"
expect_bad 2 "'--vcpus'" plan --vcpus 4097 --synthetic "$SYN"
expect_bad 2 "'--vcpus'" plan --vcpus two --synthetic "$SYN"
expect_bad 2 "'--vcpus'" plan --synthetic "$SYN"
expect_bad 2 "'--reserved'" plan --vcpus 1 --reserved 0-x --synthetic "$SYN"
expect_bad 2 "'--reserved'" plan --vcpus 1 --reserved 3-1 --synthetic "$SYN"
expect_bad 2 "'--dedicated'" plan --vcpus 1 --reserved 0 --dedicated 1-99 --synthetic "$SYN"
expect_bad 2 "'--reserved' and 'dedicated' overlap" plan --vcpus 1 --reserved 0-1 --dedicated 1-5 --synthetic "$SYN"
expect_bad 2 "'--cpu-map'" plan --vcpus 2 --cpu-mode numbered --cpu-map 0:x --synthetic "$SYN"
expect_bad 2 "'--cpu-map'" plan --vcpus 2 --cpu-mode numbered --cpu-map 0:99 --reserved 0 --synthetic "$SYN"
expect_bad 2 "'--cpu-map'" plan --vcpus 2 --cpu-mode numbered --cpu-map 5:3 --reserved 0 --synthetic "$SYN"
expect_bad 2 "'--cpu-map'" plan --vcpus 2 --cpu-mode numbered --reserved 0 --synthetic "$SYN"
expect_bad 2 "'--cpu-map'" plan --vcpus 2 --cpu-mode numbered --cpu-map 0:3 --reserved 0 --synthetic "$SYN"
expect_bad 2 "'--shared-vcpus'" plan --vcpus 2 --shared-vcpus 5 --reserved 0 --synthetic "$SYN"
expect_bad 2 "'--thread-policy'" plan --vcpus 2 --thread-policy always --synthetic "$SYN"
expect_bad 2 "'--emulator'" plan --vcpus 2 --emulator anywhere --synthetic "$SYN"
expect_bad 2 "'--emulator'" plan --vcpus 2 --emulator shared --reserved 0 --synthetic "$SYN"
expect_bad 2 "'--numa-node' and '--nic' conflict" plan --vcpus 2 --numa-node 0 --nic ens1f0 \
    --hwloc-xml "$DATA/nic-host.xml"
expect_bad 2 "'--numa-node'" plan --vcpus 2 --numa-node 7 --reserved 0 --synthetic "$SYN"
expect_bad 2 "'--nic'" plan --vcpus 2 --nic ens9 --reserved 0 --hwloc-xml "$DATA/nic-host.xml"
expect_bad 2 "'--hwloc-xml' and '--synthetic' conflict" plan --vcpus 1 --hwloc-xml "$DATA/nic-host.xml" \
    --synthetic "$SYN"
expect_bad 2 "'--hwloc-xml'" topology --hwloc-xml /nonexistent.xml
expect_bad 2 "'--synthetic'" topology --synthetic "package:2 bogus:1"
expect_bad 2 "'--xml' and '--json' conflict" --json plan --vcpus 1 --reserved 0 --synthetic "$SYN" --xml
expect_bad 2 "'--bogus'" plan --vcpus 1 --bogus
expect_bad 2 "'--vcpus'" plan --vcpus
expect_bad 2 "'--numa'" plan --vcpus 1 --numa wide --synthetic "$SYN"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all pinning CLI checks passed"
