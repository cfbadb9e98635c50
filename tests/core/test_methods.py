"""What each resource allows: OPTIONS, HEAD, and 405 with the full `Allow` list (RFC 9110 9.3.2, 9.3.7, 15.5.6)."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.app import create_app
from service.settings import Settings
from tests.factories import create_postmortem
from tests.problems import assert_problem

DOCUMENT = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
SOME_ID = "0b7c7a4e-1c1e-4e7e-9a5e-3f0f6a1f2b3c"


def documented(path: str) -> set[str]:
    return {method.upper() for method in DOCUMENT["paths"][path] if method in HTTP_METHODS}


def concrete(path: str) -> str:
    """The template with an id in each parameter."""
    return "/".join(SOME_ID if part.startswith("{") else part for part in path.split("/"))


def allowed(response: httpx.Response) -> set[str]:
    return {method.strip() for method in response.headers["allow"].split(",")}


@pytest.mark.parametrize("path", sorted(DOCUMENT["paths"]))
async def test_options_lists_every_documented_method(anonymous_client: httpx.AsyncClient, path: str) -> None:
    response = await anonymous_client.options(concrete(path))

    assert response.status_code == 204
    assert response.content == b""
    methods = documented(path)
    assert allowed(response) == methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())


@pytest.mark.parametrize("path", sorted(DOCUMENT["paths"]))
async def test_a_method_a_resource_lacks_answers_405_naming_all_it_has(client: httpx.AsyncClient, path: str) -> None:
    methods = documented(path)
    missing = sorted(HTTP_METHODS - {method.lower() for method in methods})[0].upper()

    response = await client.request(missing, concrete(path), json={})

    assert_problem(response, 405)
    assert "GET" not in methods or "HEAD" in allowed(response)
    assert allowed(response) >= methods | {"OPTIONS"}
    assert missing in response.json()["detail"]


async def test_a_concrete_path_is_not_read_as_an_id(client: httpx.AsyncClient) -> None:
    """`/v1/postmortems/import` is its own resource, not the postmortem "import"."""
    response = await client.patch("/v1/postmortems/import", json={"title": "x"})

    assert_problem(response, 405)
    assert allowed(response) == {"OPTIONS", "POST"}


async def test_head_answers_what_get_would_without_the_body(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    path = f"/v1/postmortems/{postmortem['id']}"

    got, head = await client.get(path), await client.head(path)

    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-length"] == str(len(got.content))


async def test_head_needs_a_key_as_get_does(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.head("/v1/postmortems")

    assert (response.status_code, response.content) == (401, b"")


async def test_options_on_a_path_no_resource_has_is_not_found(anonymous_client: httpx.AsyncClient) -> None:
    assert_problem(await anonymous_client.options("/v1/nothing-here"), 404)


PREFLIGHT = {"Origin": "https://portal.example.com", "Access-Control-Request-Method": "PATCH"}


async def test_without_cors_origins_a_preflight_grants_nothing(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.options("/v1/postmortems", headers=PREFLIGHT)

    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers


@pytest.fixture
async def cors_app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(Settings(**settings.model_dump() | {"cors_allow_origins": ["https://portal.example.com"]}))
    yield app
    await app.state.engine.dispose()


async def _cors_call(app: FastAPI, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.request(method, path, headers=headers)


@pytest.mark.parametrize(
    ("origin", "granted"), [("https://portal.example.com", True), ("https://elsewhere.example.com", False)]
)
async def test_a_configured_origin_passes_the_preflight(cors_app: FastAPI, origin: str, granted: bool) -> None:
    headers: dict[str, Any] = PREFLIGHT | {
        "Origin": origin,
        "Access-Control-Request-Headers": "authorization, if-match, content-type",
    }
    response = await _cors_call(cors_app, "OPTIONS", f"/v1/postmortems/{SOME_ID}", headers)

    assert (response.status_code == 200) is granted
    assert (response.headers.get("access-control-allow-origin") == origin) is granted
    if granted:
        assert "PATCH" in response.headers["access-control-allow-methods"]
        assert "if-match" in response.headers["access-control-allow-headers"].lower()


async def test_a_configured_origin_may_read_the_etag(cors_app: FastAPI) -> None:
    response = await _cors_call(cors_app, "GET", "/v1/postmortems", {"Origin": "https://portal.example.com"})

    assert response.status_code == 401  # CORS opens the door to the browser, not to the API: a key is still needed
    assert response.headers["access-control-allow-origin"] == "https://portal.example.com"
    assert "ETag" in response.headers["access-control-expose-headers"]
