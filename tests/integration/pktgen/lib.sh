# tests/integration/pktgen/lib.sh - sourced by the memif end-to-end tests.
#
# pktgen_wait_ready LOG PID : waits (up to 30 s) until the generator PID has
# started its ports, which it says on stderr (captured in LOG). A memif client
# must not connect before that: DPDK 22.11's memif server refuses a client
# while its own port is stopped, and the client (dpdk-testpmd; the sample VNFs
# without --link-wait) never tries again. The socket file alone is not enough:
# it exists from EAL init on, before the port is started. Returns 1, after
# printing why, if the generator exits or does not get there in time.
pktgen_wait_ready() {
    local log=$1 pid=$2
    for _ in $(seq 300); do
        grep -q '^vmmgr-pktgen: .* port(s) started' "$log" 2>/dev/null && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "the generator exited before starting its ports" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "the generator did not start its ports within 30 s" >&2
    return 1
}
