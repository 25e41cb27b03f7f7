# scripts/lib/ovs.sh - a private Open vSwitch (ovsdb-server + ovs-vswitchd) for
# tests and benchmarks, started without systemd and without the kernel module.
#
# The libvirtd counterpart is scripts/lib/daemons.sh. Everything lives in one
# directory ($VMMGR_OVS_DIR): the database (created from Debian's
# vswitch.ovsschema), the sockets, pidfiles and logs, so several runs can
# coexist with each other and with a system OVS. ovs-vswitchd runs with
# --disable-system; bridges must use datapath_type=netdev (the userspace
# datapath), which vmmgr_ovs_add_bridge does.
#
#   . scripts/lib/ovs.sh
#   vmmgr_ovs_start /tmp/vmmgr-test-x-ovs || exit 77   # prints why on failure
#   vsctl add-br br0 ...                                # ovs-vsctl on this instance
#   vmmgr_ovs_stop
#
# After vmmgr_ovs_start: VMMGR_OVS_DIR, VMMGR_OVS_DB_SOCK (unix socket path,
# the driver's target is "unix:$VMMGR_OVS_DB_SOCK"), and OVS_RUNDIR etc.
# exported so ovs-vsctl/ovs-appctl find this instance.

vmmgr_ovs_say() { printf 'vmmgr-ovs: %s\n' "$*" >&2; }

vmmgr_ovs_schema() {
    local s
    for s in /usr/share/openvswitch/vswitch.ovsschema /usr/local/share/openvswitch/vswitch.ovsschema; do
        [ -r "$s" ] && { echo "$s"; return 0; }
    done
    return 1
}

# Why OVS cannot run here, or nothing (status 0) if it can.
vmmgr_ovs_missing() {
    local t
    for t in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-appctl; do
        command -v "$t" >/dev/null || { echo "$t not found (install openvswitch-switch)"; return 1; }
    done
    vmmgr_ovs_schema >/dev/null || { echo "vswitch.ovsschema not found"; return 1; }
    return 0
}

vmmgr_ovs_wait_file() { # PATH [tenths of s]
    local i
    for i in $(seq 1 "${2:-100}"); do
        [ -e "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# Starts ovsdb-server only (the database; vmmgr_ovs_start_vswitchd adds the
# switch). Used on its own to restart the database under a running test.
vmmgr_ovs_start_db() {
    local d=$VMMGR_OVS_DIR
    rm -f "$d/db.sock"
    ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" \
        --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
        --pidfile="$d/ovsdb-server.pid" --unixctl="$d/ovsdb-server.ctl" \
        --log-file="$d/ovsdb-server.log" --detach --no-chdir 2>>"$d/start.err" ||
        { vmmgr_ovs_say "ovsdb-server did not start: $(tail -n1 "$d/start.err")"; return 1; }
    vmmgr_ovs_wait_file "$d/db.sock" || { vmmgr_ovs_say "no $d/db.sock after 10 s"; return 1; }
}

vmmgr_ovs_start_vswitchd() {
    local d=$VMMGR_OVS_DIR
    # The netdev datapath opens its internal ports under the run dir.
    mkdir -p /var/run/openvswitch
    # --enable-dummy=override: every interface (the bridges' internal ports
    # too) is a dummy netdev, so no tap device appears in this machine's
    # network namespace, which other users share; forwarding decisions
    # (ofproto/trace) are the real ones.
    ovs-vswitchd "unix:$d/db.sock" --disable-system --enable-dummy=override \
        --pidfile="$d/ovs-vswitchd.pid" --unixctl="$d/ovs-vswitchd.ctl" \
        --log-file="$d/ovs-vswitchd.log" --detach --no-chdir 2>>"$d/start.err" ||
        { vmmgr_ovs_say "ovs-vswitchd did not start: $(tail -n1 "$d/start.err")"; return 1; }
    vmmgr_ovs_wait_file "$d/ovs-vswitchd.ctl" || { vmmgr_ovs_say "no vswitchd control socket"; return 1; }
}

# vmmgr_ovs_start DIR: a fresh database in DIR, ovsdb-server and ovs-vswitchd.
vmmgr_ovs_start() {
    local why
    why=$(vmmgr_ovs_missing) || { vmmgr_ovs_say "$why"; return 1; }
    export VMMGR_OVS_DIR=$1
    mkdir -p "$VMMGR_OVS_DIR"
    rm -f "$VMMGR_OVS_DIR/conf.db"
    ovsdb-tool create "$VMMGR_OVS_DIR/conf.db" "$(vmmgr_ovs_schema)" ||
        { vmmgr_ovs_say "ovsdb-tool create failed"; return 1; }
    vmmgr_ovs_start_db || return 1
    export VMMGR_OVS_DB_SOCK=$VMMGR_OVS_DIR/db.sock
    export OVS_RUNDIR=$VMMGR_OVS_DIR OVS_DBDIR=$VMMGR_OVS_DIR OVS_LOGDIR=$VMMGR_OVS_DIR
    ovs-vsctl --db="unix:$VMMGR_OVS_DB_SOCK" --no-wait init || return 1
    vmmgr_ovs_start_vswitchd || return 1
    vmmgr_ovs_say "started ovsdb-server and ovs-vswitchd in $VMMGR_OVS_DIR"
}

vmmgr_ovs_kill() { # PIDFILE
    local pid i
    [ -f "$1" ] || return 0
    pid=$(cat "$1" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    return 0
}

vmmgr_ovs_stop_db() { vmmgr_ovs_kill "$VMMGR_OVS_DIR/ovsdb-server.pid"; }

# Stops both daemons of this instance (by their pidfiles only).
vmmgr_ovs_stop() {
    [ -n "${VMMGR_OVS_DIR:-}" ] || return 0
    vmmgr_ovs_kill "$VMMGR_OVS_DIR/ovs-vswitchd.pid"
    vmmgr_ovs_kill "$VMMGR_OVS_DIR/ovsdb-server.pid"
}

# ovs-vsctl and ovs-appctl bound to this instance.
vsctl() { ovs-vsctl --db="unix:$VMMGR_OVS_DB_SOCK" --timeout=10 "$@"; }
vappctl() { ovs-appctl -t "$VMMGR_OVS_DIR/ovs-vswitchd.ctl" "$@"; }

# vmmgr_ovs_add_bridge NAME: a userspace-datapath bridge.
vmmgr_ovs_add_bridge() {
    vsctl -- --may-exist add-br "$1" -- set bridge "$1" datapath_type=netdev
}
