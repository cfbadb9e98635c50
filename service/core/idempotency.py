"""Idempotency-Key for POST: a retried request replays the first answer instead of acting twice.

A record is written in the same transaction as the work it describes, so either both are
committed or neither is. Records are scoped to the credential that made the request.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Dialect
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field

from service.core.base import IdMixin, new_id
from service.core.clock import utc_now
from service.core.database import UnitOfWork
from service.core.errors import FieldError, Unprocessable
from service.core.sql import Statement, param
from service.core.types import JSONValue, UTCDateTime

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("location", "etag", "content-type", "cache-control")


class IdempotencyRecord(IdMixin, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("credential_hash", "key"),)

    credential_hash: str = Field(max_length=64)
    key: str = Field(max_length=MAX_KEY_LENGTH)
    fingerprint: str = Field(max_length=64)
    status_code: int
    headers: dict[str, str] = Field(sa_type=JSONValue)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)


_records = IdempotencyRecord.__table__  # type: ignore[attr-defined]

_FIND = Statement(
    sa.select(_records.c.fingerprint, _records.c.status_code, _records.c.headers, _records.c.body).where(
        _records.c.credential_hash == param("credential"), _records.c.key == param("key")
    )
)


def _insert_unless_taken(dialect: Dialect) -> sa.Executable:
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    values = {column: param(column) for column in ("id", "fingerprint", "status_code", "headers", "body")}
    values |= {"credential_hash": param("credential"), "key": param("key"), "created_at": param("created_at")}
    statement = insert(_records).values(values)
    return statement.on_conflict_do_nothing(index_elements=["credential_hash", "key"]).returning(_records.c.id)


_REMEMBER = Statement(_insert_unless_taken)


@dataclass(frozen=True, slots=True)
class Request:
    """A POST carrying an Idempotency-Key: whose it is, the key, and what it asks for."""

    credential: str
    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    headers: dict[str, str]
    body: bytes


def credential_hash(authorization: str) -> str:
    return hashlib.sha256(authorization.encode()).hexdigest()


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    """Hash of what the request asks for; JSON bodies are canonicalised so key order does not matter."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse: compare the raw bytes
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def validate_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unprocessable(
            "the Idempotency-Key header is invalid",
            [FieldError("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} characters", "invalid_length", "header")],
        )


async def find(unit: UnitOfWork, request: Request) -> StoredResponse | None:
    """The stored answer for this key, or None; a key reused for another request is refused."""
    record = await _FIND.one_or_none(unit, credential=request.credential, key=request.key)
    if record is None:
        return None
    if record["fingerprint"] != request.fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was already used for a different request",
            [
                FieldError(
                    "Idempotency-Key", "already used with another request body", "idempotency_key_reused", "header"
                )
            ],
        )
    return StoredResponse(record["status_code"], dict(record["headers"]), record["body"].encode())


async def remember(unit: UnitOfWork, request: Request, response: StoredResponse) -> bool:
    """Store the answer in the unit's transaction; False when a concurrent request took the key first."""
    stored = await _REMEMBER.all(
        unit,
        id=new_id(),
        credential=request.credential,
        key=request.key,
        fingerprint=request.fingerprint,
        status_code=response.status_code,
        headers={k: v for k, v in response.headers.items() if k in REPLAYED_HEADERS},
        body=response.body.decode(),
        created_at=utc_now(),
    )
    return bool(stored)
