"""A running service on a scratch database (SQLite, or PostgreSQL with POSTMORTEMS_TEST_DATABASE_URL), with an
author's and an approver's API key, for clients generated from the committed OpenAPI document."""

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bench.processes import free_port
from service.app import create_app
from service.auth import service as auth_service
from service.auth.models import ApiKey, Scope
from service.db import make_engine
from service.migrate import upgrade
from service.settings import Settings
from tests.backends import scratch_database, secret_settings
from tests.database import committed_session
from tests.servers import serving_in_thread


@dataclass(frozen=True)
class LiveService:
    base_url: str
    author_key: str
    approver_key: str


async def _store_keys(database_url: str, keys: dict[str, str]) -> None:
    engine = make_engine(database_url, pool_size=None)
    try:
        async with committed_session(engine) as session:
            for name, key in keys.items():
                session.add(ApiKey(name=name, scope=Scope.WRITE, prefix=key[:10], key_hash=auth_service.hash_key(key)))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    author, approver = (auth_service.KEY_PREFIX + secrets.token_urlsafe(32) for _ in range(2))
    with scratch_database(tmp_path_factory.mktemp("clients")) as url:
        upgrade(url)
        asyncio.run(_store_keys(url, {"author": author, "approver": approver}))
        app = create_app(Settings(database_url=url, **secret_settings(url)))
        with serving_in_thread(app, free_port()) as base_url:
            yield LiveService(base_url, author, approver)
