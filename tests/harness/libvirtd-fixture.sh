#!/usr/bin/env bash
# ctest fixture: "start" makes sure libvirtd answers on qemu:///system, starting
# it with the setup script's own functions when needed, and leaves a marker so
# that "stop" stops only a daemon the suite started. It never fails the suite
# on a machine that cannot run libvirtd: the tests that need it skip (77) and
# say why.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/scripts/lib/daemons.sh"
marker="${2:-.}/tests/libvirtd-started-by-suite"

case "${1:-}" in
start)
    if virsh -q -c qemu:///system version >/dev/null 2>&1; then
        echo "libvirtd already answers on qemu:///system"
        exit 0
    fi
    if [ "$(id -u)" != 0 ] || ! command -v libvirtd >/dev/null; then
        echo "cannot start libvirtd here (not root or not installed); libvirt tests will skip"
        exit 0
    fi
    had_virtlogd=0
    pgrep -x virtlogd >/dev/null && had_virtlogd=1
    vmmgr_ensure_users
    vmmgr_configure_qemu
    if vmmgr_start_libvirtd; then
        mkdir -p "$(dirname "$marker")"
        echo "virtlogd=$((1 - had_virtlogd))" >"$marker"
    fi
    exit 0
    ;;
stop)
    # Test domains are named vmmgr-test-<tag>-<pid of the test>: one whose
    # test process is gone was leaked by that test (a bug); report and remove
    # it. Domains of tests still running (another suite) are left alone.
    for d in $(virsh -q -c qemu:///system list --all --name 2>/dev/null | grep '^vmmgr-test-' || true); do
        owner=${d##*-}
        case "$owner" in *[!0-9]*|'') owner=0 ;; esac
        if [ "$owner" -gt 0 ] && kill -0 "$owner" 2>/dev/null; then
            continue
        fi
        echo "leftover test domain: $d" >&2
        virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1
        virsh -q -c qemu:///system undefine "$d" >/dev/null 2>&1
        status=1
    done
    if [ -f "$marker" ]; then
        vmmgr_stop_libvirtd
        grep -q 'virtlogd=1' "$marker" && vmmgr_stop_virtlogd
        rm -f "$marker"
    fi
    exit ${status:-0}
    ;;
*)
    echo "usage: $0 start|stop BINARY_DIR" >&2
    exit 2
    ;;
esac
