from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete

from service.app import create_app
from service.auth import service as auth_service
from service.auth.models import Scope
from service.migrate import upgrade
from service.models import metadata
from service.settings import Settings
from tests.backends import scratch_database, secret_settings
from tests.database import committed_session


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database for the whole session; tests leave it empty (see `_clean_tables`)."""
    with scratch_database(tmp_path_factory.mktemp("db")) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, **secret_settings(database_url))


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    yield app
    await app.state.engine.dispose()


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    app: FastAPI = request.getfixturevalue("app")
    async with committed_session(app.state.engine) as session:
        for table in reversed(metadata.sorted_tables):
            await session.exec(delete(table))


@pytest.fixture
async def api_keys(app: FastAPI) -> dict[Scope, str]:
    """A fresh key per scope, named after it ("reader", "writer", "admin")."""
    names = {Scope.READ: "reader", Scope.WRITE: "writer", Scope.ADMIN: "admin"}
    keys = {}
    async with committed_session(app.state.engine) as session:
        for scope, name in names.items():
            _, keys[scope] = await auth_service.create(session, name=name, scope=scope)
    return keys


def _client(app: FastAPI, key: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=headers)


@pytest.fixture
async def client(app: FastAPI, api_keys: dict[Scope, str]) -> AsyncIterator[httpx.AsyncClient]:
    """A client with a write-scope key."""
    async with _client(app, api_keys[Scope.WRITE]) as client:
        yield client


@pytest.fixture
async def admin_client(app: FastAPI, api_keys: dict[Scope, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app, api_keys[Scope.ADMIN]) as client:
        yield client


@pytest.fixture
async def reader_client(app: FastAPI, api_keys: dict[Scope, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app, api_keys[Scope.READ]) as client:
        yield client


@pytest.fixture
async def anonymous_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app, None) as client:
        yield client


@pytest.fixture
def scratch_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def configure(app: FastAPI, settings: Settings) -> Iterator[Callable[..., None]]:
    """Runs the app with some settings changed for the rest of the test."""

    def apply(**overrides: Any) -> None:
        app.state.settings = Settings(**(settings.model_dump() | overrides))

    yield apply
    app.state.settings = settings
