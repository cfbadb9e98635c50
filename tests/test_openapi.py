"""The OpenAPI document: committed, served, and shaped so that generated SDKs read well; docs served locally."""

import difflib
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.app import create_app
from service.core.openapi import export_openapi
from service.settings import Settings
from tests.factories import SUBMITTABLE_STANDARD, add_action_item, add_event, create_postmortem
from tests.problems import UNKNOWN_ID, assert_header_refused, assert_problem

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
REGENERATE = ".venv/bin/postmortems openapi > openapi/openapi.json"
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

DOCUMENT = json.loads(export_openapi(create_app(Settings(database_url="sqlite://"))))
OPERATIONS = [
    pytest.param(method.upper(), path, operation, id=f"{method.upper()} {path}")
    for path, path_item in DOCUMENT["paths"].items()
    for method, operation in path_item.items()
]
WEBHOOK = ("POST", "/v1/webhooks/{kind}/{integration_id}")
"""The one /v1 operation a tracker calls: authenticated by the signature on its body, not by an API key."""
V1_POSTS = [
    param
    for param in OPERATIONS
    if param.values[0] == "POST" and str(param.values[1]).startswith("/v1/") and param.values[:2] != WEBHOOK
]
WITH_BODY = [
    param for param in OPERATIONS if "application/json" in param.values[2].get("requestBody", {}).get("content", {})
]
"""Operations with a JSON body (the Markdown import takes `text/markdown` too: see tests/documents)."""
IDEMPOTENCY_KEY = "Idempotency-Key"


def idempotency_key_parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [parameter for parameter in operation.get("parameters", []) if parameter["name"] == IDEMPOTENCY_KEY]


def request_body_schema(operation: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].removeprefix("#/components/schemas/")]
    return schema


def expected_error_statuses(path: str, operation: dict[str, Any]) -> set[str]:
    """The error answers an operation can give, judging by what it accepts."""
    statuses = set()
    if path.startswith("/v1/"):
        statuses.add("503")  # the database is unreachable
    if operation.get("security"):
        statuses |= {"401", "403"}
    elif path.startswith("/v1/"):
        statuses.add("401")
    parameters = {parameter["in"] for parameter in operation.get("parameters", [])}
    if "path" in parameters:
        statuses |= {"404", "422"}
    if "query" in parameters:
        statuses.add("422")
    if any(parameter["name"] == "If-Match" for parameter in operation.get("parameters", [])):
        statuses.add("412")
    if idempotency_key_parameters(operation):
        statuses.add("422")
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


@pytest.mark.parametrize(("method", "path", "operation"), [op for op in OPERATIONS if op.values[1].startswith("/v1/")])
def test_unavailable_answers_document_when_to_retry(method: str, path: str, operation: dict[str, Any]) -> None:
    assert operation["responses"]["503"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_the_webhook_is_documented_as_signed_rather_than_keyed() -> None:
    method, path = WEBHOOK
    operation = DOCUMENT["paths"][path][method.lower()]
    assert "security" not in operation
    assert "401" in operation["responses"]
    assert "403" not in operation["responses"]
    assert not idempotency_key_parameters(operation)
    assert "signed" in operation["description"]


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


def test_the_idempotency_key_is_documented_on_every_v1_post_and_nowhere_else() -> None:
    documented = {
        (method, path)
        for method, path, operation in (param.values for param in OPERATIONS)
        if idempotency_key_parameters(operation)
    }
    assert documented == {(method, path) for method, path, _ in (param.values for param in V1_POSTS)}
    assert ("POST", "/v1/postmortems") in documented


@pytest.mark.parametrize(("method", "path", "operation"), V1_POSTS)
def test_post_documents_the_idempotency_key_and_replays(method: str, path: str, operation: dict[str, Any]) -> None:
    [parameter] = idempotency_key_parameters(operation)
    assert (parameter["in"], parameter["required"]) == ("header", False)
    assert parameter["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}
    assert "same key" in parameter["description"]
    assert "422" in parameter["description"]
    successes = {status: response for status, response in operation["responses"].items() if status.startswith("2")}
    assert successes
    for status, response in successes.items():
        ref = response["headers"]["Idempotent-Replayed"]["schema"]["$ref"]
        schema = DOCUMENT["components"]["schemas"][ref.removeprefix("#/components/schemas/")]
        assert (schema["type"], schema["enum"]) == ("string", ["true"]), status


@pytest.mark.parametrize(("method", "path", "operation"), V1_POSTS)
async def test_post_refuses_an_idempotency_key_beyond_the_documented_length(
    method: str, path: str, operation: dict[str, Any], admin_client: httpx.AsyncClient
) -> None:
    [parameter] = idempotency_key_parameters(operation)
    too_long = "k" * (parameter["schema"]["maxLength"] + 1)

    [media_type, *_] = operation.get("requestBody", {}).get("content", {}) or ["application/json"]
    body = {"json": {}} if media_type == "application/json" else {"content": b""}
    response = await admin_client.post(
        path.format_map(defaultdict(lambda: UNKNOWN_ID)),
        headers={IDEMPOTENCY_KEY: too_long, "Content-Type": media_type},
        **body,
    )

    assert_header_refused(response, 422, IDEMPOTENCY_KEY)


@pytest.mark.parametrize(("method", "path", "operation"), WITH_BODY)
def test_request_body_has_an_example(method: str, path: str, operation: dict[str, Any]) -> None:
    schema = request_body_schema(operation)
    assert schema.get("examples"), f"{schema.get('title')} has no example"
    assert all(isinstance(example, dict) and example for example in schema["examples"])


EXAMPLE_TARGETS = {
    "PostmortemCreate",
    "PostmortemUpdate",
    "ChangeRequest",
    "TimelineEventCreate",
    "TimelineEventUpdate",
    "ActionItemCreate",
    "ActionItemUpdate",
    "ApiKeyCreate",
    "IntegrationCreate",
    "IntegrationUpdate",
}
TARGETED = [param for param in WITH_BODY if request_body_schema(param.values[2])["title"] in EXAMPLE_TARGETS]


def test_every_example_target_is_a_request_body() -> None:
    assert {request_body_schema(param.values[2])["title"] for param in TARGETED} == EXAMPLE_TARGETS


@pytest.mark.parametrize(("method", "path", "operation"), TARGETED)
async def test_request_body_examples_are_accepted_as_they_stand(
    method: str, path: str, operation: dict[str, Any], admin_client: httpx.AsyncClient
) -> None:
    postmortem = await create_postmortem(admin_client, **SUBMITTABLE_STANDARD)
    event = await add_event(admin_client, postmortem["id"])
    item = await add_action_item(admin_client, postmortem["id"])
    if path.endswith("/request-changes"):
        assert (await admin_client.post(f"/v1/postmortems/{postmortem['id']}/submit")).status_code == 200
    integration = await admin_client.post(
        "/v1/integrations",
        json={
            "kind": "github",
            "name": "incident-followups",
            "settings": {"owner": "acme", "repo": "incidents"},
            "credentials": {"token": "github_pat_seed"},
        },
    )
    assert integration.status_code == 201, integration.text
    ids = {
        "postmortem_id": postmortem["id"],
        "event_id": event["id"],
        "item_id": item["id"],
        "integration_id": integration.json()["id"],
    }

    for example in request_body_schema(operation)["examples"]:
        response = await admin_client.request(method, path.format_map(ids), json=example)

        assert response.status_code in (200, 201), response.text
        echoed = {name: value for name, value in example.items() if name in response.json()}
        assert {name: response.json()[name] for name in echoed} == echoed


async def test_the_problem_example_is_what_the_api_answers(client: httpx.AsyncClient) -> None:
    schemas = DOCUMENT["components"]["schemas"]
    [example] = schemas["Problem"]["examples"]
    assert set(schemas["Problem"]["required"]) <= set(example)
    assert example["errors"]
    assert all(set(error) == set(schemas["ProblemFieldError"]["required"]) for error in example["errors"])

    body = {"title": "Checkout outage", "severity": "P1", "impact": {"users_affected": "12"}}
    problem = assert_problem(await client.post(example["instance"], json=body), example["status"])

    assert problem == example
