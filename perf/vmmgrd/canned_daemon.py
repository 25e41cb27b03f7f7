#!/usr/bin/env python3
"""perf/vmmgrd/canned_daemon.py - a stand-in vmmgrd that answers every GET
with one canned body, on a Unix socket.

usage: canned_daemon.py SOCKET BODY_FILE [STATUS]

vmmgrctl's output path can then be timed and diffed (old binary against new
binary, byte for byte) on exactly the same answer, with no daemon work in the
figure: `vmmgrctl --socket SOCKET --json vm list`. Runs until killed.
"""
import http.server
import os
import socketserver
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.strip().splitlines()[3])
    sock, body = sys.argv[1], sys.argv[2]
    if os.path.exists(sock):
        os.unlink(sock)
    srv = Server(sock, Handler)
    with open(body, "rb") as f:
        srv.body = f.read()
    srv.status = int(sys.argv[3]) if len(sys.argv) == 4 else 200
    srv.serve_forever()


if __name__ == "__main__":
    main()
