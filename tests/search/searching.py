"""Calls of `GET /v1/postmortems?q=...` shared by the search tests."""

from typing import Any

import httpx

from tests.paging import ids_in_pages_of


async def search(client: httpx.AsyncClient, q: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/postmortems", params={"q": q} | params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def found(client: httpx.AsyncClient, q: str, **params: Any) -> list[str]:
    """Titles of every postmortem found, in result order (one page of up to 200)."""
    return [item["title"] for item in (await search(client, q, limit=200, **params))["items"]]


async def walk(client: httpx.AsyncClient, q: str, limit: int, **params: Any) -> list[str]:
    """Ids of every postmortem found, following `next_cursor` page by page."""
    return await ids_in_pages_of(client, "/v1/postmortems", limit, q=q, **params)
