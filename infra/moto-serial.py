"""moto's server, one request at a time.

DynamoDB applies each write to an item atomically: a condition is checked and
the write applied as one step, so two conditional writes on the same version
cannot both succeed. moto's server is threaded and its DynamoDB backend checks
a condition and applies the update without a lock, so under a burst two writes
can both pass the same condition (a lost update the real service never makes).
The race tests would then test moto, not this service. One lock around the
whole application gives moto the atomicity DynamoDB has; connections are still
accepted concurrently.

usage: python3 infra/moto-serial.py HOST PORT
"""

import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serial(environ, start_response):
    with lock:
        # The body is read inside the lock: moto computes it lazily at times.
        return [b"".join(app(environ, start_response))]


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(host, port, serial, threaded=True)


if __name__ == "__main__":
    main()
