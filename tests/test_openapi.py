"""The OpenAPI document: committed, served, and shaped so that generated SDKs read well; docs served locally."""

import difflib
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.app import create_app
from service.core.openapi import export_openapi
from service.settings import Settings

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
REGENERATE = ".venv/bin/postmortems openapi > openapi/openapi.json"
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

DOCUMENT = json.loads(export_openapi(create_app(Settings(database_url="sqlite://"))))
OPERATIONS = [
    pytest.param(method.upper(), path, operation, id=f"{method.upper()} {path}")
    for path, path_item in DOCUMENT["paths"].items()
    for method, operation in path_item.items()
]


def expected_error_statuses(path: str, operation: dict[str, Any]) -> set[str]:
    """The error answers an operation can give, judging by what it accepts."""
    statuses = set()
    if path.startswith("/v1/"):
        statuses |= {"401", "403"}
    parameters = {parameter["in"] for parameter in operation.get("parameters", [])}
    if "path" in parameters:
        statuses |= {"404", "422"}
    if "query" in parameters:
        statuses.add("422")
    if any(parameter["name"] == "If-Match" for parameter in operation.get("parameters", [])):
        statuses.add("412")
    if "requestBody" in operation:
        statuses |= {"413", "415", "422"}
    return statuses


def test_the_committed_document_is_the_one_the_service_generates(app: FastAPI) -> None:
    generated = export_openapi(app)
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if committed != generated:
        diff = difflib.unified_diff(
            committed.splitlines(), generated.splitlines(), "committed", "generated", lineterm="", n=1
        )
        pytest.fail(
            f"openapi/openapi.json is out of date; regenerate it with `{REGENERATE}`\n" + "\n".join(list(diff)[:60])
        )


def test_operation_ids_are_unique() -> None:
    ids = [operation["operationId"] for path_item in DOCUMENT["paths"].values() for operation in path_item.values()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS)
def test_operation_is_named_tagged_and_summarised(method: str, path: str, operation: dict[str, Any]) -> None:
    assert operation.get("tags"), "no tag"
    tag = operation["tags"][0].replace("-", "_")
    assert re.fullmatch(rf"{tag}_[a-z][a-z0-9]*(_[a-z0-9]+)*", operation["operationId"]), operation["operationId"]
    assert operation.get("summary", "").strip()
    assert operation.get("description", "").strip()


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS)
def test_error_responses_are_documented_as_problems(method: str, path: str, operation: dict[str, Any]) -> None:
    errors = {status: response for status, response in operation["responses"].items() if int(status) >= 400}
    assert expected_error_statuses(path, operation) <= set(errors)
    for status, response in errors.items():
        assert response["content"] == PROBLEM_CONTENT, status
        assert response["description"].strip(), status


def test_the_problem_schema_describes_rfc_9457_documents() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail"}
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(schemas["Problem"]["properties"])
    assert set(schemas["ProblemFieldError"]["required"]) == {"field", "location", "message", "code"}


async def test_the_document_is_served(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == DOCUMENT


async def test_interactive_docs_are_served_with_local_assets(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assets = re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", response.text)
    assert any(asset.endswith(".js") for asset in assets)
    assert any(asset.endswith(".css") for asset in assets)
    assert "/openapi.json" in response.text
    for asset in assets:
        assert "http" not in asset, asset
        assert re.match(r"/[^/]", asset), f"{asset} is not a path on this service"
        served = await anonymous_client.get(asset)
        assert served.status_code == 200, asset
        assert served.content, asset
