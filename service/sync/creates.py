"""Creating an item's ticket at most once, also where the tracker's search lags behind its writes.

A ticket may exist without its link being saved when an earlier push attempt reached the tracker and
then crashed or failed; the next attempt looks it up by the item's marker before it creates. Where
that lookup is consistent (GitHub, Linear), that is enough. Jira finds a ticket by a search that shows
a new issue only after a delay (`TrackerAdapter.find_lags`), so a retry coming within that delay would
miss the ticket and make a second one. There the create is guarded:

    before the create    its time is noted on the delivery, in a transaction of its own, so that it is
                         known even if the worker dies while the tracker answers
    the create fails     the ticket it made (`created_issue_id`: a later step failed) is noted, and the
                         next lookup passes it to the tracker, which reads it consistently; a create the
                         tracker refused (a 4xx: `refused`) made nothing, so its note is cleared
    nothing is found     while the last create, whose ticket is not known, was sent less than
                         POSTMORTEMS_JIRA_SEARCH_LAG_SECONDS ago: the delivery is deferred (`Deferred`,
                         not counted as an attempt) and looks again each time that create's age has
                         doubled; once the bound has passed without a match, it creates again

So a second ticket is made only when the tracker's search takes longer than the bound to show the
first, and never when the first create's answer told its id.
"""

import uuid
from datetime import datetime

from service.core.clock import utc_now
from service.core.database import Database
from service.outbox import service as outbox_service
from service.outbox.service import Claimed, LastCreate
from service.settings import Settings
from service.trackers.base import IssueDraft, RemoteIssue, TrackerAdapter, TrackerError


class Deferred(Exception):
    """A handler cannot act safely yet: the delivery is due again in `seconds`, and this attempt does not count."""

    def __init__(self, reason: str, *, seconds: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds


async def find_or_create(
    database: Database,
    settings: Settings,
    delivery: Claimed,
    adapter: TrackerAdapter,
    draft: IssueDraft,
    *,
    look_first: bool,
) -> RemoteIssue:
    """The ticket an earlier attempt made (looked for when `look_first`), else a new one."""
    if not adapter.find_lags:
        found = await adapter.find_issue(draft.marker) if look_first else None
        return found or await adapter.create_issue(draft)
    if look_first:
        last = await _last_create(database, delivery)
        created_ids = [last.issue_id] if last is not None and last.issue_id is not None else []
        found = await adapter.find_issue(draft.marker, created_ids=created_ids)
        if found is not None:
            return found
        if last is not None and last.issue_id is None:
            _wait_for_the_search(last, lag=settings.jira_search_lag_seconds, first=settings.outbox_backoff_seconds)
    return await _create(database, delivery.id, adapter, draft)


def _wait_for_the_search(last: LastCreate, *, lag: float, first: float) -> None:
    """Defer while the ticket of the last create could still be missing from the search."""
    age = (utc_now() - last.sent_at).total_seconds()
    remaining = lag - age
    if remaining > 0:
        raise Deferred(
            f"a create sent {age:.1f} s ago may have made a ticket the search does not show yet; "
            f"it is created again only if none shows within {lag:g} s",
            seconds=min(remaining, max(age, first)),
        )


async def _create(
    database: Database, delivery_id: uuid.UUID, adapter: TrackerAdapter, draft: IssueDraft
) -> RemoteIssue:
    sent_at = utc_now()
    await _note(database, delivery_id, sent_at=sent_at)
    try:
        return await adapter.create_issue(draft)
    except TrackerError as error:
        if error.created_issue_id is not None:
            await _note(database, delivery_id, sent_at=sent_at, issue_id=error.created_issue_id)
        elif error.refused:
            await _note(database, delivery_id, sent_at=None)
        raise


async def _note(
    database: Database, delivery_id: uuid.UUID, *, sent_at: datetime | None, issue_id: str | None = None
) -> None:
    async with database.unit(write=True) as unit:
        await outbox_service.note_create(unit, delivery_id, sent_at=sent_at, issue_id=issue_id)
        await unit.commit()


async def _last_create(database: Database, delivery: Claimed) -> LastCreate | None:
    if delivery.action_item_id is None:
        return None
    async with database.unit(write=False) as unit:
        return await outbox_service.last_create(
            unit, action_item_id=delivery.action_item_id, integration_id=delivery.integration_id
        )
