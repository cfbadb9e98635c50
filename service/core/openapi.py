"""OpenAPI conventions: operationIds `<tag>_<name>`, problem+json errors, idempotent POSTs, 503s, stable export."""

import json
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from service.core.idempotency import MAX_KEY_LENGTH
from service.core.problems import PROBLEM_MEDIA_TYPE

UNIT_OF_WORK_PATH_PREFIX = "/v1/"  # where `UnitOfWorkMiddleware` honours the header and answers 503s
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe. A repeat with the same key and the same body replays the first answer "
        "(marked `Idempotent-Replayed: true`) and does nothing again; the same key with another body "
        f"answers 422. 1 to {MAX_KEY_LENGTH} characters, scoped to the calling API key."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "example": "0b4f3c1e-9d2a-4c7b-8e5f-2a6d1c9b7e30",
}
IDEMPOTENT_REPLAYED_SCHEMA: dict[str, Any] = {
    "title": "IdempotentReplayed",
    "description": "The value of the `Idempotent-Replayed` header: present, and `true`, only on a replay.",
    "type": "string",
    "enum": ["true"],
}
IDEMPOTENT_REPLAYED_HEADER: dict[str, Any] = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
        "schema": {"$ref": "#/components/schemas/IdempotentReplayed"},
    }
}

DATABASE_UNAVAILABLE_RESPONSE: dict[str, Any] = {
    "description": "The database is unreachable: send the request again later (a POST with the same Idempotency-Key)",
    "headers": {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}},
    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def operation_id(route: APIRoute) -> str:
    tag = str(route.tags[0]).replace("-", "_") if route.tags else "default"
    return f"{tag}_{route.name}"


def use_problem_media_type(schema: dict[str, Any]) -> dict[str, Any]:
    """Error responses are `application/problem+json`, not the route's default JSON."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return schema


def document_idempotency_key(schema: dict[str, Any]) -> dict[str, Any]:
    """Authenticated POSTs under /v1 take an optional `Idempotency-Key`; their successes may be replays."""
    schema.setdefault("components", {}).setdefault("schemas", {})["IdempotentReplayed"] = IDEMPOTENT_REPLAYED_SCHEMA
    for path, path_item in schema.get("paths", {}).items():
        operation = path_item.get("post")
        if operation is None or not path.startswith(UNIT_OF_WORK_PATH_PREFIX) or not operation.get("security"):
            continue
        operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
        for status, response in operation.get("responses", {}).items():
            if status.startswith("2"):
                response["headers"] = response.get("headers", {}) | IDEMPOTENT_REPLAYED_HEADER
    return schema


def document_database_unavailable(schema: dict[str, Any]) -> dict[str, Any]:
    """Operations under /v1 answer 503 with `Retry-After` while the database cannot be reached."""
    for path, path_item in schema.get("paths", {}).items():
        if path.startswith(UNIT_OF_WORK_PATH_PREFIX):
            for operation in path_item.values():
                operation.setdefault("responses", {})["503"] = DATABASE_UNAVAILABLE_RESPONSE
    return schema


def document_response_examples(examples: Mapping[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A documenter adding `examples` (by operationId) as the example of each operation's JSON success answer.

    Added to the finished document because FastAPI writes its document without nulls, examples included,
    and a null is often what an answer shows.
    """

    def document(schema: dict[str, Any]) -> dict[str, Any]:
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if (example := examples.get(operation.get("operationId", ""))) is None:
                    continue
                for status, response in operation.get("responses", {}).items():
                    if status.startswith("2") and "application/json" in response.get("content", {}):
                        response["content"]["application/json"]["example"] = example
        return schema

    return document


def install_openapi(app: FastAPI, *documenters: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """The app's document, built once: FastAPI's, then `documenters` (domains' additions), then these conventions."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            for document in documenters:
                schema = document(schema)
            app.openapi_schema = document_database_unavailable(document_idempotency_key(use_problem_media_type(schema)))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def export_openapi(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
