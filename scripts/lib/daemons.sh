# scripts/lib/daemons.sh - functions that prepare this machine to run real guests.
#
# Sourced by scripts/setup.sh (the one-command setup) and by the test harness
# (tests/harness/), so the suite starts libvirtd exactly as an operator's setup
# does. Every function is idempotent and says what it changed. Debian 12 without
# systemd: daemons are started by hand, and qemu must run as root.

vmmgr_say() { printf 'vmmgr-setup: %s\n' "$*" >&2; }

# Users and group that Debian's libvirt was built for.
vmmgr_ensure_users() {
    if ! getent group kvm >/dev/null; then
        groupadd --system kvm && vmmgr_say "created group 'kvm'"
    fi
    if ! getent passwd libvirt-qemu >/dev/null; then
        useradd --system --gid kvm --home-dir /var/lib/libvirt --no-create-home \
            --shell /usr/sbin/nologin libvirt-qemu && vmmgr_say "created user 'libvirt-qemu'"
    fi
    if [ -e /dev/kvm ] && [ "$(stat -c %G /dev/kvm)" != kvm ]; then
        chgrp kvm /dev/kvm && chmod 0660 /dev/kvm && vmmgr_say "gave /dev/kvm to group 'kvm'"
    fi
    return 0
}

# qemu.conf: without systemd (and without a session manager giving the qemu
# user access to /dev/kvm and the state dirs) guests must run as root.
# Sets KEY = VALUE, replacing a commented or active line, or appending one.
vmmgr_qemu_conf_set() {
    local conf=/etc/libvirt/qemu.conf key=$1 value=$2
    if grep -Eq "^${key} = ${value}\$" "$conf"; then
        return 1
    fi
    if grep -Eq "^#?${key} = " "$conf"; then
        sed -i -E "0,/^#?${key} = .*/s//${key} = ${value}/" "$conf"
    else
        printf '%s = %s\n' "$key" "$value" >>"$conf"
    fi
    vmmgr_say "qemu.conf: set ${key} = ${value}"
    return 0
}

vmmgr_configure_qemu() {
    local changed=1
    [ -f /etc/libvirt/qemu.conf ] || { vmmgr_say "no /etc/libvirt/qemu.conf: is libvirt installed?"; return 1; }
    vmmgr_qemu_conf_set user '"root"' && changed=0
    vmmgr_qemu_conf_set group '"root"' && changed=0
    # No AppArmor/SELinux profiles are loaded on these machines.
    vmmgr_qemu_conf_set security_driver '"none"' && changed=0
    # A changed config needs a libvirtd restart to take effect.
    if [ $changed = 0 ] && pgrep -x libvirtd >/dev/null; then
        vmmgr_say "restarting libvirtd to load the new qemu.conf"
        vmmgr_stop_libvirtd
    fi
    return 0
}

vmmgr_start_virtlogd() {
    if pgrep -x virtlogd >/dev/null; then
        return 0
    fi
    mkdir -p /run/libvirt /var/log/libvirt/qemu
    virtlogd --daemon
    vmmgr_say "started virtlogd (pid $(pgrep -x virtlogd | head -n1))"
}

vmmgr_wait_libvirt() {
    local i
    for i in $(seq 1 100); do
        if virsh -q -c qemu:///system version >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    vmmgr_say "libvirtd does not answer on qemu:///system after 10 s"
    return 1
}

vmmgr_start_libvirtd() {
    vmmgr_start_virtlogd || return 1
    if pgrep -x libvirtd >/dev/null; then
        vmmgr_wait_libvirt
        return $?
    fi
    mkdir -p /run/libvirt
    libvirtd --daemon
    vmmgr_say "started libvirtd (pid $(pgrep -x libvirtd | head -n1))"
    vmmgr_wait_libvirt
}

vmmgr_stop_libvirtd() {
    local pid i
    pid=$(pgrep -x libvirtd) || return 0
    kill $pid
    for i in $(seq 1 100); do
        pgrep -x libvirtd >/dev/null || { vmmgr_say "stopped libvirtd"; return 0; }
        sleep 0.1
    done
    kill -9 $pid 2>/dev/null
    vmmgr_say "killed libvirtd"
}

vmmgr_stop_virtlogd() {
    pkill -x virtlogd && vmmgr_say "stopped virtlogd"
    return 0
}

# Prints one line on what this host can run: KVM, or QEMU's TCG only.
vmmgr_check_libvirt() {
    local ver
    ver=$(virsh -q -c qemu:///system version 2>&1 | grep -i 'running hypervisor' | head -n1)
    if [ -z "$ver" ]; then
        vmmgr_say "qemu:///system does not answer"
        return 1
    fi
    if [ -w /dev/kvm ]; then
        vmmgr_say "qemu:///system answers (${ver#*: }), KVM available"
    else
        vmmgr_say "qemu:///system answers (${ver#*: }), no /dev/kvm: guests will use TCG"
    fi
}
