from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI

from service.outbox.worker import Worker
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import FakeJira
from tests.fakes.linear import FakeLinear
from tests.sync.helpers import quick_worker
from tests.sync.trackers import TRACKERS, Tracker


@pytest.fixture
async def worker(app: FastAPI, database_url: str) -> AsyncIterator[Worker]:
    """An in-process worker over the test database, retrying after milliseconds."""
    async with quick_worker(app, database_url) as worker:
        yield worker


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    fake = FakeJira()
    with fake:
        yield fake
        assert fake.violations == []


ServerT = TypeVar("ServerT", FakeLinear, FakeGitHub)


def serving(server: ServerT) -> Iterator[ServerT]:
    """A fake started once and shared by the tests of a module."""
    with server:
        yield server


def fresh(server: ServerT) -> Iterator[ServerT]:
    """The shared fake emptied for one test, which must not send it a request breaking the contract."""
    server.reset()
    yield server
    assert server.violations == []


@pytest.fixture(scope="module")
def linear_server() -> Iterator[FakeLinear]:
    yield from serving(FakeLinear())


@pytest.fixture
def linear(linear_server: FakeLinear) -> Iterator[FakeLinear]:
    yield from fresh(linear_server)


@pytest.fixture(scope="module")
def github_server() -> Iterator[FakeGitHub]:
    yield from serving(FakeGitHub())


@pytest.fixture
def github(github_server: FakeGitHub) -> Iterator[FakeGitHub]:
    yield from fresh(github_server)


@pytest.fixture
def tracker(request: pytest.FixtureRequest) -> Tracker[Any]:
    """The tracker named by the test's (indirect) parameter, over its running fake."""
    kind = str(request.param)
    return TRACKERS[kind](request.getfixturevalue(kind))
