"""A complete postmortem is frozen: its content, timeline and action items stop changing."""

from service.core.errors import Conflict, FieldError
from service.postmortems.enums import Status
from service.postmortems.models import Postmortem


def ensure_editable(postmortem: Postmortem, what: str = "the postmortem") -> None:
    if postmortem.status is Status.COMPLETE:
        raise Conflict(
            f"the postmortem is complete and frozen, so {what} cannot change; reopen it first",
            [FieldError("status", "is complete", "frozen", "resource")],
        )
