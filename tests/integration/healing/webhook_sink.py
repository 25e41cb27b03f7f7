#!/usr/bin/env python3
"""webhook_sink.py PORT_FILE OUT_FILE [STATUS...] - a tiny HTTP server on
127.0.0.1 (a free port, written to PORT_FILE) that appends every POST body
(one line) to OUT_FILE and answers the next STATUS from the list (then 200),
so a test can make a webhook fail first and succeed on a retry."""
import http.server
import sys

port_file, out_file = sys.argv[1], sys.argv[2]
statuses = [int(s) for s in sys.argv[3:]]


class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out_file, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(statuses.pop(0) if statuses else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Sink)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os

os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
