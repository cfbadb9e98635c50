"""Request-scoped dependencies shared by every router."""

from typing import Annotated

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from service.core.database import UnitOfWork
from service.core.unit_of_work import UNIT_STATE_KEY


async def get_unit(request: Request) -> UnitOfWork:
    """The request's unit of work, opened and settled by `UnitOfWorkMiddleware`."""
    unit: UnitOfWork = getattr(request.state, UNIT_STATE_KEY)
    return unit


UnitDep = Annotated[UnitOfWork, Depends(get_unit)]


async def get_session(unit: UnitDep) -> AsyncSession:
    """The ORM session of the request's unit of work."""
    return await unit.session()


SessionDep = Annotated[AsyncSession, Depends(get_session)]
