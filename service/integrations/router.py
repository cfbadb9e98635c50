import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from service.auth.dependencies import AdminAccess
from service.core.etag import IfMatchHeader
from service.core.http import responses, set_created, set_etag
from service.core.pagination import Page, PageParams
from service.dependencies import SessionDep
from service.integrations import service as integrations_service
from service.integrations.keys import LazySecretBox
from service.integrations.models import Integration, IntegrationCreate, IntegrationRead, IntegrationUpdate
from service.integrations.secrets import SecretBox

router = APIRouter(prefix="/integrations", tags=["integrations"])

IntegrationId = Annotated[uuid.UUID, Path(description="The integration's id.")]


def get_secret_box(request: Request) -> SecretBox:
    secrets: LazySecretBox = request.app.state.secrets
    return secrets.box


SecretBoxDep = Annotated[SecretBox, Depends(get_secret_box)]


async def integration_for_update(integration_id: IntegrationId, session: SessionDep) -> Integration:
    return await integrations_service.get(session, integration_id, for_update=True)


@router.post(
    "", status_code=201, summary="Connect a tracker", responses=responses(401, 403, 409, 413, 415, 422, created=True)
)
async def create(
    _: AdminAccess, integration_in: IntegrationCreate, session: SessionDep, box: SecretBoxDep, response: Response
) -> IntegrationRead:
    """Connect Jira Cloud, Linear or GitHub Issues; credentials and webhook secret are write-only."""
    integration = IntegrationRead.model_validate(await integrations_service.create(session, box, integration_in))
    set_created(response, f"/v1/integrations/{integration.id}", integration)
    return integration


@router.get("", name="list", summary="List integrations", responses=responses(401, 403, 422))
async def list_integrations(
    _: AdminAccess, page: Annotated[PageParams, Query()], session: SessionDep
) -> Page[IntegrationRead]:
    """Every connected tracker; secrets are never shown."""
    integrations, next_cursor = await integrations_service.list_page(session, page)
    return Page(items=[IntegrationRead.model_validate(i) for i in integrations], next_cursor=next_cursor)


@router.get("/{integration_id}", summary="Get an integration", responses=responses(401, 403, 404, 422))
async def get(
    _: AdminAccess, integration_id: IntegrationId, session: SessionDep, response: Response
) -> IntegrationRead:
    """Get one integration, with the webhook path to configure in the tracker."""
    integration = IntegrationRead.model_validate(await integrations_service.get(session, integration_id))
    set_etag(response, integration)
    return integration


@router.patch(
    "/{integration_id}",
    summary="Update an integration",
    responses=responses(401, 403, 404, 409, 412, 413, 415, 422, etag=True),
)
async def update(
    _: AdminAccess,
    changes: IntegrationUpdate,
    integration: Annotated[Integration, Depends(integration_for_update)],
    session: SessionDep,
    box: SecretBoxDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> IntegrationRead:
    """Change the fields sent; send `credentials` or `webhook_secret` to rotate them."""
    changed = IntegrationRead.model_validate(
        await integrations_service.update(session, box, integration, changes, if_match=if_match)
    )
    set_etag(response, changed)
    return changed


@router.delete(
    "/{integration_id}", status_code=204, summary="Delete an integration", responses=responses(401, 403, 404, 412, 422)
)
async def delete(
    _: AdminAccess,
    integration: Annotated[Integration, Depends(integration_for_update)],
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> None:
    """Disconnect a tracker; items keep their ticket links but stop syncing."""
    await integrations_service.delete(session, integration, if_match=if_match)
