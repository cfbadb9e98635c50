"""A complete postmortem is frozen: its content, timeline and action items stop changing."""

from service.core.errors import Conflict, FieldError
from service.postmortems.enums import Status


def ensure_editable(status: Status, what: str = "the postmortem") -> None:
    """Refuse a change to a postmortem in `status` (409) when it is complete."""
    if status is Status.COMPLETE:
        raise Conflict(
            f"the postmortem is complete and frozen, so {what} cannot change; reopen it first",
            [FieldError("status", "is complete", "frozen", "resource")],
        )
