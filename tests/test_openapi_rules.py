"""Rules the OpenAPI document keeps so that generated clients read well; each walks the whole document.

A new model without descriptions, an inline enum or object, an unnamed body, an example that does not
match its schema or a list without its cursor fails here.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.test_openapi import DOCUMENT, OPERATIONS

SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
SCHEMA_REF_PREFIX = "#/components/schemas/"
MAIN_OPERATIONS = {
    "postmortems_create",
    "postmortems_get",
    "postmortems_list",
    "postmortems_update",
    "action_items_create",
    "action_items_update",
    "timeline_create",
    "postmortems_submit",
    "postmortems_approve",
    "postmortems_complete",
}
"""The operations an SDK user calls first: they show an example of what they take and answer."""


def subschemas(schema: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object within `schema` (itself first), with where it is."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for keyword in ("properties", "patternProperties", "$defs"):
        for name, child in schema.get(keyword, {}).items():
            yield from subschemas(child, f"{path}/{keyword}/{name}")
    for keyword in ("items", "additionalProperties", "not", "contains", "propertyNames"):
        yield from subschemas(schema.get(keyword), f"{path}/{keyword}")
    for keyword in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for index, child in enumerate(schema.get(keyword, [])):
            yield from subschemas(child, f"{path}/{keyword}/{index}")


def document_schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in the document: components, parameters, headers and bodies."""
    for name, schema in SCHEMAS.items():
        yield from subschemas(schema, f"{SCHEMA_REF_PREFIX}{name}")
    for method, path, operation in (param.values for param in OPERATIONS):
        where = f"{method} {path}"
        for parameter in operation.get("parameters", []):
            yield from subschemas(parameter.get("schema"), f"{where} parameter {parameter['name']}")
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            yield from subschemas(content.get("schema"), f"{where} body {media_type}")
        for status, response in operation["responses"].items():
            for header, definition in response.get("headers", {}).items():
                yield from subschemas(definition.get("schema"), f"{where} {status} header {header}")
            for media_type, content in response.get("content", {}).items():
                yield from subschemas(content.get("schema"), f"{where} {status} {media_type}")


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """Validates against `schema`, its `$ref`s into the components resolved."""
    return Draft202012Validator({**schema, "components": DOCUMENT["components"]})


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        resolved: dict[str, Any] = SCHEMAS[schema["$ref"].removeprefix(SCHEMA_REF_PREFIX)]
        return resolved
    return schema


def media_examples(content: dict[str, Any]) -> list[Any]:
    """The examples of a media type, from itself or from the schema it names."""
    examples = [content["example"]] if "example" in content else []
    examples += [example["value"] for example in content.get("examples", {}).values()]
    return examples or list(resolve(content.get("schema", {})).get("examples", []))


OPERATIONS_BY_ID = {param.values[2]["operationId"]: param.values for param in OPERATIONS}
MAIN = [pytest.param(*OPERATIONS_BY_ID[operation_id], id=operation_id) for operation_id in sorted(MAIN_OPERATIONS)]
COMPONENTS = [pytest.param(name, schema, id=name) for name, schema in SCHEMAS.items()]
BODIES = [
    pytest.param(where, content, id=where)
    for method, path, operation in (param.values for param in OPERATIONS)
    for where, content in [
        *(
            (f"{method} {path} body {media_type}", content)
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items()
        ),
        *(
            (f"{method} {path} {status} {media_type}", content)
            for status, response in operation["responses"].items()
            for media_type, content in response.get("content", {}).items()
        ),
    ]
]


def test_the_document_is_valid_openapi() -> None:
    validate(DOCUMENT)


def test_every_main_operation_is_in_the_document() -> None:
    assert set(OPERATIONS_BY_ID) >= MAIN_OPERATIONS


@pytest.mark.parametrize(("where", "content"), BODIES)
def test_json_bodies_are_named_schemas(where: str, content: dict[str, Any]) -> None:
    schema = content["schema"]
    if where.endswith(("json", "+json")):
        assert set(schema) == {"$ref"}, f"{where} is an inline schema: give it a named model"
        assert schema["$ref"].removeprefix(SCHEMA_REF_PREFIX) in SCHEMAS
    else:  # another media type (Markdown) is text
        assert schema == {"type": "string"}, where


def test_no_schema_is_named_by_fastapi_for_a_form_or_body() -> None:
    assert not [name for name in SCHEMAS if name.startswith("Body_")]


@pytest.mark.parametrize(("name", "schema"), COMPONENTS)
def test_objects_are_named_schemas_not_nested_inline(name: str, schema: dict[str, Any]) -> None:
    nested = [where for where, child in subschemas(schema, name) if "properties" in child and child is not schema]
    assert not nested, f"inline objects in {name}: make them models"


def test_enums_are_named_schemas() -> None:
    inline = [
        where
        for where, schema in document_schemas()
        if "enum" in schema and not (where.startswith(SCHEMA_REF_PREFIX) and where.count("/") == 3)
    ]
    assert not inline, "enums must be components referenced by $ref:\n" + "\n".join(inline)


def test_every_enum_the_document_names_is_used_by_ref() -> None:
    text = str(DOCUMENT)
    enums = [name for name, schema in SCHEMAS.items() if "enum" in schema]
    assert enums
    assert [name for name in enums if f"'{SCHEMA_REF_PREFIX}{name}'" not in text] == []


@pytest.mark.parametrize(("name", "schema"), COMPONENTS)
def test_every_field_has_a_description(name: str, schema: dict[str, Any]) -> None:
    undescribed = [
        field
        for field, definition in schema.get("properties", {}).items()
        if not definition.get("description", "").strip()
    ]
    assert not undescribed, f"{name}: describe {undescribed} (Field(description=...))"


@pytest.mark.parametrize(("name", "schema"), [param for param in COMPONENTS if "enum" in param.values[1]])
def test_enum_values_are_strings_of_a_titled_schema(name: str, schema: dict[str, Any]) -> None:
    assert schema["title"] == name
    assert schema["type"] == "string"
    assert all(isinstance(value, str) for value in schema["enum"])


@pytest.mark.parametrize(("method", "path", "operation"), MAIN)
def test_main_operations_show_request_and_response_examples(method: str, path: str, operation: dict[str, Any]) -> None:
    for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
        assert media_examples(content), f"no example of the {media_type} request body"
    successes = [response for status, response in operation["responses"].items() if status.startswith("2")]
    assert successes
    for response in successes:
        assert media_examples(response["content"][JSON]), "no example of the answer"


@pytest.mark.parametrize(("where", "content"), BODIES)
def test_examples_match_their_schemas(where: str, content: dict[str, Any]) -> None:
    check = validator(content["schema"])
    for example in media_examples(content):
        errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in check.iter_errors(example)]
        assert not errors, f"{where}: the example does not match its schema:\n" + "\n".join(errors)


@pytest.mark.parametrize(("name", "schema"), [param for param in COMPONENTS if "examples" in param.values[1]])
def test_schema_examples_match_their_schemas(name: str, schema: dict[str, Any]) -> None:
    check = validator({"$ref": f"{SCHEMA_REF_PREFIX}{name}"})
    for example in schema["examples"]:
        assert not list(check.iter_errors(example)), f"{name}: {next(check.iter_errors(example)).message}"


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS)
def test_errors_are_problem_documents(method: str, path: str, operation: dict[str, Any]) -> None:
    errors = {status: response for status, response in operation["responses"].items() if status[0] in "45"}
    assert errors or not path.startswith("/v1/"), "no error response documented"  # a probe answers 200 or 503
    for status, response in errors.items():
        assert list(response["content"]) == [PROBLEM_JSON], status
        assert response["content"][PROBLEM_JSON]["schema"] == {"$ref": f"{SCHEMA_REF_PREFIX}Problem"}, status
    assert "default" not in operation["responses"] or operation["responses"]["default"]["content"] == {
        PROBLEM_JSON: {"schema": {"$ref": f"{SCHEMA_REF_PREFIX}Problem"}}
    }


def is_page(operation: dict[str, Any]) -> bool:
    content = operation["responses"].get("200", {}).get("content", {}).get(JSON)
    return content is not None and "next_cursor" in resolve(content["schema"]).get("properties", {})


PAGED = [param for param in OPERATIONS if is_page(param.values[2])]


def test_lists_are_found() -> None:
    assert {param.values[2]["operationId"] for param in PAGED} >= {
        "postmortems_list",
        "action_items_list",
        "timeline_list",
    }


CURSOR_PARAMETERS = {"/v1/events": "after"}
"""Lists whose cursor goes by another name: the change feed's is a position, kept by consumers across restarts."""


@pytest.mark.parametrize(("method", "path", "operation"), PAGED)
def test_lists_declare_their_cursor_pagination(method: str, path: str, operation: dict[str, Any]) -> None:
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"] if parameter["in"] == "query"}
    cursor = parameters[CURSOR_PARAMETERS.get(path, "cursor")]
    assert cursor["required"] is False
    assert "next_cursor" in cursor["description"]
    assert resolve(parameters["limit"]["schema"])["type"] == "integer"
    assert (parameters["limit"]["schema"]["minimum"], parameters["limit"]["schema"]["maximum"]) == (1, 200)
    page = resolve(operation["responses"]["200"]["content"][JSON]["schema"])
    assert set(page["required"]) == {"items", "next_cursor"}
    assert page["properties"]["items"]["type"] == "array"
    assert "cursor" in page["properties"]["next_cursor"]["description"]


@pytest.mark.parametrize(("method", "path", "operation"), [param for param in OPERATIONS if param not in PAGED])
def test_only_lists_take_a_cursor(method: str, path: str, operation: dict[str, Any]) -> None:
    assert "cursor" not in {parameter["name"] for parameter in operation.get("parameters", [])}


def test_the_bearer_scheme_is_declared() -> None:
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert [(scheme["type"], scheme["scheme"]) for scheme in schemes.values()] == [("http", "bearer")]
    assert schemes[next(iter(schemes))]["description"].strip()


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS)
def test_operations_under_v1_require_the_bearer_key(method: str, path: str, operation: dict[str, Any]) -> None:
    [scheme] = DOCUMENT["components"]["securitySchemes"]
    if path.startswith("/v1/") and not path.startswith("/v1/webhooks/"):
        assert operation["security"] == [{scheme: []}]
        assert "401" in operation["responses"]
    else:
        assert "security" not in operation
