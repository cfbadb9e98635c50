from fastapi import APIRouter

from service.auth.dependencies import ReadAccess
from service.core.http import responses
from service.dependencies import SessionDep
from service.postmortems.dependencies import PostmortemDep
from service.review import service as review_service
from service.review.models import Review

router = APIRouter(prefix="/postmortems", tags=["postmortems"])


@router.get(
    "/{postmortem_id}/review",
    summary="Review for blame and quality",
    responses=responses(401, 403, 404, 422),
)
async def review(_: ReadAccess, postmortem: PostmortemDep, session: SessionDep) -> Review:
    """Blameless and quality findings: blame language, human-error root causes, vague action items, imprecise
    data, a length that does not fit the severity, no "what went well", unlinked repeat incidents, and a review
    meeting facilitated by an author or held less than 24 hours after submission.

    `error` findings of the rules in the `POSTMORTEMS_REVIEW_BLOCKING_RULES` setting (default: `blame-language`,
    `human-error-root-cause`) also block `complete`.
    """
    return Review(findings=await review_service.review(session, postmortem))
