import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from service.core.clock import utc_now
from service.core.errors import DomainError
from service.core.http import responses
from service.dependencies import UnitDep
from service.integrations.models import TrackerKind
from service.integrations.router import SecretBoxDep
from service.webhooks import service as webhooks_service

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


class WebhookAccepted(BaseModel):
    accepted: bool = Field(description="The webhook was verified and recorded; it is applied in the background.")
    duplicate: bool = Field(description="The tracker had delivered it before; it is applied once.")


@router.post(
    "/{kind}/{integration_id}",
    status_code=202,
    summary="Receive a tracker webhook",
    responses=responses(401, 404, 409, 413, 415, 422),
)
async def receive(
    kind: TrackerKind,
    integration_id: Annotated[uuid.UUID, Path(description="The integration the webhook was configured for.")],
    request: Request,
    unit: UnitDep,
    box: SecretBoxDep,
) -> WebhookAccepted:
    """Webhook endpoint for the tracker itself: signed with the integration's secret, no API key.

    The raw body is verified first; the event is stored and answered 202 at once, and applied by
    the worker. A redelivered webhook (same delivery id) is acknowledged and changes nothing.
    """
    received = request.app.state.metrics.webhooks
    try:
        created = await webhooks_service.receive(
            unit,
            box,
            kind=kind,
            integration_id=integration_id,
            headers=dict(request.headers),
            body=await request.body(),
            now=utc_now(),
        )
    except DomainError as error:
        received.labels(kind.value, error.slug).inc()  # invalid-signature, not-found, ...
        raise
    received.labels(kind.value, "accepted" if created else "duplicate").inc()
    return WebhookAccepted(accepted=True, duplicate=not created)
