"""moto's server with one DynamoDB request at a time.

moto_server handles requests on many threads, and its DynamoDB backend does
not lock: two concurrent `SET atc = atc + 1` updates were seen here returning
the same value, and a conditional write can race the same way. Real DynamoDB
applies each write to an item atomically. The service's guarantees (one ATC
per cryptogram, one approval per cryptogram, one token per card) rest on
that, so the tests run moto's DynamoDB behind one lock. Other services are
left concurrent: an SQS long poll must not hold up the table.

usage: python3 scripts/moto_serialized.py -H 127.0.0.1 -p PORT
"""

import argparse
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def serialized(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return app(environ, start_response)
        with lock:
            # Read the whole response inside the lock: the backend's work
            # may happen while the body is produced.
            result = app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        return [body]

    return handle


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = serialized(DomainDispatcherApplication(create_backend_app))
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
