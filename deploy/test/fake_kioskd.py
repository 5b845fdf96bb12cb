"""A stand-in for kioskd in the update/rollback tests (deploy/test).

Serves GET /healthz on 127.0.0.1 like kioskd: 200 when "healthy", 503 with
JSON reasons otherwise. The database is a text file whose first line is
"schema=N"; a release knows schemas up to --max-schema and, like kioskd with
forward-only migrations, is unhealthy on a newer one.

Behaviours:
  good         migrate the database up to --max-schema, then serve 200
  unhealthy    serve 503 forever
  crash        exit 1 before listening
  migrate-bad  migrate the database to --max-schema, then serve 503
  migrate-bad-nobak  the same, without the copy in the old schema
"""

import argparse
import http.server
import json
import os
import sys


def read_schema(db):
    try:
        with open(db) as f:
            first = f.readline().strip()
    except FileNotFoundError:
        return 0
    if not first.startswith("schema="):
        return -1
    return int(first.split("=", 1)[1])


def migrate(db, to, copy=True):
    # Like kioskd: a copy in the old schema beside it first (VACUUM INTO
    # kiosk.db.pre-vN.bak).
    with open(db) as f:
        old = f.read()
    if copy:
        with open("%s.pre-v%d.bak" % (db, to), "w") as f:
            f.write(old)
    lines = old.splitlines()[1:]
    with open(db + ".tmp", "w") as f:
        f.write("\n".join(["schema=%d" % to] + lines) + "\n")
    os.replace(db + ".tmp", db)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--behavior", required=True)
    p.add_argument("--max-schema", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--db-name", default="kiosk.db")
    a = p.parse_args()
    db = os.path.join(a.data, a.db_name)

    if a.behavior == "crash":
        print("fake kioskd: crashing on purpose", file=sys.stderr)
        sys.exit(1)

    reasons = []
    schema = read_schema(db)
    if schema > a.max_schema:
        reasons.append("database schema %d is newer than %d" % (schema, a.max_schema))
    elif a.behavior in ("good", "migrate-bad", "migrate-bad-nobak") and 0 < schema < a.max_schema:
        migrate(db, a.max_schema, copy=a.behavior != "migrate-bad-nobak")
    if a.behavior in ("unhealthy", "migrate-bad", "migrate-bad-nobak"):
        reasons.append("%s on purpose" % a.behavior)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/healthz":
                self.send_error(404)
                return
            now = list(reasons)
            # A broken reader, switched on by the test at any time.
            if os.path.exists(os.path.join(a.data, "reader-broken")):
                now.append("reader entrance down")
            body = json.dumps({"ok": not now, "reasons": now}).encode()
            self.send_response(503 if now else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http.server.HTTPServer.allow_reuse_address = True
    srv = http.server.HTTPServer(("127.0.0.1", a.port), Handler)
    srv.serve_forever()


if __name__ == "__main__":
    main()
