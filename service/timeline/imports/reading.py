"""What every source's reader shares: the body as JSON, timestamps, and errors gathered per entry.

Every fault of a file is gathered before anything is written, so one 422 lists them all (up to
`MAX_ERRORS`) and a bad entry never leaves the rest half-imported.
"""

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from service.core.errors import FieldError, Unprocessable
from service.core.schemas import UTCTimestamp
from service.timeline.imports.models import ImportedEvent

MAX_ERRORS = 50
MAX_DESCRIPTION = 5_000
BODY = "body"

_timestamp = TypeAdapter(UTCTimestamp)


def unprocessable(message: str, code: str) -> Unprocessable:
    """A fault of the body as a whole."""
    return Unprocessable(f"the file cannot be imported: {message}", [FieldError(BODY, message, code)])


def load_json(body: bytes) -> Any:
    if not body.strip():
        raise unprocessable("the body is empty", "missing")
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise unprocessable(f"byte {exc.start} is not UTF-8", "encoding") from exc
    except json.JSONDecodeError as exc:
        raise unprocessable(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", "json_invalid"
        ) from exc
    except RecursionError as exc:
        raise unprocessable("the JSON is nested too deeply", "json_invalid") from exc


def clip(text: str) -> str:
    """Tools' texts may exceed a description's limit; the event keeps their start rather than the import failing."""
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "\u2026"


class Faults:
    """The errors found in one file, each naming the entry and field at fault."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str, code: str, line: int | None = None) -> None:
        self.errors.append(FieldError(field, message, code, "body", line))

    def timestamp(self, value: Any, field: str, line: int | None = None) -> datetime | None:
        """An RFC 3339 timestamp with an offset, in UTC; None (and an error) otherwise."""
        if value is None or value == "":
            self.add(field, "required", "missing", line)
            return None
        if not isinstance(value, str):  # pydantic would read a number as seconds since the epoch
            self.add(field, "must be an RFC 3339 timestamp, e.g. 2025-01-15T09:00:00Z", "string_type", line)
            return None
        try:
            return _timestamp.validate_python(value)
        except ValidationError as exc:
            self.add(field, exc.errors()[0]["msg"], "invalid_timestamp", line)
            return None

    def text(self, entry: dict[str, Any], key: str, field: str, *, required: bool = False) -> str | None:
        """`entry[key]` when it is a string; an error when it is something else, or absent and required."""
        value = entry.get(key)
        if value is None or (required and value == ""):
            if required:
                self.add(field, "required", "missing")
            return None
        if not isinstance(value, str):
            self.add(field, "must be a string", "string_type")
            return None
        return value

    def event(
        self, names: Callable[[str], str], values: dict[str, Any], line: int | None = None
    ) -> ImportedEvent | None:
        """The event, validated like one added by hand; otherwise errors at `names(event field)`, the source's field."""
        try:
            return ImportedEvent.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors():
                self.add(names(str(error["loc"][0]) if error["loc"] else ""), error["msg"], error["type"], line)
            return None

    def raise_if_any(self) -> None:
        if self.errors:
            count = len(self.errors)
            raise Unprocessable(
                f"the file cannot be imported: {count} error{'s' if count > 1 else ''}; nothing was added",
                self.errors[:MAX_ERRORS],
            )


def entries(document: Any, field: str, faults: Faults) -> list[tuple[str, dict[str, Any]]]:
    """The objects of the list `document`, each with its path (`field[i]`); any other item is an error."""
    if not isinstance(document, list):
        raise Unprocessable(
            f"the file cannot be imported: {field or BODY} must be a JSON array",
            [FieldError(field or BODY, "must be a JSON array", "list_type")],
        )
    found = []
    for index, entry in enumerate(document):
        if isinstance(entry, dict):
            found.append((f"{field}[{index}]", entry))
        else:
            faults.add(f"{field}[{index}]", "must be an object", "dict_type")
    return found


def renamed(path: str, fields: Mapping[str, str]) -> Callable[[str], str]:
    """Names an event field as the source's field of the entry at `path` (`description` -> `[3].text`)."""
    return lambda name: f"{path}.{fields.get(name, name)}"
