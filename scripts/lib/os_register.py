#!/usr/bin/python3
"""Registers the service project, users, services and endpoints of
scripts/lib/openstack.sh's OpenStack in its Keystone, in one process (fast).
Ports: $OS_PORT_BASE + the offsets openstack.sh documents."""
import os

import openstack

P = int(os.environ.get("OS_PORT_BASE", "25000"))
c = openstack.connect(auth_url="http://127.0.0.1:%d/v3" % P, username="admin", password="secret",
                      project_name="admin", user_domain_name="Default",
                      project_domain_name="Default", region_name="RegionOne")
idn = c.identity
proj = idn.find_project("service") or idn.create_project(name="service", domain_id="default")
admin_role = idn.find_role("admin")
svcs = {"nova": ("compute", "http://127.0.0.1:%d/v2.1" % (P + 774)),
        "placement": ("placement", "http://127.0.0.1:%d" % (P + 778)),
        "glance": ("image", "http://127.0.0.1:%d" % (P + 292)),
        "neutron": ("network", "http://127.0.0.1:%d" % (P + 696))}
for name, (stype, url) in svcs.items():
    if stype != "network":
        u = (idn.find_user(name, domain_id="default") or
             idn.create_user(name=name, password="secret", domain_id="default"))
        idn.assign_project_role_to_user(proj, u, admin_role)
    s = idn.find_service(stype) or idn.create_service(name=name, type=stype)
    have = {e.interface for e in idn.endpoints(service_id=s.id)}
    for iface in ("public", "internal", "admin"):
        if iface not in have:
            idn.create_endpoint(service_id=s.id, interface=iface, url=url, region_id="RegionOne")
print("registered")
