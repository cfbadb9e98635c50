"""ETags that name a representation, and the If-Match check that keeps concurrent edits from overwriting each other.

A resource's ETag is a strong tag of its JSON representation's bytes, not of its stored
version: everything the representation shows moves it, whether the row itself changed, a child
changed (a postmortem's action-item summary), or only the clock did (overdue flags). `If-Match`
is checked against the same tag, so a client who read a representation before any of that
changed gets 412 and reads again rather than acting on what it no longer shows.
"""

import hashlib
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header
from pydantic import BaseModel

from service.core.errors import FieldError, PreconditionFailed

IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description="ETag of the representation being changed; a stale one answers 412.",
    ),
]

ETAG_HEADER: dict[str, Any] = {
    "ETag": {
        "description": "Tag of this representation, for `If-Match` and `If-None-Match`.",
        "schema": {"type": "string"},
    }
}

_ENTITY_TAG = re.compile(r'(?:W/)?("[^"]*")')


def etag_of(body: bytes) -> str:
    """The strong entity tag of a representation's bytes."""
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def etag_for(representation: BaseModel, shown_as: type[BaseModel] | None = None) -> str:
    """The tag of a model's JSON, as `json_response` sends it (`shown_as`: serialized as that base class)."""
    serializer = (shown_as or type(representation)).__pydantic_serializer__
    return etag_of(serializer.to_json(representation))


def matches(header: str, etag: str) -> bool:
    """Whether an `If-None-Match` or `If-Match` value names `etag`: `*`, or a list of tags compared weakly
    (RFC 9110 13.1.2: `W/"x"` matches `"x"`). Anything that is not a quoted tag is ignored.

    `If-Match` is compared weakly too, as it always was here, though RFC 9110 asks for strong
    comparison: every tag this service makes is strong, and a proxy that weakens the ones it
    compresses must not turn every edit behind it into a 412.
    """
    return header.strip() == "*" or etag in _ENTITY_TAG.findall(header)


Representation = Callable[[], BaseModel | Awaitable[BaseModel]]


async def check_if_match(if_match: str | None, current: Representation) -> None:
    """Raise 412 unless `If-Match` is absent or names the current representation.

    `current` renders it only when the header is sent, so writes without one pay nothing.
    """
    if if_match is None:
        return
    rendered = current()
    representation = await rendered if inspect.isawaitable(rendered) else rendered
    etag = etag_for(representation)
    if matches(if_match, etag):
        return
    if if_match.strip() != "*" and not _ENTITY_TAG.search(if_match):
        raise PreconditionFailed(
            "If-Match names no ETag: an ETag is a quoted string, sent back exactly as the ETag header gave it",
            [FieldError("If-Match", f"is not a quoted ETag; the current one is {etag}", "etag_unquoted", "header")],
        )
    raise PreconditionFailed(
        "the resource has changed since that ETag was sent; fetch it again before changing it",
        [FieldError("If-Match", f"does not match the current ETag {etag}", "etag_mismatch", "header")],
    )
