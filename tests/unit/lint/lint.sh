#!/usr/bin/env bash
# lint.sh format|banned - checks every C source of the project.
#   format: clang-format --dry-run -Werror with the repo's .clang-format
#   banned: no atoi, sprintf, vsprintf, strcpy, strcat, strtok, gets (use
#           strtol, snprintf, memcpy with sizes, strtok_r)
set -u
src=${VMMGR_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
cd "$src" || exit 1
if git rev-parse --git-dir >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
else
    mapfile -t files < <(find . -path ./build\* -prune -o \( -name '*.c' -o -name '*.h' \) -print)
fi
if [ ${#files[@]} -eq 0 ]; then
    echo "lint: no C files found under $src" >&2
    exit 1
fi
case "${1:-}" in
format)
    if ! command -v clang-format >/dev/null; then
        echo "SKIP: clang-format is not installed (scripts/setup.sh installs it)"
        exit 77
    fi
    out=$(clang-format --dry-run -Werror "${files[@]}" 2>&1)
    if [ -n "$out" ]; then
        echo "$out" | grep -E '^[^ ].*: error:' | cut -d: -f1 | sort -u | sed 's/^/needs clang-format: /'
        exit 1
    fi
    echo "lint: ${#files[@]} files formatted"
    ;;
banned)
    hits=$(grep -nE '\b(atoi|sprintf|vsprintf|strcpy|strcat|strtok|gets)[[:space:]]*\(' "${files[@]}" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|//)')
    if [ -n "$hits" ]; then
        echo "banned functions (see tests/unit/lint/lint.sh):"
        echo "$hits"
        exit 1
    fi
    echo "lint: ${#files[@]} files free of banned functions"
    ;;
*)
    echo "usage: lint.sh format|banned" >&2
    exit 2
    ;;
esac
