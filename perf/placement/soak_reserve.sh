#!/usr/bin/env bash
# soak_reserve.sh [BUILD_DIR] - long run of the healing-reserve property test
# (tests/unit/placement/test_reserve_exact.c): SEEDS random 10-18-host
# clusters (default 1000, from SEED0 = 1), every accepted placement checked
# by brute force of every host and rack failure, every refusal checked for
# a placement that existed. Not in the default suite (minutes, not seconds).
# Prints the figures line; exits nonzero on an unsound accept, a member
# lost by evacuate-plan or a deletion that broke the condition.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-$top/build}
bin=$build/tests/unit/placement/unit_placement_reserve_exact
[ -x "$bin" ] || { echo "soak_reserve.sh: $bin not built" >&2; exit 2; }
# BUDGET: brute-force search nodes per domain check (lower = faster, more
# checks reported undecided).
PLC_EXACT_SEEDS=${SEEDS:-1000} PLC_EXACT_SEED0=${SEED0:-1} PLC_EXACT_BUDGET=${BUDGET:-300000} "$bin"
