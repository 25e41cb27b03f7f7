#!/usr/bin/env bash
# scripts/lib/openstack.sh - a private, real OpenStack (Keystone, Placement,
# Glance, Nova) on this machine for vmmgr's "Nova as the VIM" tests and
# benchmark (docs/vmmgrd.md "Nova as the VIM"). Debian 12's Zed packages
# (scripts/setup-openstack.sh installs them), loopback only, as root, without
# systemd. Neutron is replaced by a small stub (scripts/lib/os_fakeneutron.py)
# because Nova's server show asks it for ports.
#
# Two compute hosts:
#   compute-0  nova-compute with the fake virt driver (no libvirt domain);
#   compute-1  nova-compute with the libvirt driver (virt_type qemu, TCG
#              without /dev/kvm) on this machine's libvirtd (qemu:///system):
#              its servers are real domains instance-XXXXXXXX.
# (A second libvirt-driver compute on the same libvirtd is not possible: both
# would report this machine's hostname as their hypervisor, and Placement
# refuses a second resource provider of the same name.)
#
#   bash scripts/lib/openstack.sh up      start (or reuse a running one); prints the env
#   bash scripts/lib/openstack.sh down    stop everything it started, by recorded pid
#   bash scripts/lib/openstack.sh status  exit 0 if it answers
#   bash scripts/lib/openstack.sh missing prints the missing package, exit 1 (nothing: 0)
#   . scripts/lib/openstack.sh            the functions (vmmgr_os_*) and variables
#
# Everything lives in $VMMGR_OS_DIR (default /tmp/vmmgr-os); ports are
# $VMMGR_OS_PORT_BASE + offset (default 25000: Keystone 25000, Nova 25774,
# Placement 25778, Glance 25292, the Neutron stub 25696, MariaDB 25306,
# RabbitMQ 25672/25673, epmd 25369), so it coexists with other OpenStacks.
# Credentials: admin / secret, project admin (vmmgr_os_env prints OS_*).
# Users that start and stop it (test_nova.sh, perf/nova/run.sh) hold
# flock "$VMMGR_OS_DIR.lock" meanwhile, so concurrent runs take turns.
# VMMGR_OS_PKGS overrides the package list vmmgr_os_missing checks (a test
# of the skip path names a package that does not exist).

VMMGR_OS_DIR=${VMMGR_OS_DIR:-/tmp/vmmgr-os}
VMMGR_OS_PORT_BASE=${VMMGR_OS_PORT_BASE:-25000}
_os_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_P=$VMMGR_OS_PORT_BASE
VMMGR_OS_KEYSTONE=http://127.0.0.1:$((_P + 0))/v3
VMMGR_OS_NOVA=http://127.0.0.1:$((_P + 774))/v2.1
VMMGR_OS_PKGS=${VMMGR_OS_PKGS:-"nova-api nova-conductor nova-scheduler nova-compute placement-api keystone python3-nova rabbitmq-server python3-openstackclient glance-api mariadb-server python3-pymysql"}

vmmgr_os_say() { printf 'vmmgr-openstack: %s\n' "$*" >&2; }

# The first missing package (what a skipping test names), or nothing.
vmmgr_os_missing() {
    local p
    for p in $VMMGR_OS_PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            { echo "$p"; return 1; }
    done
    command -v virsh >/dev/null || { echo "libvirt-clients"; return 1; }
    return 0
}

vmmgr_os_env() {
    cat <<EOF
export OS_AUTH_URL=$VMMGR_OS_KEYSTONE OS_USERNAME=admin OS_PASSWORD=secret OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3
export OS_REGION_NAME=RegionOne OS_INTERFACE=public
EOF
}

vmmgr_os_status() {
    [ -f "$VMMGR_OS_DIR/ready" ] &&
        curl -s -o /dev/null -m 3 "$VMMGR_OS_KEYSTONE" &&
        curl -s -o /dev/null -m 3 "${VMMGR_OS_NOVA%/v2.1}/"
}

_os_wait_http() {
    local i c
    for i in $(seq 1 480); do
        c=$(curl -s -o /dev/null -m 2 -w "%{http_code}" "$1" || true)
        case "$c" in 200 | 300 | 401) return 0 ;; esac
        sleep 0.25
    done
    vmmgr_os_say "timeout waiting for $1"
    return 1
}

_os_el() { vmmgr_os_say "[$(($(date +%s) - _os_t0)) s] $*"; }

_os_rmqctl() {
    HOME=$VMMGR_OS_DIR/rabbit RABBITMQ_NODENAME=vmmgr@localhost ERL_EPMD_PORT=$((_P + 369)) \
        RABBITMQ_MNESIA_BASE=$VMMGR_OS_DIR/rabbit/mnesia /usr/lib/rabbitmq/bin/rabbitmqctl "$@"
}

# Starts a recorded background process: _os_run NAME COMMAND...
_os_run() {
    local name=$1
    shift
    "$@" >"$VMMGR_OS_DIR/logs/$name.log" 2>&1 &
    echo $! >"$VMMGR_OS_DIR/pids/$name"
}

_os_nova_compute() { # NAME CONF
    _os_run "$1" /usr/bin/python3 -c \
        'import sys; from nova.cmd.compute import main; sys.argv[0]="nova-compute"; sys.exit(main())' \
        --config-file "$2"
}

_os_map_host() { # HOST: map it into cell1 (else os-hypervisors and the scheduler do not see it)
    local i
    for i in $(seq 1 120); do
        nova-manage --config-file "$B/nova/nova.conf" cell_v2 discover_hosts >/dev/null 2>&1 || true
        mariadb --no-defaults -S "$B/mysql/sock" -uroot -N -e "select host from nova_api.host_mappings" \
            2>/dev/null | grep -qx "$1" && return 0
        sleep 1
    done
    vmmgr_os_say "compute host $1 was not mapped in 120 s (see $B/logs/$1.log)"
    return 1
}

vmmgr_os_up() {
    local miss
    if vmmgr_os_status; then
        vmmgr_os_say "already running in $VMMGR_OS_DIR (reused)"
        return 0
    fi
    if ! miss=$(vmmgr_os_missing); then
        vmmgr_os_say "package '$miss' is not installed (scripts/setup-openstack.sh installs OpenStack)"
        return 1
    fi
    [ -d "$VMMGR_OS_DIR/pids" ] && vmmgr_os_down
    _os_t0=$(date +%s)
    local B=$VMMGR_OS_DIR
    rm -rf "$B"
    mkdir -p "$B"/{mysql,rabbit,keystone,placement,glance/images,glance/staging,glance/tasks,pids,logs}
    mkdir -p "$B"/nova/{state,lock,instances,state-lv,lock-lv,instances-lv}
    local DB="mysql+pymysql://os:secret@127.0.0.1:$((_P + 306))"
    # MariaDB
    mariadb-install-db --no-defaults --user=root --datadir="$B/mysql/data" \
        --auth-root-authentication-method=normal >"$B/logs/mysql-install.log" 2>&1 || return 1
    _os_run mariadbd mariadbd --no-defaults --user=root --datadir="$B/mysql/data" --socket="$B/mysql/sock" \
        --port=$((_P + 306)) --bind-address=127.0.0.1 --log-error="$B/logs/mysql.err" \
        --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=0 --skip-name-resolve \
        --max-connections=500
    # epmd + RabbitMQ
    _os_run epmd epmd -address 127.0.0.1 -port $((_P + 369))
    echo "listeners.tcp.default = 127.0.0.1:$((_P + 672))" >"$B/rabbit/rabbitmq.conf"
    echo "[]." >"$B/rabbit/enabled_plugins"
    _os_run rabbit env HOME="$B/rabbit" RABBITMQ_NODENAME=vmmgr@localhost \
        RABBITMQ_CONFIG_FILE="$B/rabbit/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$B/rabbit/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="$B/rabbit/mnesia" RABBITMQ_LOG_BASE="$B/rabbit/log" \
        RABBITMQ_DIST_PORT=$((_P + 673)) ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT=$((_P + 369)) \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
        /usr/lib/rabbitmq/bin/rabbitmq-server
    local i
    for i in $(seq 1 240); do
        mariadb --no-defaults -S "$B/mysql/sock" -uroot -e "select 1" >/dev/null 2>&1 && break
        sleep 0.25
    done
    mariadb --no-defaults -S "$B/mysql/sock" -uroot -e "CREATE DATABASE keystone; CREATE DATABASE nova_api;
        CREATE DATABASE nova; CREATE DATABASE nova_cell0; CREATE DATABASE placement; CREATE DATABASE glance;
        CREATE USER 'os'@'127.0.0.1' IDENTIFIED BY 'secret'; GRANT ALL PRIVILEGES ON *.* TO 'os'@'127.0.0.1';" ||
        return 1
    _os_el "mariadb up"
    local AUTH="auth_url = $VMMGR_OS_KEYSTONE
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
password = secret"
    cat >"$B/keystone/keystone.conf" <<EOF
[database]
connection = $DB/keystone
[token]
provider = fernet
[fernet_tokens]
key_repository = $B/keystone/fernet-keys
[fernet_receipts]
key_repository = $B/keystone/fernet-keys
[credential]
key_repository = $B/keystone/credential-keys
EOF
    cat >"$B/placement/placement.conf" <<EOF
[api]
auth_strategy = keystone
[keystone_authtoken]
www_authenticate_uri = $VMMGR_OS_KEYSTONE
$AUTH
username = placement
[placement_database]
connection = $DB/placement
EOF
    cat >"$B/glance/glance-api.conf" <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $((_P + 292))
workers = 1
enabled_backends = fs:file
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $B/glance/images
[os_glance_staging_store]
filesystem_store_datadir = $B/glance/staging
[os_glance_tasks_store]
filesystem_store_datadir = $B/glance/tasks
[database]
connection = $DB/glance
[keystone_authtoken]
www_authenticate_uri = $VMMGR_OS_KEYSTONE
$AUTH
username = glance
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
EOF
    cat >"$B/nova/nova.conf" <<EOF
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:$((_P + 672))/
compute_driver = fake.FakeDriver
state_path = $B/nova/state
instances_path = $B/nova/instances
my_ip = 127.0.0.1
host = compute-0
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = $((_P + 774))
osapi_compute_workers = 1
shutdown_timeout = 5
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 2
[api_database]
connection = $DB/nova_api
[database]
connection = $DB/nova
[keystone_authtoken]
www_authenticate_uri = $VMMGR_OS_KEYSTONE
$AUTH
username = nova
[placement]
$AUTH
username = placement
region_name = RegionOne
valid_interfaces = public
[neutron]
$AUTH
username = nova
region_name = RegionOne
valid_interfaces = public
[glance]
valid_interfaces = public
region_name = RegionOne
[oslo_concurrency]
lock_path = $B/nova/lock
[oslo_messaging_notifications]
driver = noop
[vnc]
enabled = false
EOF
    local NC="--config-file $B/nova/nova.conf"
    local KM="keystone-manage --config-file $B/keystone/keystone.conf"
    (
        $KM db_sync && $KM fernet_setup --keystone-user root --keystone-group root &&
            $KM credential_setup --keystone-user root --keystone-group root &&
            $KM bootstrap --bootstrap-password secret --bootstrap-username admin \
                --bootstrap-project-name admin --bootstrap-role-name admin \
                --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
                --bootstrap-admin-url "$VMMGR_OS_KEYSTONE/" --bootstrap-internal-url "$VMMGR_OS_KEYSTONE/" \
                --bootstrap-public-url "$VMMGR_OS_KEYSTONE/"
    ) >"$B/logs/keystone-manage.log" 2>&1 &
    local KS=$!
    placement-manage --config-file "$B/placement/placement.conf" db sync >"$B/logs/placement-manage.log" 2>&1 &
    local PL=$!
    glance-manage --config-file "$B/glance/glance-api.conf" db_sync >"$B/logs/glance-manage.log" 2>&1 &
    local GL=$!
    (
        nova-manage $NC api_db sync && nova-manage $NC cell_v2 map_cell0 --database_connection "$DB/nova_cell0" &&
            nova-manage $NC cell_v2 create_cell --name cell1 && nova-manage $NC db sync
    ) >"$B/logs/nova-manage.log" 2>&1 &
    local NV=$!
    wait $KS || { vmmgr_os_say "keystone-manage failed (see $B/logs/keystone-manage.log)"; return 1; }
    _os_run keystone uwsgi --plugin python3 --http-socket 127.0.0.1:$((_P + 0)) \
        --wsgi-file /usr/bin/keystone-wsgi-public --master --processes 2 --threads 1 \
        --add-header "Connection: close" --env OS_KEYSTONE_CONFIG_FILES="$B/keystone/keystone.conf" --die-on-term
    _os_wait_http "$VMMGR_OS_KEYSTONE" || return 1
    _os_el "keystone up"
    OS_PORT_BASE=$_P /usr/bin/python3 "$_os_here/os_register.py" >"$B/logs/register.log" 2>&1 ||
        { vmmgr_os_say "registering the catalog failed (see $B/logs/register.log)"; return 1; }
    _os_run fakeneutron env B="$B" OS_PORT_BASE=$_P /usr/bin/python3 "$_os_here/os_fakeneutron.py"
    wait $PL
    _os_run placement uwsgi --plugin python3 --http-socket 127.0.0.1:$((_P + 778)) \
        --wsgi-file /usr/bin/placement-api --master --processes 2 --threads 1 \
        --add-header "Connection: close" --env OS_PLACEMENT_CONFIG_DIR="$B/placement" --die-on-term
    wait $GL
    _os_run glance glance-api --config-file "$B/glance/glance-api.conf"
    wait $NV || { vmmgr_os_say "nova-manage failed (see $B/logs/nova-manage.log)"; return 1; }
    for i in $(seq 1 240); do
        ss -ltn | grep -q "127.0.0.1:$((_P + 672)) " && break
        sleep 0.25
    done
    _os_el "databases ready, rabbit up"
    _os_run nova-conductor nova-conductor $NC
    _os_run nova-scheduler nova-scheduler $NC
    _os_run nova-api nova-api $NC
    # nova-compute pings the conductor at start and waits 60 s if its queue is missing
    for i in $(seq 1 240); do
        _os_rmqctl -q list_queues name 2>/dev/null | grep -q '^conductor$' && break
        sleep 0.5
    done
    _os_nova_compute compute-0 "$B/nova/nova.conf"
    # compute-1: the libvirt driver on qemu:///system
    sed -e 's/^compute_driver = fake.FakeDriver/compute_driver = libvirt.LibvirtDriver/' \
        -e 's/^host = compute-0/host = compute-1/' \
        -e "s|^instances_path = .*|instances_path = $B/nova/instances-lv|" \
        -e "s|^state_path = .*|state_path = $B/nova/state-lv|" \
        -e "s|^lock_path = .*|lock_path = $B/nova/lock-lv|" "$B/nova/nova.conf" >"$B/nova/nova-lv.conf"
    printf '[libvirt]\nvirt_type = qemu\nconnection_uri = qemu:///system\ncpu_mode = none\n[workarounds]\ndisable_rootwrap = True\n' \
        >>"$B/nova/nova-lv.conf"
    _os_nova_compute compute-1 "$B/nova/nova-lv.conf"
    _os_wait_http "http://127.0.0.1:$((_P + 778))/" && _os_wait_http "http://127.0.0.1:$((_P + 292))/" &&
        _os_wait_http "${VMMGR_OS_NOVA%/v2.1}/" || return 1
    _os_el "placement, glance, nova-api answering"
    eval "$(vmmgr_os_env)"
    head -c 1048576 /dev/zero >"$B/tiny.img"
    openstack image create --file "$B/tiny.img" --disk-format raw --container-format bare --public cirros \
        -f value -c id >"$B/image-id" || return 1
    _os_map_host compute-0 && _os_map_host compute-1 || return 1
    # The scheduler learns the mapped hosts within discover_hosts_in_cells_interval.
    for i in $(seq 1 120); do
        [ "$(openstack hypervisor list -f value -c State 2>/dev/null | grep -c up)" -ge 2 ] && break
        sleep 1
    done
    touch "$B/ready"
    _os_el "READY: compute-0 (fake), compute-1 (libvirt)"
}

vmmgr_os_down() {
    local B=$VMMGR_OS_DIR p pid
    [ -d "$B/pids" ] || return 0
    rm -f "$B/ready"
    for p in compute-1 compute-0 nova-api nova-scheduler nova-conductor glance placement keystone fakeneutron rabbit; do
        [ -f "$B/pids/$p" ] && kill "$(cat "$B/pids/$p")" 2>/dev/null
    done
    sleep 3
    # rabbit's beam.smp is a child of the recorded process; by its listening port
    for pid in $(ss -ltnp 2>/dev/null | grep -E "127.0.0.1:($((_P + 672))|$((_P + 673))) " |
        grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
        kill "$pid" 2>/dev/null
    done
    [ -f "$B/pids/mariadbd" ] && kill "$(cat "$B/pids/mariadbd")" 2>/dev/null
    sleep 2
    [ -f "$B/pids/epmd" ] && kill "$(cat "$B/pids/epmd")" 2>/dev/null
    # Domains compute-1 made and nobody deleted (a test killed midway).
    for d in $(virsh -q -c qemu:///system list --all --name 2>/dev/null | grep '^instance-'); do
        if virsh -c qemu:///system dumpxml "$d" 2>/dev/null | grep -q "$B/nova/instances-lv"; then
            virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1
            virsh -q -c qemu:///system undefine "$d" >/dev/null 2>&1
        fi
    done
    rm -rf "$B/pids"
    return 0
}

# Stops / starts one service (the tests' "Nova down" step).
vmmgr_os_stop_service() { # NAME
    local f=$VMMGR_OS_DIR/pids/$1
    [ -f "$f" ] || return 1
    kill "$(cat "$f")" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$(cat "$f")" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$(cat "$f")" 2>/dev/null
    return 0
}
vmmgr_os_start_service() { # nova-api
    local B=$VMMGR_OS_DIR
    case "$1" in
    nova-api) _os_run nova-api nova-api --config-file "$B/nova/nova.conf" ;;
    *) return 1 ;;
    esac
    _os_wait_http "${VMMGR_OS_NOVA%/v2.1}/"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case "${1:-}" in
    up) vmmgr_os_up && vmmgr_os_env ;;
    down) vmmgr_os_down ;;
    status) vmmgr_os_status ;;
    missing) vmmgr_os_missing ;;
    env) vmmgr_os_env ;;
    *)
        echo "usage: $0 up|down|status|missing|env" >&2
        exit 2
        ;;
    esac
fi
