from fastapi import APIRouter

from service.auth.dependencies import ReadAccess
from service.core.http import SettingsDep, responses
from service.dependencies import SessionDep
from service.policy import service as policy_service
from service.policy.models import IncidentFacts, PolicyDecision

router = APIRouter(prefix="/policy", tags=["policy"])


@router.post(
    "/evaluate",
    summary="Is a postmortem owed?",
    responses=responses(401, 403, 413, 415, 422),
)
async def evaluate(_: ReadAccess, facts: IncidentFacts, session: SessionDep, settings: SettingsDep) -> PolicyDecision:
    """Whether an incident owes a postmortem, with which template, and why.

    Chat bots and portals call it when an incident closes. It changes nothing, so a `read` key is enough.

    A postmortem is owed when any rule in force applies. By default (every threshold and rule is a
    `POSTMORTEMS_POLICY_*` setting): `severity` (P1 or P2), `duration` (longer than 30 minutes),
    `customer_impact`, `data_loss`, `security`, `near_miss` (a near miss with high potential) and `repeat`
    (a postmortem with the same `failure_mode` whose incident began in the last 90 days; they are listed,
    newest first, in `related_postmortem_ids`). `reasons` holds every rule that applies, in that order.

    The template is the default for the severity, `quick` for P3 and `standard` otherwise, except that a
    reason in `POSTMORTEMS_POLICY_STANDARD_REASONS` (by default `data_loss` and `security`) calls for
    `standard` at any severity. When nothing is owed, `required` is false, `template` null and `reasons` empty.
    """
    return await policy_service.decide(session, facts, settings)
