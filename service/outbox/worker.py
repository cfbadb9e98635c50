"""The outbox worker: claims due deliveries, runs their handlers, and settles each attempt.

    RetryableTrackerError (or any unexpected error)  -> pending again after backoff with jitter,
                                                        never sooner than the tracker's Retry-After;
                                                        dead after POSTMORTEMS_OUTBOX_MAX_ATTEMPTS
    PermanentTrackerError                            -> dead at once
A dead push marks its action item `failed`; `POST /v1/deliveries/{id}/retry` revives it.
It also enqueues a reconcile for linked items whose state was not confirmed for a while.
"""

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlmodel import col, select

from service.action_items.models import ActionItem
from service.core.clock import utc_now
from service.outbox import service as outbox_service
from service.outbox.models import Delivery, DeliveryKind, DeliveryStatus
from service.sync import service as sync_service
from service.sync.handlers import HANDLERS, Context
from service.trackers.base import PermanentTrackerError, RetryableTrackerError

logger = logging.getLogger(__name__)

CLAIM_BATCH = 10


class Worker:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.settings = context.settings

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set; a delivery in progress is finished first."""
        logger.info("outbox worker started")
        while not stop.is_set():
            try:
                processed = await self.run_once()
                if processed == 0:
                    await self.enqueue_reconciles()
            except Exception:
                logger.exception("outbox worker iteration failed")
                processed = 0
            if processed == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.settings.worker_poll_seconds)
        logger.info("outbox worker stopped")

    async def run_once(self) -> int:
        """Claim one batch and process it; the number of deliveries processed."""
        async with self.context.database.unit(write=True) as unit:
            lease = timedelta(seconds=self.settings.outbox_lease_seconds)
            claimed = await outbox_service.claim(await unit.session(), limit=CLAIM_BATCH, lease=lease)
            await unit.commit()
        for delivery_id in claimed:
            await self._process(delivery_id)
        return len(claimed)

    async def run_until_idle(self, *, max_rounds: int = 1000) -> None:
        """Process until nothing is due (bounded); for the CLI's one-shot mode and tests."""
        for _ in range(max_rounds):
            if await self.run_once() == 0:
                return

    async def enqueue_reconciles(self) -> int:
        """Poll linked tickets whose state was not confirmed for `reconcile_after_seconds`."""
        stale_before = utc_now() - timedelta(seconds=self.settings.reconcile_after_seconds)
        async with self.context.database.unit(write=True) as unit:
            session = await unit.session()
            statement = (
                select(ActionItem.id, ActionItem.integration_id)
                .where(
                    col(ActionItem.external_id).is_not(None),
                    col(ActionItem.integration_id).is_not(None),
                    col(ActionItem.external_synced_at) < stale_before,
                )
                .limit(100)
                .with_for_update(skip_locked=True)  # another worker polling at the same time takes others
            )
            stale = list((await session.exec(statement)).all())
            for item_id, integration_id in stale:
                await outbox_service.enqueue(
                    session, DeliveryKind.SYNC, action_item_id=item_id, integration_id=integration_id
                )
            # Not again until the next period, whatever the answer; bookkeeping, so no new item version.
            await sync_service.confirm(session, [item_id for item_id, _ in stale])
            await unit.commit()
        return len(stale)

    async def _process(self, delivery_id: object) -> None:
        started_at = utc_now()
        async with self.context.database.unit(write=False) as unit:
            session = await unit.session()
            delivery = await session.get(Delivery, delivery_id)
            if delivery is None:
                return
            session.expunge(delivery)
        outcome: DeliveryStatus | None = DeliveryStatus.DONE
        error: str | None = None
        retry_in = 0.0
        try:
            await HANDLERS[delivery.kind](self.context, delivery)
        except PermanentTrackerError as exc:
            outcome, error = DeliveryStatus.DEAD, exc.message
        except RetryableTrackerError as exc:
            outcome, error = None, exc.message
            retry_in = self._backoff(delivery.attempts, exc.retry_after)
        except Exception as exc:
            logger.exception("delivery %s failed unexpectedly", delivery.id)
            outcome, error = None, f"{type(exc).__name__}: {exc}"
            retry_in = self._backoff(delivery.attempts, None)
        if outcome is None and delivery.attempts >= self.settings.outbox_max_attempts:
            outcome = DeliveryStatus.DEAD
        logger.info(
            "delivery %s %s attempt %d: %s",
            delivery.id,
            delivery.kind.value,
            delivery.attempts,
            "retry" if outcome is None else outcome.value,
        )
        async with self.context.database.unit(write=True) as unit:
            session = await unit.session()
            current = await session.get(Delivery, delivery.id, with_for_update=True)
            if current is None:
                return
            await outbox_service.record(
                session, current, started_at=started_at, outcome=outcome, error=error, retry_in=retry_in
            )
            if outcome is DeliveryStatus.DEAD and current.kind is DeliveryKind.PUSH and current.action_item_id:
                item = await session.get(ActionItem, current.action_item_id)
                if item is not None:
                    sync_service.mark_failed(item, error or "delivery failed")
            await unit.commit()

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        return outbox_service.backoff(
            attempts,
            first=self.settings.outbox_backoff_seconds,
            maximum=self.settings.outbox_backoff_max_seconds,
            retry_after=retry_after,
        )
