"""The database set-up every PostgreSQL benchmark shares: environment, a database of its own, cleanup.

    BENCH_DB = benchdb.configure("bench_x", "zf_bench_x")    # first, before Django is imported
    ...
    with benchdb.database(BENCH_DB, keep=args.keep):          # recreated, Django set up, dropped after
        ...

`configure` skips the benchmark (exit 0) unless DB_ENGINE=postgres, points DB_NAME at the benchmark's
database (BENCH_DB_NAME overrides the default name) and gives the settings placeholder secrets unless
the caller brings its own. The other connection settings (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD) are
the project's, read by config/settings.py and by `admin_connection` alike.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


def configure(script: str, default_name: str, env: dict[str, str] | None = None) -> str:
    """Set the environment for `script` and return its database name; exits 0 when not on PostgreSQL.

    `env` is applied as given (a benchmark that starts a server with generated secrets passes them);
    the placeholders fill only what neither it nor the caller's environment set.
    """
    if os.environ.get("DB_ENGINE") != "postgres":
        print(f"SKIP {script}: needs PostgreSQL (run with DB_ENGINE=postgres)")
        sys.exit(0)
    name = os.environ.get("BENCH_DB_NAME", default_name)
    os.environ["DB_NAME"] = name
    os.environ.update(env or {})
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", "bench-only-field-encryption-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Pages rendered in-process (the dashboard) need no collected static files: without this a fresh
    # checkout fails on the missing manifest before timing anything.
    os.environ.setdefault("STATIC_MANIFEST", "False")
    return name


def admin_connection() -> psycopg.Connection:
    """An autocommit connection to the server's `postgres` database (CREATE/DROP DATABASE need one)."""
    return psycopg.connect(
        host=os.environ.get("DB_HOST", "127.0.0.1"),
        port=int(os.environ.get("DB_PORT", "5432")),
        user=os.environ.get("DB_USER", "postgres"),
        password=os.environ.get("DB_PASSWORD", ""),
        dbname="postgres",
        autocommit=True,
    )


def recreate_database(name: str) -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(name: str, *, keep: bool = False, reuse: bool = False) -> Iterator[None]:
    """A fresh, empty database `name` (kept as it is with `reuse`) with Django set up on it; afterwards
    Django's connections are closed and the database dropped, unless `keep`. The caller migrates."""
    if not reuse:
        recreate_database(name)
    try:
        import django

        django.setup()
        yield
    finally:
        if not keep:
            from django.db import connections

            connections.close_all()
            drop_database(name)
