"""ETags from resource versions, and If-Match checks for optimistic concurrency."""

from typing import Annotated

from fastapi import Header

from service.core.errors import FieldError, PreconditionFailed

IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description="ETag of the version being changed; a stale one answers 412.",
    ),
]


def etag_for(version: int) -> str:
    return f'"{version}"'


def check_if_match(if_match: str | None, version: int) -> None:
    """Raise 412 unless `If-Match` is absent, `*`, or names the current version."""
    if if_match is None:
        return
    candidates = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" in candidates or etag_for(version) in candidates:
        return
    raise PreconditionFailed(
        f"the resource is at version {version}; fetch it again before changing it",
        [FieldError("If-Match", f"does not match the current ETag {etag_for(version)}", "etag_mismatch", "header")],
    )
