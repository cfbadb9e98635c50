"""Walking cursor-paginated lists the way a client does."""

from typing import Any

import httpx


async def every_page(client: httpx.AsyncClient, url: str, **params: Any) -> list[list[dict[str, Any]]]:
    """The items of each page of a list, following `next_cursor` until it is null."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        response = await client.get(url, params=params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages


async def every_item(client: httpx.AsyncClient, url: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, in order, across its pages."""
    return [item for page in await every_page(client, url, **params) for item in page]


async def ids_in_pages_of(client: httpx.AsyncClient, url: str, limit: int, **params: Any) -> list[str]:
    """Every id of a list read `limit` at a time; every page but the last must be full."""
    pages = await every_page(client, url, limit=limit, **params)
    assert all(len(page) == limit for page in pages[:-1]), [len(page) for page in pages]
    assert len(pages[-1]) <= limit
    return [item["id"] for page in pages for item in page]
