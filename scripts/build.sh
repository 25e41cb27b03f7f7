#!/usr/bin/env bash
# scripts/build.sh - configure and build vmmgr into build/ (or $VMMGR_BUILD_DIR).
#
#   scripts/build.sh            RelWithDebInfo build; -Werror when CI=true
#   scripts/build.sh --asan     AddressSanitizer + UBSan build into build-asan/
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${VMMGR_BUILD_DIR:-$src/build}
opts=()
if [ "${1:-}" = --asan ]; then
    build=${VMMGR_ASAN_BUILD_DIR:-$src/build-asan}
    opts+=(-DVMMGR_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
[ "${CI:-}" = true ] && opts+=(-DVMMGR_WERROR=ON)
echo "vmmgr-build: configuring $build" >&2
cmake -S "$src" -B "$build" "${opts[@]}" >/dev/null
echo "vmmgr-build: building with $(nproc) jobs" >&2
cmake --build "$build" -j"$(nproc)"
echo "vmmgr-build: done: $build" >&2
