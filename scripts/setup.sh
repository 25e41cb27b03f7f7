#!/usr/bin/env bash
# scripts/setup.sh - one idempotent setup for a fresh Debian 12 machine, as root.
#
# Installs every Debian package vmmgr builds, tests and demos with, creates the
# users libvirt needs, writes the qemu.conf settings a machine without systemd
# needs, starts virtlogd and libvirtd when they are not running, and checks that
# qemu:///system answers. Safe to run again: it only changes what is missing.
#
#   scripts/setup.sh            packages + daemons
#   scripts/setup.sh --no-apt   daemons only (packages already there)
#   VMMGR_OPENSTACK=1 scripts/setup.sh   also OpenStack for the Nova tests
#                               (scripts/setup-openstack.sh, about 700 MB)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/daemons.sh"

# Build and run-time dependencies; one list, so the README stays short.
PACKAGES=(
    # build
    cmake pkg-config gcc make clang-format git
    clang libclang-rt-14-dev
    # libraries (pkg-config names in CMakeLists.txt)
    libvirt-dev libxml2-dev libhwloc-dev libnuma-dev libcurl4-openssl-dev libjansson-dev
    libcmocka-dev libmicrohttpd-dev libsqlite3-dev libpcap-dev
    # openstack-shim: crypt(3) for the users file; openssl makes its hashes in tests
    libcrypt-dev openssl
    dpdk dpdk-dev libdpdk-dev
    # hypervisor and topology tools
    libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils
    hwloc numactl sqlite3 procps curl
    # switch (started per test by scripts/lib/ovs.sh), OpenStack client/peer,
    # packet tooling, plots
    openvswitch-switch openvswitch-common python3-openstackclient python3-nova tshark python3-scapy gnuplot-nox
    # healing/: FreeIPMI's C libraries for the IPMI monitor driver, ipmi_sim (openipmi) as a
    # real BMC for the tests, ipmitool and freeipmi-tools to look at it by hand
    libfreeipmi-dev libipmimonitoring-dev freeipmi-tools openipmi ipmitool
)

if [ "$(id -u)" != 0 ]; then
    vmmgr_say "must run as root (it installs packages and starts libvirtd)"
    exit 1
fi

if [ "${1:-}" != --no-apt ]; then
    missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        vmmgr_say "installing ${#missing[@]} Debian packages: ${missing[*]}"
        apt-get update -q
        # tshark asks whether non-root users may capture; answer for it.
        echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        vmmgr_say "all ${#PACKAGES[@]} Debian packages already installed"
    fi
fi

vmmgr_ensure_users
vmmgr_configure_qemu
vmmgr_start_libvirtd
vmmgr_check_libvirt

# Opt-in: a real OpenStack for "Nova as the VIM" (issue 14).
if [ "${VMMGR_OPENSTACK:-0}" = 1 ] && [ "${1:-}" != --no-apt ]; then
    "$here/setup-openstack.sh"
fi
