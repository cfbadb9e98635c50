"""Test databases: a SQLite file by default, or a fresh PostgreSQL database per test session.

Set POSTMORTEMS_TEST_DATABASE_URL to a PostgreSQL URL (e.g. postgresql://postgres@127.0.0.1/postgres)
to run the suite on PostgreSQL; databases are created beside that one and dropped afterwards.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from service.db import is_sqlite

TEST_DATABASE_URL_ENV = "POSTMORTEMS_TEST_DATABASE_URL"


def postgres_server_url() -> str | None:
    url = os.environ.get(TEST_DATABASE_URL_ENV)
    if url and make_url(url).get_backend_name() in ("postgresql", "postgres"):
        return url
    return None


def secret_settings(database_url: str) -> dict[str, str]:
    """The settings with which a test app on this database can store secrets: on PostgreSQL a key (without
    one it refuses them); SQLite makes its key file beside the database, shared by every process on it."""
    return {} if is_sqlite(database_url) else {"secret_keys": "key-of-the-postgresql-test-runs"}


def _admin_dsn(server_url: str) -> str:
    url = make_url(server_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@contextmanager
def scratch_database(directory: Path) -> Iterator[str]:
    """A new, empty database for the duration of the block; the URL selects the async driver itself."""
    server_url = postgres_server_url()
    if server_url is None:
        path = directory / f"scratch-{uuid.uuid4().hex}.db"
        yield f"sqlite:///{path}"
        return
    name = f"pm_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_dsn(server_url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_dsn(server_url), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
