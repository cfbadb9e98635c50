"""Liveness and readiness probes; they need no API key."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.core.problems import problem_response, problem_responses
from service.db import current_revision
from service.migrate import head, is_behind

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(description="`ok`.", examples=["ok"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", summary="Readiness", response_model=Health, responses=problem_responses(503))
async def readyz(request: Request) -> Health | JSONResponse:
    """The database answers and its schema is at this build's version, or a newer release's (see `migrate`)."""
    engine = request.app.state.engine
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        revision = await current_revision(engine)
    except (OSError, SQLAlchemyError):
        return problem_response(request.url.path, 503, detail="the database is unreachable")
    if is_behind(revision):
        return problem_response(
            request.url.path,
            503,
            detail=f"the database schema is at {revision}, this build needs {head()}: run `postmortems migrate`",
        )
    return Health(status="ready")
