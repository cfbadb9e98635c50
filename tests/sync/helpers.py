"""What the tracker sync tests share: a quick worker, running it until the outbox settles, and reads."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import col, select

from service.outbox.models import Delivery, DeliveryStatus
from service.outbox.runner import worker_context
from service.outbox.worker import Worker
from service.settings import Settings

SECRET = "webhook-secret-for-tests"


@contextlib.asynccontextmanager
async def quick_worker(app: FastAPI, database_url: str, **overrides: Any) -> AsyncIterator[Worker]:
    """An in-process worker whose retries come after milliseconds instead of seconds."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "outbox_backoff_seconds": 0.01,
        "outbox_backoff_max_seconds": 0.02,
        "outbox_max_attempts": 4,
        "jira_search_lag_seconds": 0.0,  # a failed Jira create is sent again without waiting for the search
    } | overrides
    async with worker_context(
        app.state.database, Settings(**values), app.state.secrets.box, app.state.metrics
    ) as worker:
        yield worker


async def drain(worker: Worker, *, seconds: float = 10.0) -> None:
    """Run the worker until no delivery is due or waiting for a retry (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        await worker.run_until_idle()
        async with worker.context.database.unit(write=False) as unit:
            pending = select(Delivery.id).where(col(Delivery.status) == DeliveryStatus.PENDING)
            if (await (await unit.session()).exec(pending)).first() is None:
                return
        await asyncio.sleep(0.02)
    raise AssertionError("deliveries still pending after the deadline")


async def wait_until(condition: Callable[[], bool], *, seconds: float = 10.0, what: str = "the condition") -> None:
    """Poll `condition` until it holds (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s")
        await asyncio.sleep(0.02)


async def connect(admin_client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    """Create an integration (the default one unless the body says otherwise)."""
    response = await admin_client.post("/v1/integrations", json={"webhook_secret": SECRET, "default": True} | body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def item_of(client: httpx.AsyncClient, item_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/action-items/{item_id}")
    assert response.status_code == 200
    return dict(response.json())


async def patch_item(client: httpx.AsyncClient, item_id: str, **changes: Any) -> dict[str, Any]:
    response = await client.patch(f"/v1/action-items/{item_id}", json=changes)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def deliveries(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/v1/deliveries", params={"limit": 100} | params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def force_sync(client: httpx.AsyncClient, item_id: str) -> None:
    response = await client.post(f"/v1/action-items/{item_id}/sync")
    assert response.status_code == 202, response.text


async def post_webhook(
    client: httpx.AsyncClient, kind: str, integration: dict[str, Any], headers: dict[str, str], body: bytes
) -> httpx.Response:
    return await client.post(f"/v1/webhooks/{kind}/{integration['id']}", headers=headers, content=body)
