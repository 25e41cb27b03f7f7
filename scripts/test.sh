#!/usr/bin/env bash
# scripts/test.sh - run the whole suite: unit, integration and system tests
# (ctest labels), then, under CI or with --asan, the unit tests and the
# packet-path (VNF, generator) tests again in an ASan+UBSan build. Checks at
# the end that the suite left nothing behind: no test domain, no process it
# started (vmmgrd, the VNFs, the generator, testpmd, libvirtd), no temp file
# or DPDK runtime dir.
# Benchmarks are not part of the suite (see perf/).
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${VMMGR_BUILD_DIR:-$src/build}
jobs=$(nproc)
status=0
procs='vmmgrd|vmmgr-nat|vmmgr-fw|vmmgr-pktgen|vmmgr-shim|dpdk-testpmd|libvirtd|virtlogd|ovsdb-server|ovs-vswitchd|ipmi_sim'

# What exists before the suite, so that only what it added counts.
leftovers() {
    ls -d /tmp/vmmgr-test-* /var/run/dpdk/vmmgr-test-* /dev/shm/vmmgr-test-* 2>/dev/null
    pgrep -x "$procs" 2>/dev/null | sed 's/^/pid /'
}
before=$(leftovers | sort)

echo "vmmgr-test: running the suite in $build" >&2
ctest --test-dir "$build" -j"$jobs" --output-on-failure --timeout 900 || status=1

if [ "${CI:-}" = true ] || [ "${1:-}" = --asan ]; then
    echo "vmmgr-test: ASan+UBSan build, unit tests" >&2
    if "$src/scripts/build.sh" --asan; then
        # Unit tests, plus the packet-path tests: the VNFs parse untrusted
        # frames, so they run under the sanitizers too.
        asan_build=${VMMGR_ASAN_BUILD_DIR:-$src/build-asan}
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
        ctest --test-dir "$asan_build" -L unit -j"$jobs" --output-on-failure --timeout 900 || status=1
        ctest --test-dir "$asan_build" -R '^integration_(vnf|pktgen)_' -j"$jobs" \
            --output-on-failure --timeout 900 || status=1
    else
        echo "vmmgr-test: ASan build failed" >&2
        status=1
    fi
fi

left=$(virsh -q -c qemu:///system list --all --name 2>/dev/null | grep '^vmmgr-test-' || true)
if [ -n "$left" ]; then
    echo "vmmgr-test: the suite left test domains behind: $left" >&2
    status=1
fi
after=$(leftovers | sort)
added=$(comm -13 <(echo "$before") <(echo "$after") | grep -v '^$' || true)
if [ -n "$added" ]; then
    echo "vmmgr-test: the suite left these behind:" >&2
    while read -r what; do
        case "$what" in
        pid\ *) ps -o pid=,comm=,args= -p "${what#pid }" >&2 || true ;;
        *) echo "  $what" >&2 ;;
        esac
    done <<<"$added"
    status=1
fi
[ $status = 0 ] && echo "vmmgr-test: suite passed and left nothing behind" >&2
exit $status
