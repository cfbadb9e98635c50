"""The yardstick: what a competent engineer writes in 30 lines, served exactly like the service.

    .venv/bin/python -m bench.baseline --host 127.0.0.1 --port 8912 [--workers N]

Plain FastAPI over a bare driver pool (asyncpg, or aiosqlite connections in a queue), sized by
`POSTMORTEMS_DB_POOL_SIZE` like the service's, on the database `POSTMORTEMS_DATABASE_URL` names:

    GET  /constant    a small constant JSON object
    GET  /rows/{id}   one row of the `postmortem` table by primary key, as JSON (404 if missing)
    POST /rows        insert {"title": ...} into `bench_row`, a table of its own; 201 with the row

It runs through `service.server.run`, so uvicorn's settings (uvloop, httptools, no access log)
are the service's, and what the benchmark compares is the application alone.
"""

import argparse
import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import asyncpg
import sqlalchemy as sa
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from service import server

LOCAL_HOSTS = {None, "", "127.0.0.1", "localhost", "::1"}


class RowIn(BaseModel):
    title: str


class Postgres:
    """An asyncpg pool of exactly `size` connections; no TLS over loopback, where it buys nothing."""

    def __init__(self, url: sa.URL, size: int) -> None:
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.ssl = False if url.host in LOCAL_HOSTS or str(url.host).startswith("/") else None
        self.size = size

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(self.dsn, min_size=self.size, max_size=self.size, ssl=self.ssl)
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(4711)")  # server workers start together
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS bench_row (id uuid PRIMARY KEY, title text NOT NULL, "
                "created_at timestamptz NOT NULL)"
            )

    async def close(self) -> None:
        await self.pool.close()

    async def postmortem(self, row_id: uuid.UUID) -> dict[str, Any] | None:
        row = await self.pool.fetchrow("SELECT * FROM postmortem WHERE id = $1", row_id)
        return None if row is None else dict(row)

    async def insert(self, row: dict[str, Any]) -> None:
        sql = "INSERT INTO bench_row (id, title, created_at) VALUES ($1, $2, $3)"
        await self.pool.execute(sql, row["id"], row["title"], row["created_at"])


class Sqlite:
    """`size` connections in a queue; WAL, and BEGIN IMMEDIATE so that writers queue instead of failing."""

    def __init__(self, url: sa.URL, size: int) -> None:
        self.path = str(url.database)
        self.size = size
        self.pool: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self.size):
            connection = await aiosqlite.connect(self.path, timeout=30, isolation_level=None)
            connection.row_factory = aiosqlite.Row
            await connection.execute("PRAGMA journal_mode=WAL")
            self.pool.put_nowait(connection)
        await self._write(
            "CREATE TABLE IF NOT EXISTS bench_row (id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at TEXT NOT NULL)"
        )

    async def close(self) -> None:
        while not self.pool.empty():
            await self.pool.get_nowait().close()

    async def postmortem(self, row_id: uuid.UUID) -> dict[str, Any] | None:
        connection = await self.pool.get()
        try:
            cursor = await connection.execute("SELECT * FROM postmortem WHERE id = ?", (row_id.hex,))
            row = await cursor.fetchone()
        finally:
            self.pool.put_nowait(connection)
        return None if row is None else dict(row)

    async def insert(self, row: dict[str, Any]) -> None:
        values = (str(row["id"]), row["title"], row["created_at"].isoformat())
        await self._write("INSERT INTO bench_row (id, title, created_at) VALUES (?, ?, ?)", values)

    async def _write(self, sql: str, values: tuple[Any, ...] = ()) -> None:
        connection = await self.pool.get()
        try:
            await connection.execute("BEGIN IMMEDIATE")
            try:
                await connection.execute(sql, values)
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
            await connection.execute("COMMIT")
        finally:
            self.pool.put_nowait(connection)


def create() -> FastAPI:
    url = sa.make_url(os.environ["POSTMORTEMS_DATABASE_URL"])
    size = int(os.environ.get("POSTMORTEMS_DB_POOL_SIZE", "10"))
    database = Postgres(url, size) if url.get_backend_name() == "postgresql" else Sqlite(url, size)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await database.open()
        yield
        await database.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/constant")
    async def constant() -> dict[str, Any]:
        return {"status": "ok", "service": "baseline"}

    @app.get("/rows/{row_id}")
    async def read(row_id: uuid.UUID) -> dict[str, Any]:
        row = await database.postmortem(row_id)
        if row is None:
            raise HTTPException(404, "no such row")
        return row

    @app.post("/rows", status_code=201)
    async def insert(row_in: RowIn) -> dict[str, Any]:
        row = {"id": uuid.uuid4(), "title": row_in.title, "created_at": datetime.now(UTC)}
        await database.insert(row)
        return row

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8912)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    server.run("bench.baseline:create", host=args.host, port=args.port, workers=args.workers, log_level="warning")


if __name__ == "__main__":
    main()
