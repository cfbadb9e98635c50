"""The outbox worker: claims due deliveries, runs their handlers concurrently, and settles each attempt.

    RetryableTrackerError (or any unexpected error)  -> pending again after backoff with jitter,
                                                        never sooner than the tracker's Retry-After;
                                                        dead after POSTMORTEMS_OUTBOX_MAX_ATTEMPTS
    PermanentTrackerError                            -> dead at once
    Deferred (the handler must wait to act safely)   -> pending again when it asked, not counted
                                                        as an attempt (`sync.creates`)
A dead push marks its action item `failed`; `POST /v1/deliveries/{id}/retry` revives it.
It also enqueues a reconcile for linked items whose state was not confirmed for a while, and
records `action_item.overdue` for items that passed their due date (`events.overdue`).

A delivery spends most of its time waiting for the tracker, so a worker keeps up to
POSTMORTEMS_WORKER_CONCURRENCY of them in flight, claiming more as they finish. Claims never hand
out two deliveries of one action item at once (`outbox.service.claim`), so concurrency cannot
make two tickets for one item.

While the database is unreachable the worker keeps running and retries with backoff (`outage`).
Told to stop, it claims no more, lets the deliveries in flight finish for up to
POSTMORTEMS_SHUTDOWN_GRACE_SECONDS, and releases the others, so that another worker takes them up
at once instead of when their lease runs out.
"""

import asyncio
import logging
import time
from datetime import datetime, timedelta

from sqlmodel import col, select

from service.action_items.models import ActionItem
from service.core.clock import utc_now
from service.db import DatabaseUnavailable
from service.events import overdue
from service.observability.metrics import Metrics
from service.outbox import service as outbox_service
from service.outbox.models import DeliveryKind, DeliveryStatus
from service.outbox.outage import DatabaseOutage
from service.outbox.service import Answered, Claimed
from service.outbox.trackers import TrackerKinds
from service.sync import rows
from service.sync import service as sync_service
from service.sync.creates import Deferred
from service.sync.handlers import HANDLERS, Context, Save
from service.trackers.base import PermanentTrackerError, RetryableTrackerError

logger = logging.getLogger(__name__)

CLAIM_BATCH = 10
OVERDUE_CHECK_SECONDS = 60.0  # due dates are days: a minute late is on time

InFlight = dict[asyncio.Task[None], Claimed]


class Worker:
    def __init__(self, context: Context, metrics: Metrics) -> None:
        self.context = context
        self.settings = context.settings
        self.metrics = metrics
        self.outage = DatabaseOutage(first_retry_seconds=context.settings.worker_poll_seconds)
        self._trackers = TrackerKinds()
        self._next_overdue_check = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then finish or release the deliveries in flight."""
        logger.info("outbox worker started")
        in_flight: InFlight = {}
        stopping = asyncio.create_task(stop.wait())
        while not stop.is_set():
            claimed = 0
            wait = self.settings.worker_poll_seconds
            try:
                claimed = await self._claim_more(in_flight)
            except DatabaseUnavailable as error:
                wait = self.outage.retry_in(error)
            except Exception:
                logger.exception("outbox worker iteration failed")
            if claimed == 0 or len(in_flight) >= self.settings.worker_concurrency:
                # Nothing due, no room or no database: wait for a delivery to finish, the next try, or the stop.
                await asyncio.wait({*in_flight, stopping}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        await self._finish_or_release(in_flight)
        logger.info("outbox worker stopped")

    async def run_once(self) -> int:
        """Claim one batch and process it; the number of deliveries processed."""
        claimed = await self._claim(limit=min(CLAIM_BATCH, self.settings.worker_concurrency))
        await asyncio.gather(*(self._process(delivery) for delivery in claimed))
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
                    unit, DeliveryKind.SYNC, action_item_id=item_id, integration_id=integration_id
                )
            # Not again until the next period, whatever the answer; bookkeeping, so no new item version.
            await sync_service.confirm(unit, [item_id for item_id, _ in stale])
            await unit.commit()
        return len(stale)

    async def record_overdue(self) -> int:
        """Record `action_item.overdue` for the items that passed their due date since the last look."""
        self._next_overdue_check = time.monotonic() + OVERDUE_CHECK_SECONDS
        return await overdue.record(self.context.database, self.settings.action_item_slo_days)

    async def _claim_more(self, in_flight: InFlight) -> int:
        """Start what is due, as far as there is room; with nothing due or in flight, enqueue reconciles."""
        room = self.settings.worker_concurrency - len(in_flight)
        if room <= 0:
            return 0
        claimed = await self._claim(limit=min(room, CLAIM_BATCH))
        self.outage.reached()
        for delivery in claimed:
            task = asyncio.create_task(self._process(delivery))
            in_flight[task] = delivery
            task.add_done_callback(in_flight.pop)
        if not in_flight:
            await self.enqueue_reconciles()
            if time.monotonic() >= self._next_overdue_check:
                await self.record_overdue()
        return len(claimed)

    async def _finish_or_release(self, in_flight: InFlight) -> None:
        """Give the deliveries in flight the grace period to finish; cancel the others and release them."""
        if not in_flight:
            return
        grace = self.settings.shutdown_grace_seconds
        logger.info("outbox worker stopping: %d deliveries in flight, given %g s to finish", len(in_flight), grace)
        _, unfinished = await asyncio.wait(set(in_flight), timeout=grace)
        if not unfinished:
            return
        deliveries = [in_flight[task].id for task in unfinished]
        for task in unfinished:
            task.cancel()
        await asyncio.wait(unfinished)
        try:
            async with self.context.database.unit(write=True) as unit:
                await outbox_service.release(unit, deliveries)
                await unit.commit()
        except DatabaseUnavailable as error:
            logger.warning(
                "%d unfinished deliveries could not be released (%s); they are taken up when their lease runs out",
                len(deliveries),
                error,
            )
            return
        logger.info("released %d unfinished deliveries to the other workers", len(deliveries))

    async def _claim(self, *, limit: int) -> list[Claimed]:
        async with self.context.database.unit(write=True) as unit:
            lease = timedelta(seconds=self.settings.outbox_lease_seconds)
            claimed = await outbox_service.claim(unit, limit=limit, lease=lease)
            await unit.commit()
        return claimed

    async def _process(self, delivery: Claimed) -> None:
        started_at = utc_now()
        save: Save | None = None
        outcome: DeliveryStatus | None = DeliveryStatus.DONE
        error: str | None = None
        response_status: int | None = None
        retry_in = 0.0
        deferred = False
        try:
            result = await HANDLERS[delivery.kind](self.context, delivery)
            if isinstance(result, Answered):
                save, response_status = result.save, result.response_status
            else:
                save = result
        except Deferred as exc:
            outcome, error, retry_in, deferred = None, exc.reason, exc.seconds, True
        except PermanentTrackerError as exc:
            outcome, error, response_status = DeliveryStatus.DEAD, exc.message, exc.response_status
        except RetryableTrackerError as exc:
            outcome, error, response_status = None, exc.message, exc.response_status
            retry_in = self._backoff(delivery.attempts, exc.retry_after)
        except Exception as exc:
            if isinstance(exc, DatabaseUnavailable):  # not this delivery's fault: logged once for the outage
                self.outage.noticed(exc)
            else:
                logger.exception("delivery %s failed unexpectedly", delivery.id)
            outcome, error = None, f"{type(exc).__name__}: {exc}"
            retry_in = self._backoff(delivery.attempts, None)
        if outcome is None and not deferred and delivery.attempts >= self.settings.outbox_max_attempts:
            outcome = DeliveryStatus.DEAD
        # If the attempt cannot be settled, the lease runs out and another attempt takes the delivery up again.
        try:
            await self._settle(
                delivery, save, started_at, outcome, error, retry_in, deferred=deferred, response_status=response_status
            )
        except DatabaseUnavailable as exc:
            self.outage.noticed(exc)
            return
        except Exception:
            logger.exception("delivery %s could not be settled", delivery.id)
            return
        await self._count(delivery, outcome, started_at)
        logger.info(
            "delivery %s %s attempt %d: %s",
            delivery.id,
            delivery.kind.value,
            delivery.attempts,
            "deferred: " + (error or "") if deferred else "retry" if outcome is None else outcome.value,
        )

    async def _settle(
        self,
        delivery: Claimed,
        save: Save | None,
        started_at: datetime,
        outcome: DeliveryStatus | None,
        error: str | None,
        retry_in: float,
        *,
        deferred: bool,
        response_status: int | None,
    ) -> None:
        """Save what the tracker said and the attempt's outcome, in one transaction."""
        async with self.context.database.unit(write=True) as unit:
            if save is not None:
                await save(unit)
            await outbox_service.record(
                unit,
                delivery.id,
                started_at=started_at,
                outcome=outcome,
                error=error,
                retry_in=retry_in,
                deferred=deferred,
                response_status=response_status,
            )
            if outcome is DeliveryStatus.DEAD and delivery.kind is DeliveryKind.PUSH and delivery.action_item_id:
                loaded = await rows.locked(unit, delivery.action_item_id)
                if loaded is not None:
                    sync_service.mark_failed(loaded.item, error or "delivery failed")
                    await rows.save(unit, loaded)
            await unit.commit()

    async def _count(self, delivery: Claimed, outcome: DeliveryStatus | None, started_at: datetime) -> None:
        tracker = await self._trackers.of(self.context.database, delivery.integration_id)
        self.metrics.deliveries.labels(tracker, "retry" if outcome is None else outcome.value).inc()
        self.metrics.delivery_latency.labels(tracker).observe((utc_now() - started_at).total_seconds())

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        return outbox_service.backoff(
            attempts,
            first=self.settings.outbox_backoff_seconds,
            maximum=self.settings.outbox_backoff_max_seconds,
            retry_after=retry_after,
        )
