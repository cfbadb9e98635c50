"""Request-scoped dependencies shared by every router."""

from typing import Annotated

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from service.core.unit_of_work import SESSION_STATE_KEY


def get_session(request: Request) -> AsyncSession:
    """The request's session, opened and settled by `UnitOfWorkMiddleware`."""
    session: AsyncSession = getattr(request.state, SESSION_STATE_KEY)
    return session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
