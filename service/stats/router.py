from typing import Annotated

from fastapi import APIRouter, Query

from service.auth.dependencies import ReadAccess
from service.core.http import SettingsDep, responses
from service.dependencies import UnitDep
from service.stats import service as stats_service
from service.stats.models import Stats, StatsParams

router = APIRouter(prefix="/stats", tags=["stats"])


@router.get("", summary="Postmortem practice metrics", responses=responses(401, 403, 422))
async def get(_: ReadAccess, params: Annotated[StatsParams, Query()], unit: UnitDep, settings: SettingsDep) -> Stats:
    """How timely, precise and actionable postmortems are over a window, each figure against its target."""
    # The figures come from more than one statement (the percentiles, on SQLite): one snapshot keeps them consistent.
    return await stats_service.compute(await unit.snapshot_session(), params, settings)
