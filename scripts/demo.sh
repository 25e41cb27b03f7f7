#!/usr/bin/env bash
# scripts/demo.sh - the main job: show what vmmgr decides for this machine.
#
# Until vmmgrd lands (issue 5) the demo is offline: it prints this host's CPU
# topology as hwloc sees it, the exclusive pin plan for a 4-vCPU VNF on a
# simulated 2-socket server (one NUMA node and 16 cores x 2 threads per
# socket, 2 PUs reserved for the host), with the libvirt <cputune> fragment vmmgr would apply, and a
# mixed plan (vCPU 0 shared, vCPUs 1-3 exclusive) for the same VNF shape.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
ctl=${VMMGR_BUILD_DIR:-$src/build}/vmmgr/ctl/vmmgrctl
server="package:2 numa:1 core:16 pu:2"

step() { printf '\n== %s\n' "$*"; }

step "This host's CPU topology (live hwloc)"
"$ctl" topology

step "Simulated server: $server"
"$ctl" topology --synthetic "$server"

step "Exclusive pin plan for a 4-vCPU VNF (isolate SMT siblings; CPUs 0-1 reserved for the host)"
"$ctl" plan --synthetic "$server" --reserved 0-1 --vcpus 4 --cpu-mode exclusive \
    --thread-policy isolate --emulator reserved

step "The libvirt fragment vmmgr applies for it"
"$ctl" plan --synthetic "$server" --reserved 0-1 --vcpus 4 --cpu-mode exclusive \
    --thread-policy isolate --emulator reserved --xml

step "Usual VNF shape: vCPU 0 shared (control), vCPUs 1-3 exclusive (data plane)"
"$ctl" plan --synthetic "$server" --reserved 0-1 --vcpus 4 --cpu-mode exclusive \
    --shared-vcpus 0 --emulator shared

printf '\nNothing was started or defined; there is nothing to tear down.\n'
