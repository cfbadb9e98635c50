"""Domain errors. Services raise these; `core.problems` renders them as RFC 9457 documents.

DomainError
├── Unauthorized        401  no or unknown API key
│   └── SignatureRejected      a webhook whose signature does not verify
├── Forbidden           403  the key's scope does not allow the operation
├── NotFound            404
├── Conflict            409  the resource's state forbids the operation
├── PreconditionFailed  412  If-Match does not name the current representation
└── Unprocessable       422  the request is well-formed but its content is invalid
"""

from dataclasses import dataclass
from typing import ClassVar, Literal

Location = Literal["body", "query", "path", "header", "resource"]


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str
    code: str
    location: Location = "body"
    line: int | None = None  # 1-based line of an imported document, for errors found in one


class DomainError(Exception):
    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"
    challenge: ClassVar[str | None] = "Bearer"  # the WWW-Authenticate scheme to answer with


class SignatureRejected(Unauthorized):
    """A webhook whose signature does not verify; webhooks take no API key, so no Bearer challenge."""

    slug = "invalid-signature"
    title = "Invalid webhook signature"
    challenge = None


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title = "Insufficient scope"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict with the resource's state"


class PreconditionFailed(DomainError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"


class Unprocessable(DomainError):
    status = 422
    slug = "validation-error"
    title = "Invalid request"
