# scripts/lib/ipmisim.sh - OpenIPMI's ipmi_sim as a real BMC on 127.0.0.1,
# for healing/'s tests and benchmarks.
#
# Sourced by tests (tests/integration/healing/) and perf/healing/. One
# simulated BMC per directory: its lan.conf, command file, state dir, the
# password file a monitor reads (0600), and a "host": a process whose life is
# the chassis power. ipmi_sim asks the chassis script for the power state and
# calls it to power off/on (lan.conf's chassis_control), so a fence through
# IPMI really stops the host process, and a test can check that it is gone.
# (lan.conf's startcmd alone is not enough: ipmi_sim 2.0.33 then reports power
# on but answers Chassis Control power down with "invalid data field", as
# power control goes through a VM serial channel that is not there.)
#
#   vmmgr_ipmisim_start DIR PORT   start a BMC (host powered on); 1 if ipmi_sim cannot run
#   vmmgr_ipmisim_stop DIR         stop it and its host; idempotent
#   vmmgr_ipmisim_ipmitool DIR ARGS...   ipmitool -I lanplus -C 3 against it
#   vmmgr_ipmisim_inject DIR KIND  add a SEL entry: uecc | ierr | thermal | psu | watchdog | other
#   vmmgr_ipmisim_free_port        print a free UDP port on 127.0.0.1
#
# Facts this relies on (DESIGN.md): `mc_setbmc 0x20` must come before `mc_add`
# in the command file, the LAN channel is started on 127.0.0.1 with its own
# port, the state dir must exist, and the user has admin privilege.

vmmgr_ipmisim_say() { printf 'vmmgr-ipmisim: %s\n' "$*" >&2; }

VMMGR_IPMISIM_USER=${VMMGR_IPMISIM_USER:-vmmgr}
VMMGR_IPMISIM_PASSWORD=${VMMGR_IPMISIM_PASSWORD:-fence-me-now}

vmmgr_ipmisim_free_port() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The chassis control program ipmi_sim runs: "chassis DIR get power" prints
# power:0|1, "chassis DIR set power 0|1" stops or starts the host process.
vmmgr_ipmisim_write_chassis() {
    local dir=$1
    cat >"$dir/chassis" <<'SCRIPT'
#!/bin/sh
dir=$1; op=$2; shift 2
alive() { [ -f "$dir/host.pid" ] && kill -0 "$(cat "$dir/host.pid")" 2>/dev/null; }
case $op in
get)
    for p in "$@"; do
        case $p in
        power) if alive; then echo power:1; else echo power:0; fi ;;
        boot) echo boot:default ;;
        *) echo "unknown parameter $p"; exit 1 ;;
        esac
    done ;;
set)
    while [ $# -ge 2 ]; do
        p=$1; v=$2; shift 2
        case $p in
        power)
            if [ "$v" = 0 ]; then
                if alive; then kill -9 "$(cat "$dir/host.pid")"; fi
                rm -f "$dir/host.pid"
            elif ! alive; then
                setsid sleep 1000000 </dev/null >/dev/null 2>&1 &
                echo $! >"$dir/host.pid"
            fi ;;
        reset|boot|identify) ;;
        *) echo "unknown parameter $p"; exit 1 ;;
        esac
    done ;;
*) exit 1 ;;
esac
exit 0
SCRIPT
    chmod 0755 "$dir/chassis"
}

vmmgr_ipmisim_start() {
    local dir=$1 port=$2 i
    command -v ipmi_sim >/dev/null || { vmmgr_ipmisim_say "ipmi_sim not installed (Debian package openipmi)"; return 1; }
    command -v ipmitool >/dev/null || { vmmgr_ipmisim_say "ipmitool not installed"; return 1; }
    mkdir -p "$dir/state" && chmod 0700 "$dir"
    vmmgr_ipmisim_write_chassis "$dir"
    echo "$port" >"$dir/port"
    (umask 077; printf '%s\n' "$VMMGR_IPMISIM_PASSWORD" >"$dir/bmc.pw")
    (umask 077; cat >"$dir/lan.conf" <<CONF
name "vmmgr-ipmisim"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 $port
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "$dir/chassis $dir"
  user 2 true "$VMMGR_IPMISIM_USER" "$VMMGR_IPMISIM_PASSWORD" admin 10 none md2 md5 straight
CONF
)
    cat >"$dir/cmds.emu" <<'EMU'
mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
EMU
    "$dir/chassis" "$dir" set power 1
    ipmi_sim -n -c "$dir/lan.conf" -f "$dir/cmds.emu" -s "$dir/state" >"$dir/ipmi_sim.log" 2>&1 &
    echo $! >"$dir/ipmi_sim.pid"
    for i in $(seq 1 50); do
        if vmmgr_ipmisim_ipmitool "$dir" chassis power status >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$(cat "$dir/ipmi_sim.pid")" 2>/dev/null || break
        sleep 0.1
    done
    vmmgr_ipmisim_say "ipmi_sim on 127.0.0.1:$port does not answer; its log:"
    cat "$dir/ipmi_sim.log" >&2
    vmmgr_ipmisim_stop "$dir"
    return 1
}

vmmgr_ipmisim_stop() {
    local dir=$1 pid
    if [ -f "$dir/ipmi_sim.pid" ]; then
        pid=$(cat "$dir/ipmi_sim.pid")
        kill -CONT "$pid" 2>/dev/null
        kill "$pid" 2>/dev/null
        rm -f "$dir/ipmi_sim.pid"
    fi
    if [ -f "$dir/host.pid" ]; then
        kill -9 "$(cat "$dir/host.pid")" 2>/dev/null
        rm -f "$dir/host.pid"
    fi
    return 0
}

# The password goes through a file (-f), never on the command line.
vmmgr_ipmisim_ipmitool() {
    local dir=$1
    shift
    ipmitool -I lanplus -C 3 -N 1 -R 2 -H 127.0.0.1 -p "$(cat "$dir/port")" \
        -U "$VMMGR_IPMISIM_USER" -f "$dir/bmc.pw" "$@"
}

# Add SEL Entry (NetFn storage 0x0a, cmd 0x44): a system event record from
# the BMC (generator 0x20), EvM rev 0x04, sensor type/number, event type
# 0x6f (sensor-specific) and the offset in event data 1.
vmmgr_ipmisim_inject() {
    local dir=$1 kind=$2 type offset
    case $kind in
    uecc) type=0x0c offset=0x01 ;;
    ierr) type=0x07 offset=0x00 ;;
    thermal) type=0x07 offset=0x01 ;;
    psu) type=0x08 offset=0x01 ;;
    watchdog) type=0x23 offset=0x01 ;;
    other) type=0x0c offset=0x00 ;;
    *) vmmgr_ipmisim_say "unknown SEL kind '$kind'"; return 2 ;;
    esac
    vmmgr_ipmisim_ipmitool "$dir" raw 0x0a 0x44 0x00 0x00 0x02 0 0 0 0 0x20 0x00 0x04 \
        "$type" 0x01 0x6f "$offset" 0xff 0xff >/dev/null
}
