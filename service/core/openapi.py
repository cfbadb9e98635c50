"""OpenAPI conventions: operationIds `<tag>_<name>`, problem+json errors, stable export."""

import json
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from service.core.problems import PROBLEM_MEDIA_TYPE


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


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = use_problem_media_type(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def export_openapi(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
