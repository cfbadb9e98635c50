"""GET /v1/stats reads one snapshot: a write that lands while its statements run is not half seen.

The write is made from inside the request, right after its first statement, on a connection of its
own, and committed; the answer must be the one from before it, and the next answer must show it.
"""

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.util import await_only
from sqlmodel import col

from service.postmortems.models import Postmortem
from tests.database import committed_session
from tests.factories import create_postmortem

MARCH = {"from": "2025-03-01T00:00:00Z", "to": "2025-04-01T00:00:00Z"}


async def _count_postmortems(session: Any) -> int:
    return int((await session.exec(sa.select(sa.func.count()).select_from(Postmortem))).one()[0])


async def test_a_snapshot_does_not_see_a_write_committed_after_it_began(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await create_postmortem(client)

    async with app.state.database.unit(write=False) as unit:
        session = await unit.snapshot_session()
        before = await _count_postmortems(session)
        await create_postmortem(client)
        assert await _count_postmortems(session) == before == 1


async def test_without_a_snapshot_each_read_sees_the_latest_commit(app: FastAPI, client: httpx.AsyncClient) -> None:
    """The control: what the snapshot prevents does happen to a plain read unit."""
    await create_postmortem(client)

    async with app.state.database.unit(write=False) as unit:
        session = await unit.session()
        before = await _count_postmortems(session)
        await create_postmortem(client)
        assert (before, await _count_postmortems(session)) == (1, 2)


class WriteAfterFirstStatement:
    """Commits a change to a postmortem's resolution time once the statement of the figures ran."""

    def __init__(self, app: FastAPI, postmortem_id: str, resolved_at: datetime) -> None:
        self.app = app
        self.postmortem_id = uuid.UUID(postmortem_id)
        self.resolved_at = resolved_at
        self.done = False

    def __call__(self, _connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not self.done and "to_restore" in statement:  # the statement of the figures, not authentication's
            self.done = True
            await_only(self._write())  # listeners run inside SQLAlchemy's greenlet, where awaiting is allowed

    async def _write(self) -> None:
        async with committed_session(self.app.state.engine) as session:
            await session.exec(
                sa.update(Postmortem)
                .where(col(Postmortem.id) == self.postmortem_id)
                .values(resolved_at=self.resolved_at)
            )


@pytest.fixture
def write_mid_request(app: FastAPI) -> Iterator[list[WriteAfterFirstStatement]]:
    hooks: list[WriteAfterFirstStatement] = []
    yield hooks
    for hook in hooks:
        sa.event.remove(app.state.engine.sync_engine, "after_cursor_execute", hook)


async def test_a_write_between_the_statements_of_one_answer_is_not_half_seen(
    app: FastAPI, reader_client: httpx.AsyncClient, client: httpx.AsyncClient, write_mid_request: list[Any]
) -> None:
    times = [("2025-03-10T09:00:00Z", "2025-03-10T10:00:00Z"), ("2025-03-11T09:00:00Z", "2025-03-11T13:00:00Z")]
    created = [await create_postmortem(client, started_at=start, resolved_at=end) for start, end in times]
    before = (await reader_client.get("/v1/stats", params=MARCH)).json()

    hook = WriteAfterFirstStatement(app, created[0]["id"], datetime.fromisoformat("2025-03-10T19:00:00+00:00"))
    write_mid_request.append(hook)
    sa.event.listen(app.state.engine.sync_engine, "after_cursor_execute", hook)
    during = (await reader_client.get("/v1/stats", params=MARCH)).json()
    after = (await reader_client.get("/v1/stats", params=MARCH)).json()

    assert hook.done
    assert during == before
    assert (before["mttr"]["median_minutes"], after["mttr"]["median_minutes"]) == (150.0, 420.0)
    assert after["mttr"]["mean_minutes"] == after["mttr"]["median_minutes"]
