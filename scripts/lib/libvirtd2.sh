#!/usr/bin/env bash
# scripts/lib/libvirtd2.sh - a second, private libvirt host on this machine.
#
# Migration needs two libvirt hosts. This starts a second libvirtd (and its
# own virtlogd) in a mount namespace of its own (unshare -m) where private
# directories under DIR are bind-mounted over /run/libvirt, /var/lib/libvirt,
# /etc/libvirt, /var/log/libvirt and /var/cache/libvirt, so its sockets,
# domain state, configuration and logs never touch the main libvirtd's. Its
# libvirtd.conf sets a host_uuid of its own (libvirt refuses a migration
# between two hosts with the same UUID). Pid files live in DIR, not in /run.
# From outside the namespace it is reached as
#   qemu+unix:///system?socket=DIR/run/libvirt-sock
# (vmmgrd takes such a URI only through a config uri_alias).
#
#   libvirtd2.sh start DIR    start it (DIR is created; a running one is kept)
#   libvirtd2.sh uri DIR      print its URI
#   libvirtd2.sh stop DIR     destroy its domains, stop both daemons, leave DIR
#
# Guests of the second host run as root like the main host's (qemu.conf is
# copied from /etc/libvirt). cgroups are not used by it (cgroup_controllers =
# []): during a migration the same domain name exists on both hosts and the
# two daemons would otherwise fight over one cgroup directory; pins are then
# applied with sched_setaffinity only, which is what /proc shows.
set -u

l2_say() { printf 'libvirtd2: %s\n' "$*" >&2; }

l2_uri() { printf 'qemu+unix:///system?socket=%s/run/libvirt-sock\n' "$1"; }

l2_alive() { # l2_alive PIDFILE
    [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

l2_answers() {
    virsh -q -c "$(l2_uri "$1")" version >/dev/null 2>&1
}

l2_start() {
    local dir=$1 i uuid
    case "$dir" in /*) ;; *) dir=$(pwd)/$dir ;; esac
    if l2_alive "$dir/libvirtd.pid" && l2_answers "$dir"; then
        l2_say "already running (pid $(cat "$dir/libvirtd.pid"))"
        return 0
    fi
    command -v libvirtd >/dev/null || { l2_say "libvirtd is not installed (scripts/setup.sh)"; return 1; }
    [ "$(id -u)" = 0 ] || { l2_say "must run as root (mount namespace, qemu as root)"; return 1; }
    mkdir -p "$dir"/{run,lib,etc/qemu,log/qemu,cache} || return 1
    # Configuration: qemu.conf as the main host has it, no domains, no
    # autostarted networks, a UUID of its own.
    [ -f /etc/libvirt/qemu.conf ] && cp /etc/libvirt/qemu.conf "$dir/etc/qemu.conf"
    [ -d /etc/libvirt/nwfilter ] && cp -r /etc/libvirt/nwfilter "$dir/etc/"
    printf 'cgroup_controllers = [ ]\n' >>"$dir/etc/qemu.conf"
    if [ ! -f "$dir/host_uuid" ]; then
        uuid=$(cat /proc/sys/kernel/random/uuid)
        echo "$uuid" >"$dir/host_uuid"
    fi
    cat >"$dir/etc/libvirtd.conf" <<EOF
# written by scripts/lib/libvirtd2.sh: the second libvirt host
host_uuid = "$(cat "$dir/host_uuid")"
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
    cat >"$dir/etc/virtlogd.conf" <<EOF
log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
EOF
    # A previous instance's daemons (libvirtd killed, virtlogd left): stopped
    # before the new namespace starts its own.
    l2_stop "$dir" >/dev/null 2>&1
    rm -f "$dir/libvirtd.pid" "$dir/virtlogd.pid"
    # Everything below runs inside the new mount namespace; the daemons keep
    # it alive after this shell exits.
    unshare -m --propagation private bash -c '
        set -e
        d=$1
        mount --bind "$d/run" /run/libvirt 2>/dev/null || { mkdir -p /run/libvirt; mount --bind "$d/run" /run/libvirt; }
        mkdir -p /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt
        mount --bind "$d/lib" /var/lib/libvirt
        mount --bind "$d/etc" /etc/libvirt
        mount --bind "$d/log" /var/log/libvirt
        mount --bind "$d/cache" /var/cache/libvirt
        virtlogd -d -p "$d/virtlogd.pid" -f /etc/libvirt/virtlogd.conf
        libvirtd -d -p "$d/libvirtd.pid" -f /etc/libvirt/libvirtd.conf
    ' libvirtd2 "$dir" || { l2_say "could not start (see $dir/log)"; return 1; }
    for i in $(seq 1 150); do
        if l2_answers "$dir"; then
            l2_say "started libvirtd (pid $(cat "$dir/libvirtd.pid")) on $(l2_uri "$dir")"
            return 0
        fi
        sleep 0.1
    done
    l2_say "no answer on $(l2_uri "$dir") after 15 s"
    l2_stop "$dir"
    return 1
}

l2_stop() {
    local dir=$1 uri p f i
    case "$dir" in /*) ;; *) dir=$(pwd)/$dir ;; esac
    uri=$(l2_uri "$dir")
    if l2_alive "$dir/libvirtd.pid" && l2_answers "$dir"; then
        # Its guests are its own (this host exists only for tests and
        # benchmarks): none must outlive it.
        for p in $(virsh -q -c "$uri" list --all --name 2>/dev/null); do
            virsh -q -c "$uri" destroy "$p" >/dev/null 2>&1
            virsh -q -c "$uri" undefine "$p" >/dev/null 2>&1
        done
    fi
    for f in libvirtd virtlogd; do
        l2_alive "$dir/$f.pid" || continue
        p=$(cat "$dir/$f.pid")
        kill "$p"
        for i in $(seq 1 100); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$p" 2>/dev/null
        rm -f "$dir/$f.pid"
    done
    l2_say "stopped"
    return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case "${1:-}:${2:-}" in
    start:?*) l2_start "$2" ;;
    stop:?*) l2_stop "$2" ;;
    uri:?*) l2_uri "$2" ;;
    *)
        echo "usage: $0 start|stop|uri DIR" >&2
        exit 2
        ;;
    esac
fi
