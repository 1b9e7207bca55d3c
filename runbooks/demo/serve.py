"""A tiny HTTP server for the demo's health check: serves one directory on a loopback port.

It detaches from the step that starts it (so it outlives that step), writes its pid, and exits
by itself after a few minutes so that an interrupted demo leaves nothing running for long.
With a fourth argument N above 0, it degrades after N health checks: /health answers 503 from
then on, which is how the demo shows a watch failing and the release rolling back by itself.
"""
import functools
import http.server
import os
import sys
import threading

directory, port, pid_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fail_after = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else 0
health_checks = 0
lock = threading.Lock()


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        global health_checks
        if self.path.startswith("/health") and fail_after > 0:
            with lock:
                health_checks += 1
                degraded = health_checks > fail_after
            if degraded:
                body = b"degraded\n"
                self.send_response(503)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        super().do_GET()

    def log_message(self, *args):
        pass


handler = functools.partial(Handler, directory=directory)
try:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
except OSError as error:
    sys.exit(f"cannot listen on 127.0.0.1:{port} ({error}); pick another port with --var port=N")
with open(pid_file, "w") as out:
    out.write(f"{os.getpid()}\n")
threading.Timer(300, server.shutdown).start()
server.serve_forever()
