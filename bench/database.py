"""The benchmarks' databases: a scratch one per run, a synchronous engine on it, and what the benchmark reads."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa

from service.outbox.models import Delivery, DeliveryStatus
from service.postmortems.models import Postmortem


@contextmanager
def scratch_database(database_url: str | None, directory: str, label: str = "bench") -> Iterator[str]:
    """A new, empty database for the block: a SQLite file in `directory` when no URL is given, else
    a PostgreSQL database created beside the one named (`pm_<label>_<random>`) and dropped at the end."""
    if database_url is None:
        yield f"sqlite:///{directory}/{label}.db"
        return
    url = sa.make_url(database_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"pm_{label}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sync_engine(database_url: str) -> sa.Engine:
    """A synchronous engine on the service's database (psycopg on PostgreSQL, sqlite3 on SQLite)."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return sa.create_engine(url)


def postmortem_ids(engine: sa.Engine, *, limit: int, status: str | None = None) -> list[str]:
    """Up to `limit` postmortem ids (a random sample: seeded ids are random), of one status if given."""
    table = Postmortem.__table__  # type: ignore[attr-defined]
    statement = sa.select(table.c.id).order_by(table.c.id).limit(limit)
    if status is not None:
        statement = statement.where(table.c.status == status)
    with engine.connect() as connection:
        return [str(postmortem_id) for postmortem_id in connection.scalars(statement)]


def deliveries(engine: sa.Engine, status: DeliveryStatus) -> int:
    table = Delivery.__table__  # type: ignore[attr-defined]
    statement = sa.select(sa.func.count()).select_from(table).where(table.c.status == status)
    with engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())
