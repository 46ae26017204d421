"""Fail loudly, before the PostgreSQL suite runs, when the server is not reachable."""

import os
import sys

import psycopg

URL = os.environ.get("JZT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")

try:
    with psycopg.connect(URL, connect_timeout=5) as conn:
        version = conn.execute("show server_version").fetchone()[0]
except psycopg.OperationalError as exc:
    print(f"PostgreSQL at {URL} is unreachable: {exc}", file=sys.stderr)
    print(
        "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        file=sys.stderr,
    )
    sys.exit(1)
print(f"PostgreSQL {version} at {URL}")
