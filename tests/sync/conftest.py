from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI

from service.outbox.worker import Worker
from tests.fakes.jira import FakeJira
from tests.sync.helpers import quick_worker


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
