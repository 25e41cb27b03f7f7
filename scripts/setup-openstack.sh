#!/usr/bin/env bash
# scripts/setup-openstack.sh - the opt-in part of setup: a real OpenStack
# (Keystone, Placement, Glance, Nova with the fake and the libvirt compute
# drivers, MariaDB, RabbitMQ; Debian 12's Zed packages, about 700 MB) for
# vmmgrd's "Nova as the VIM" tests and benchmark. Without it those tests
# skip and name the missing package. Also run by `VMMGR_OPENSTACK=1
# scripts/setup.sh`. Installs only; scripts/lib/openstack.sh starts and
# stops the services (no systemd unit is enabled or started).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/openstack.sh"

if [ "$(id -u)" != 0 ]; then
    vmmgr_os_say "must run as root (it installs packages)"
    exit 1
fi
if miss=$(vmmgr_os_missing); then
    vmmgr_os_say "all OpenStack packages already installed"
    exit 0
fi
vmmgr_os_say "installing OpenStack (first missing: $miss; about 700 MB, a few minutes)"
apt-get update -q
# The daemons are started by scripts/lib/openstack.sh, never by the packages.
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q nova-api nova-conductor nova-scheduler placement-api keystone \
    python3-nova rabbitmq-server python3-openstackclient
# nova-compute without its recommends: those pull libguestfs and with it a
# whole kernel image (linux-image-*) that the libvirt driver does not need.
apt-get install -y -q --no-install-recommends nova-compute python3-libvirt glance-api \
    mariadb-server python3-pymysql
miss=$(vmmgr_os_missing) && vmmgr_os_say "OpenStack installed" ||
    { vmmgr_os_say "'$miss' is still missing"; exit 1; }
