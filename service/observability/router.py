"""`GET /metrics`: Prometheus's text format; like the probes, it needs no API key (scrapers have none)."""

import logging

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import SQLAlchemyError

from service.core.clock import utc_now
from service.core.database import Database
from service.observability.metrics import CONTENT_TYPE, Metrics
from service.outbox.backlog import backlog

router = APIRouter()
logger = logging.getLogger(__name__)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    return Response(await exposition(registry, request.app.state.database), media_type=CONTENT_TYPE)


async def exposition(metrics: Metrics, database: Database) -> bytes:
    """The metrics, after reading those measured at scrape time; the outbox's stay as last read when
    the database does not answer (the pool's and the requests' still tell what is going on)."""
    metrics.read_pool(database)
    try:
        async with database.unit(write=False) as unit:
            pending = await backlog(unit)
    except (OSError, SQLAlchemyError):
        logger.warning("the outbox backlog could not be read for /metrics", exc_info=True)
    else:
        metrics.outbox_depth.set(pending.pending)
        metrics.outbox_oldest_age.set((utc_now() - pending.oldest).total_seconds() if pending.oldest else 0)
    return metrics.render()
