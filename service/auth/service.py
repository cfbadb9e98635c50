import hashlib
import secrets
import uuid

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.auth.models import ApiKey, Principal, Scope
from service.core.clock import utc_now
from service.core.database import UnitOfWork
from service.core.errors import NotFound, Unauthorized
from service.core.pagination import PageParams, page_by_id
from service.core.sql import Statement, param

KEY_PREFIX = "pm_"


def hash_key(key: str) -> str:
    """Keys are 256-bit random tokens, so a plain SHA-256 is a safe, indexable digest."""
    return hashlib.sha256(key.encode()).hexdigest()


async def create(session: AsyncSession, *, name: str, scope: Scope) -> tuple[ApiKey, str]:
    """Create a key; the plaintext is returned once and only its hash is stored."""
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(name=name, scope=scope, prefix=plaintext[:10], key_hash=hash_key(plaintext))
    session.add(api_key)
    await session.flush()
    return api_key, plaintext


_keys = ApiKey.__table__  # type: ignore[attr-defined]
_PRINCIPAL = Statement(
    sa.select(_keys.c.id.label("key_id"), _keys.c.name, _keys.c.scope).where(
        _keys.c.key_hash == param("key_hash"), _keys.c.revoked_at.is_(None)
    )
)


async def authenticate(unit: UnitOfWork, key_hash: str) -> Principal:
    row = await _PRINCIPAL.one_or_none(unit, key_hash=key_hash)
    if row is None:
        raise Unauthorized("the API key is unknown or revoked")
    return Principal.model_validate(row)


async def list_page(session: AsyncSession, page: PageParams) -> tuple[list[ApiKey], str | None]:
    return await page_by_id(session, select(ApiKey), col(ApiKey.id), page)


async def revoke(session: AsyncSession, key_id: uuid.UUID) -> None:
    api_key = await session.get(ApiKey, key_id)
    if api_key is None:
        raise NotFound(f"API key {key_id} does not exist")
    if api_key.revoked_at is None:
        api_key.revoked_at = utc_now()
        await session.flush()
