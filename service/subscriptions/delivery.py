"""Sending one event to one subscription: the outbox handler of `event.deliver` deliveries.

    2xx                              -> done; the endpoint counts as answering again
    3xx (never followed), 4xx, 5xx,  -> retried with the outbox's backoff (never sooner than a
    no answer, or an address refused    Retry-After), dead after POSTMORTEMS_OUTBOX_MAX_ATTEMPTS
    subscription disabled or gone    -> dead at once

Every attempt of a delivery carries the same `webhook-id` (the delivery's id), so a receiver can
drop a repeat, and a fresh `webhook-timestamp` and signature. When every attempt to a subscription
has failed for POSTMORTEMS_SUBSCRIPTION_DISABLE_AFTER_FAILING_HOURS, it is disabled with a reason;
a failure is noted in a short transaction of its own, before the worker settles the attempt.
"""

import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa

from service.core import clock
from service.core.database import UnitOfWork
from service.core.sql import Statement, param
from service.events.models import Event, EventPayload
from service.integrations.secrets import SecretBox
from service.outbox.models import Delivery
from service.outbox.service import Answered, Claimed
from service.subscriptions import signing, urls
from service.subscriptions.models import Subscription
from service.trackers.base import PermanentTrackerError, RetryableTrackerError, retry_after_seconds

if TYPE_CHECKING:
    from service.sync.handlers import Context

logger = logging.getLogger(__name__)

EXCERPT_BYTES = 500  # of an error answer, kept as the attempt's error

_deliveries = Delivery.__table__  # type: ignore[attr-defined]
_subscriptions = Subscription.__table__  # type: ignore[attr-defined]
_events = Event.__table__  # type: ignore[attr-defined]
_TO_SEND = Statement(
    sa.select(
        _subscriptions.c.url,
        _subscriptions.c.enabled,
        _subscriptions.c.disabled_reason,
        _subscriptions.c.secret,
        _subscriptions.c.previous_secret,
        _subscriptions.c.previous_secret_expires_at,
        _events.c.type,
        _events.c.occurred_at,
        _events.c.data,
    )
    .select_from(
        _deliveries.join(_subscriptions, _subscriptions.c.id == _deliveries.c.subscription_id).join(
            _events, _events.c.id == _deliveries.c.event_id
        )
    )
    .where(_deliveries.c.id == param("id"))
)
_ANSWERING = Statement(
    sa.update(_subscriptions)
    .where(_subscriptions.c.id == param("id"), _subscriptions.c.failing_since.is_not(None))
    .values(failing_since=None)
)
_gave_up = sa.and_(_subscriptions.c.failing_since.is_not(None), _subscriptions.c.failing_since <= param("cutoff"))
_FAILING = Statement(
    sa.update(_subscriptions)
    .where(_subscriptions.c.id == param("id"))
    .values(
        failing_since=sa.func.coalesce(_subscriptions.c.failing_since, param("now")),
        enabled=sa.case((_gave_up, sa.false()), else_=_subscriptions.c.enabled),
        disabled_reason=sa.case(
            (sa.and_(_gave_up, _subscriptions.c.enabled), param("reason", sa.Text)),
            else_=_subscriptions.c.disabled_reason,
        ),
        updated_at=sa.case(
            (sa.and_(_gave_up, _subscriptions.c.enabled), param("now")), else_=_subscriptions.c.updated_at
        ),
    )
    .returning(_subscriptions.c.enabled)
)


async def deliver(context: "Context", delivery: Claimed) -> Answered:
    async with context.database.unit(write=False) as unit:
        row = await _TO_SEND.one_or_none(unit, id=delivery.id)
    if row is None or delivery.subscription_id is None:
        raise PermanentTrackerError("the subscription or the event no longer exists")
    if not row["enabled"]:
        raise PermanentTrackerError(f"the subscription is disabled: {row['disabled_reason'] or 'by an admin'}")
    payload = EventPayload(type=row["type"], timestamp=row["occurred_at"], data=row["data"])
    body = payload.model_dump_json().encode()
    now = clock.utc_now()
    secrets = _secrets_in_use(context.box, row)
    headers = signing.headers(str(delivery.id), int(now.timestamp()), body, secrets)
    try:
        target = await urls.check(row["url"], context.settings.subscription_allowed_networks)
        status, excerpt, retry_after = await _post(context.clients.next(), target, body, headers)
    except (urls.UnsafeUrl, httpx.HTTPError) as exc:
        await _note_failure(context, delivery.subscription_id)
        raise RetryableTrackerError(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= status < 300:
        await _note_failure(context, delivery.subscription_id)
        raise RetryableTrackerError(f"HTTP {status}: {excerpt}", retry_after=retry_after, response_status=status)
    subscription_id = delivery.subscription_id

    async def save(unit: UnitOfWork) -> None:
        await _ANSWERING.all(unit, id=subscription_id)

    return Answered(save, status)


def _secrets_in_use(box: SecretBox, row: Mapping[str, Any]) -> list[str]:
    """The current secret, and the one before the last rotation until it expires."""
    secrets = [box.open(row["secret"])]
    expires_at = row["previous_secret_expires_at"]
    if row["previous_secret"] is not None and expires_at is not None and clock.utc_now() < expires_at:
        secrets.append(box.open(row["previous_secret"]))
    return secrets


async def _post(
    client: httpx.AsyncClient, target: urls.Target, body: bytes, headers: dict[str, str]
) -> tuple[int, str, float | None]:
    """POST to the address checked, as the endpoint's host; redirects are answers, not followed.

    Of the answer only the status and the first bytes are read: an endpoint cannot make the worker
    hold a large body.
    """
    request_headers = headers | {"content-type": "application/json", "host": target.host_header}
    extensions = {"sni_hostname": target.url.host} if target.url.scheme == "https" else {}
    request = client.build_request(
        "POST", target.connect_url, content=body, headers=request_headers, extensions=extensions
    )
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        excerpt = b""
        async for chunk in response.aiter_raw():
            excerpt += chunk
            if len(excerpt) >= EXCERPT_BYTES:
                break
    finally:
        await response.aclose()
    return response.status_code, excerpt[:EXCERPT_BYTES].decode(errors="replace"), retry_after_seconds(response)


async def _note_failure(context: "Context", subscription_id: uuid.UUID) -> None:
    """The endpoint failed: it is failing since now unless it was already; disabled once it failed for long."""
    hours = context.settings.subscription_disable_after_failing_hours
    now = clock.utc_now()
    reason = f"every delivery attempt failed for {hours:g} hours"
    async with context.database.unit(write=True) as unit:
        rows = await _FAILING.all(unit, id=subscription_id, now=now, cutoff=now - timedelta(hours=hours), reason=reason)
        await unit.commit()
    if rows and not rows[0]["enabled"]:
        logger.warning("subscription %s disabled: %s", subscription_id, reason)
