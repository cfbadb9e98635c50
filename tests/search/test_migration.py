"""The migration that adds search indexes the postmortems written before it."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from alembic import command

from service.app import create_app
from service.auth import service as auth_service
from service.auth.models import Scope
from service.db import alembic_config
from service.migrate import upgrade
from service.settings import Settings
from tests.backends import scratch_database
from tests.database import committed_session
from tests.factories import add_event, create_postmortem
from tests.search.searching import found

BEFORE_SEARCH = "0002"


@asynccontextmanager
async def writer_for(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url))
    try:
        async with committed_session(app.state.engine) as session:
            _, key = await auth_service.create(session, name="writer", scope=Scope.WRITE)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers) as client:
            yield client
    finally:
        await app.state.engine.dispose()


async def test_upgrading_indexes_every_existing_postmortem(tmp_path: Path) -> None:
    with scratch_database(tmp_path) as url:
        await asyncio.to_thread(upgrade, url)
        async with writer_for(url) as client:
            await create_postmortem(client, title="Zeppelin outage")
            await create_postmortem(client, title="Summary", summary="An airship docked late.")
            await create_postmortem(client, title="Root cause", root_cause="The hangar doors jammed.")
            await create_postmortem(client, title="Factors", contributing_factors=["No canary", "Mast corrosion"])
            await create_postmortem(client, title="Lessons", lessons_learned="Ballast needs a check.")
            timeline = await create_postmortem(client, title="Timeline")
            await add_event(client, timeline["id"], occurred_at="2025-01-15T09:05:00Z", description="Zeppelin paged")
            await add_event(client, timeline["id"], occurred_at="2025-01-15T09:00:00Z", description="Propeller stalled")
        await asyncio.to_thread(command.downgrade, alembic_config(url), BEFORE_SEARCH)

        await asyncio.to_thread(upgrade, url)

        async with writer_for(url) as client:
            assert await found(client, "airship") == ["Summary"]
            assert await found(client, "hangar") == ["Root cause"]
            assert await found(client, "corrosion") == ["Factors"]
            assert await found(client, "canary") == ["Factors"]
            assert await found(client, "ballast") == ["Lessons"]
            assert await found(client, "propeller") == ["Timeline"]
            assert await found(client, "zeppelin") == ["Zeppelin outage", "Timeline"]
            assert await found(client, "outage") == ["Zeppelin outage"]
            await add_event(client, timeline["id"], description="Rudder checked")
            assert await found(client, "rudder propeller") == ["Timeline"]
