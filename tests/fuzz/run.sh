#!/bin/sh
# tests/fuzz/run.sh TARGET [SECONDS] [LIBFUZZER_OPTION...]
#
# Runs the libFuzzer binary fuzz_TARGET of a VMMGR_FUZZ=ON (clang) build for
# SECONDS (default 60) on the seed corpus tests/data/fuzz/TARGET/. New inputs
# go to BUILD/fuzz-corpus/TARGET/ (kept between runs, never into the source
# tree), crash reproducers to BUILD/fuzz-artifacts/TARGET/. Seeds named
# crash-* (known, reported bugs) are left out. BUILD is $VMMGR_BINARY_DIR
# (set by ctest) or $VMMGR_FUZZ_BUILD, default ./build-fuzz of the checkout.
# Exit status: libFuzzer's (0 = no finding). docs/fuzzing.md has the rest.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
if [ $# -lt 1 ]; then
    echo "usage: $0 TARGET [SECONDS] [LIBFUZZER_OPTION...]" >&2
    exit 2
fi
target=$1
secs=${2:-60}
[ $# -ge 2 ] && shift 2 || shift 1
build=${VMMGR_BINARY_DIR:-${VMMGR_FUZZ_BUILD:-$src/build-fuzz}}
bin=$build/tests/fuzz/fuzz_$target
seeds=$src/tests/data/fuzz/$target

case $secs in
    '' | *[!0-9]*) echo "'$secs': SECONDS must be a whole number" >&2; exit 2 ;;
esac
if [ ! -d "$seeds" ]; then
    echo "'$target': no seed corpus $seeds" >&2
    exit 2
fi
if [ ! -x "$bin" ]; then
    echo "'$bin' not built: configure with CC=clang -DVMMGR_FUZZ=ON (see docs/fuzzing.md)" >&2
    exit 2
fi

corpus=$build/fuzz-corpus/$target
artifacts=$build/fuzz-artifacts/$target
mkdir -p "$corpus" "$artifacts"
for f in "$seeds"/*; do
    case $(basename "$f") in crash-*) continue ;; esac
    cp -p "$f" "$corpus/seed-$(basename "$f")"
done

# UBSan findings abort like ASan ones; leaks are findings too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$@" "$corpus"
