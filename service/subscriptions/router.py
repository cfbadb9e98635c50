import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import ConfigDict

from service.auth.dependencies import AdminAccess
from service.core.http import SettingsDep, responses
from service.core.pagination import Page, PageParams
from service.dependencies import SessionDep
from service.integrations.router import SecretBoxDep
from service.outbox.models import DeliveryStatus
from service.subscriptions import service as subscriptions_service
from service.subscriptions.models import (
    SecretRotated,
    Subscription,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionDeliveryRead,
    SubscriptionRead,
    SubscriptionUpdate,
)

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])

SubscriptionId = Annotated[uuid.UUID, Path(description="The subscription's id.")]
NO_STORE = "no-store"  # the answer holds a secret: never cached, never kept for an Idempotency-Key replay


async def subscription_or_404(subscription_id: SubscriptionId, session: SessionDep) -> Subscription:
    return await subscriptions_service.get(session, subscription_id)


async def subscription_for_update(subscription_id: SubscriptionId, session: SessionDep) -> Subscription:
    return await subscriptions_service.get(session, subscription_id, for_update=True)


SubscriptionDep = Annotated[Subscription, Depends(subscription_or_404)]
LockedSubscription = Annotated[Subscription, Depends(subscription_for_update)]


class DeliveryFilters(PageParams):
    model_config = ConfigDict(extra="forbid")

    status: DeliveryStatus | None = None


@router.post("", status_code=201, summary="Subscribe to events", responses=responses(401, 403, 413, 415, 422))
async def create(
    _: AdminAccess,
    subscription_in: SubscriptionCreate,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
    response: Response,
) -> SubscriptionCreated:
    """Send events to an endpoint, signed per Standard Webhooks; the answer is the only time the secret is shown."""
    subscription, secret = await subscriptions_service.create(
        session, box, subscription_in, allowed=settings.subscription_allowed_networks
    )
    response.headers.update({"Location": f"/v1/subscriptions/{subscription.id}", "Cache-Control": NO_STORE})
    return SubscriptionCreated.model_validate(
        SubscriptionRead.model_validate(subscription).model_dump() | {"secret": secret}
    )


@router.get("", name="list", summary="List subscriptions", responses=responses(401, 403, 422))
async def list_subscriptions(
    _: AdminAccess, page: Annotated[PageParams, Query()], session: SessionDep
) -> Page[SubscriptionRead]:
    """Every subscription, oldest first; secrets are never shown."""
    subscriptions, next_cursor = await subscriptions_service.list_page(session, page)
    return Page(items=[SubscriptionRead.model_validate(s) for s in subscriptions], next_cursor=next_cursor)


@router.get("/{subscription_id}", summary="Get a subscription", responses=responses(401, 403, 404, 422))
async def get(_: AdminAccess, subscription: SubscriptionDep) -> SubscriptionRead:
    """One subscription, with why it was disabled if it was."""
    return SubscriptionRead.model_validate(subscription)


@router.patch("/{subscription_id}", summary="Update a subscription", responses=responses(401, 403, 404, 413, 415, 422))
async def update(
    _: AdminAccess,
    changes: SubscriptionUpdate,
    subscription: LockedSubscription,
    session: SessionDep,
    settings: SettingsDep,
) -> SubscriptionRead:
    """Change the fields sent; `enabled: true` re-enables a subscription the service disabled."""
    changed = await subscriptions_service.update(
        session, subscription, changes, allowed=settings.subscription_allowed_networks
    )
    return SubscriptionRead.model_validate(changed)


@router.delete(
    "/{subscription_id}", status_code=204, summary="Delete a subscription", responses=responses(401, 403, 404, 422)
)
async def delete(_: AdminAccess, subscription: LockedSubscription, session: SessionDep) -> None:
    """Stop sending events to the endpoint; deliveries not yet made are dropped."""
    await subscriptions_service.delete(session, subscription)


@router.post(
    "/{subscription_id}/rotate-secret", summary="Rotate the signing secret", responses=responses(401, 403, 404, 422)
)
async def rotate_secret(
    _: AdminAccess, subscription: LockedSubscription, session: SessionDep, box: SecretBoxDep, response: Response
) -> SecretRotated:
    """A new secret, shown only in this answer; for 24 hours deliveries are signed with the old one too."""
    response.headers["Cache-Control"] = NO_STORE
    return await subscriptions_service.rotate_secret(session, box, subscription)


@router.get(
    "/{subscription_id}/deliveries", summary="List a subscription's deliveries", responses=responses(401, 403, 404, 422)
)
async def list_deliveries(
    _: AdminAccess,
    filters: Annotated[DeliveryFilters, Query()],
    subscription: SubscriptionDep,
    session: SessionDep,
) -> Page[SubscriptionDeliveryRead]:
    """Each event sent or to send to the endpoint, newest first, with every attempt's status and answer."""
    deliveries, next_cursor = await subscriptions_service.list_deliveries(
        session, subscription, filters, status=filters.status
    )
    return Page(items=deliveries, next_cursor=next_cursor)


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/retry",
    summary="Resend a delivery",
    responses=responses(401, 403, 404, 409, 422),
)
async def retry(
    _: AdminAccess,
    subscription: LockedSubscription,
    delivery_id: Annotated[uuid.UUID, Path(description="The delivery's id (its `webhook-id`).")],
    session: SessionDep,
) -> SubscriptionDeliveryRead:
    """Send a done or dead delivery again, with the same `webhook-id`, now and with a fresh set of attempts."""
    delivery = await subscriptions_service.get_delivery(session, subscription, delivery_id)
    return await subscriptions_service.resend(session, subscription, delivery)
