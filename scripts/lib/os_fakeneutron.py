#!/usr/bin/python3
"""A stand-in for Neutron so a real Nova runs with networks='none'
(scripts/lib/openstack.sh): answers every GET with an empty collection and
logs every request to $B/logs/fakeneutron-requests.log. Port: $OS_PORT_BASE + 696."""
import json
import os
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("OS_PORT_BASE", "25000")) + 696
LOG = os.path.join(os.environ.get("B", "/tmp/vmmgr-os"), "logs", "fakeneutron-requests.log")
NOT_FOUND = {"NeutronError": {"type": "NotFound", "message": "not found", "detail": ""}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with open(LOG, "a", encoding="utf-8") as f:
            f.write("%s %s -> %d\n" % (self.command, self.path, code))

    def do_GET(self):  # noqa: N802 (http.server's name)
        p = self.path.split("?")[0].rstrip("/")
        if p in ("", "/"):
            return self._reply(200, {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [
                {"rel": "self", "href": "http://127.0.0.1:%d/v2.0/" % PORT}]}]})
        if p == "/v2.0":
            return self._reply(200, {"resources": []})
        if re.fullmatch(r"/v2\.0/quotas/[^/]+(\.json)?", p):
            return self._reply(200, {"quota": {k: -1 for k in (
                "port", "network", "subnet", "security_group", "security_group_rule",
                "floatingip", "router")}})
        m = re.fullmatch(r"/v2\.0/([a-z_-]+)", p)
        if m:
            return self._reply(200, {m.group(1).replace("-", "_"): []})
        return self._reply(404, NOT_FOUND)

    def do_POST(self):  # noqa: N802
        self._reply(404, NOT_FOUND)

    do_PUT = do_POST
    do_DELETE = do_POST


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
