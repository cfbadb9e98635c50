"""Direct database access, for tests that arrange what the API cannot (old timestamps, raw rows)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from service.core.database import Database


@asynccontextmanager
async def committed_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed when the block ends without an error."""
    async with Database(engine).unit(write=True) as unit:
        yield await unit.session()
        await unit.commit()
