#!/usr/bin/env bash
# scripts/test.sh - run the whole suite: unit, integration and system tests
# (ctest labels), then, under CI or with --asan, the unit tests again in an
# ASan+UBSan build. Checks at the end that no test domain was left behind.
# Benchmarks are not part of the suite (see perf/).
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${VMMGR_BUILD_DIR:-$src/build}
jobs=$(nproc)
status=0

echo "vmmgr-test: running the suite in $build" >&2
ctest --test-dir "$build" -j"$jobs" --output-on-failure --timeout 900 || status=1

if [ "${CI:-}" = true ] || [ "${1:-}" = --asan ]; then
    echo "vmmgr-test: ASan+UBSan build, unit tests" >&2
    if "$src/scripts/build.sh" --asan; then
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
            ctest --test-dir "${VMMGR_ASAN_BUILD_DIR:-$src/build-asan}" -L unit -j"$jobs" \
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
exit $status
