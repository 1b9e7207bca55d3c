"""A tiny HTTP server for the demo's health check: serves one directory on a loopback port.

It detaches from the step that starts it (so it outlives that step), writes its pid, and exits
by itself after a few minutes so that an interrupted demo leaves nothing running for long.
"""
import functools
import http.server
import os
import sys
import threading

directory, port, pid_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
handler.log_message = lambda *args: None
try:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
except OSError as error:
    sys.exit(f"cannot listen on 127.0.0.1:{port} ({error}); pick another port with --var port=N")
with open(pid_file, "w") as out:
    out.write(f"{os.getpid()}\n")
threading.Timer(300, server.shutdown).start()
server.serve_forever()
