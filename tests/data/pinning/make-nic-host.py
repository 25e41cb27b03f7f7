#!/usr/bin/env python3
"""Regenerates nic-host.xml: an hwloc 2 XML of a 2-socket host (1 NUMA node
per socket, 8 cores x 2 threads each) with PCI NICs whose locality the
pinning tests check: eno1 on node 0, ens1f0/ens1f1 on node 1 (one of them
only known by its PCI address in tests), and 2 MiB hugepages per node.

The CPU part comes from hwloc's own synthetic backend (lstopo); the PCI
bridge, PCI devices and network OS devices are added under each Package the
way lstopo writes them for a real host. Usage: make-nic-host.py > nic-host.xml
"""
import re
import subprocess
import sys

xml = subprocess.run(
    ["lstopo-no-graphics", "--input", "package:2 numa:1 l3:1 core:8 pu:2", "--of", "xml", "-"],
    check=True, capture_output=True, text=True).stdout
xml = re.sub(r'\s*<info name="ProcessName" value="[^"]*"/>', "", xml)

gp = [1000]


def nic(bus, name, mac):
    gp[0] += 2
    return (f'        <object type="PCIDev" gp_index="{gp[0]}" pci_busid="{bus}" '
            f'pci_type="0200 [8086:1572] [8086:0000] 02" pci_link_speed="7.876923">\n'
            f'          <object type="OSDev" gp_index="{gp[0] + 1}" name="{name}" osdev_type="2">\n'
            f'            <info name="Address" value="{mac}"/>\n'
            f'          </object>\n'
            f'        </object>\n')


def bridge(bus_range, nics):
    gp[0] += 1
    return (f'      <object type="Bridge" gp_index="{gp[0]}" bridge_type="0-1" depth="0" '
            f'bridge_pci="{bus_range}">\n' + "".join(nics) + '      </object>\n')


io = {
    "0": bridge("0000:[01-01]", [nic("0000:01:00.0", "eno1", "3c:fd:fe:00:00:01")]),
    "1": bridge("0000:[3b-3b]", [nic("0000:3b:00.0", "ens1f0", "3c:fd:fe:00:01:00"),
                                 nic("0000:3b:00.1", "ens1f1", "3c:fd:fe:00:01:01")]),
}

# 2 MiB hugepages: 512 per node (1 GiB), as /proc/sys/vm/nr_hugepages would give.
xml = xml.replace('<page_type size="4096" count="262144"/>',
                  '<page_type size="4096" count="262144"/>\n'
                  '        <page_type size="2097152" count="512"/>')

out = []
pkg = None
depth = 0
for line in xml.splitlines(keepends=True):
    m = re.match(r'\s*<object type="Package" os_index="(\d+)"', line)
    if m:
        pkg = m.group(1)
        depth = 0
    if pkg is not None:
        if re.match(r'\s*<object ', line) and not line.rstrip().endswith("/>"):
            depth += 1
        elif re.match(r'\s*</object>', line):
            depth -= 1
            if depth == 0:
                out.append(io[pkg])
                pkg = None
    out.append(line)
sys.stdout.write("".join(out))
