import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.action_items.models import ActionItem, ItemStatus, SyncStatus
from service.core.clock import utc_now
from service.core.errors import Conflict, FieldError, NotFound, Unprocessable
from service.core.etag import check_if_match
from service.core.pagination import PageParams, page_by_id
from service.integrations.models import Integration, IntegrationCreate, IntegrationRead, IntegrationUpdate, TrackerKind
from service.integrations.secrets import SecretBox
from service.postmortems.models import Postmortem
from service.trackers.base import TrackerConfig
from service.trackers.registry import tracker_for


async def create(session: AsyncSession, box: SecretBox, integration_in: IntegrationCreate) -> Integration:
    module = tracker_for(integration_in.kind)
    base_url = integration_in.base_url or module.default_base_url
    if base_url is None:
        raise Unprocessable(
            f"{integration_in.kind.value} integrations need a base_url",
            [FieldError("base_url", "is required for this kind (the site URL)", "missing")],
        )
    integration = Integration(
        kind=integration_in.kind,
        name=integration_in.name,
        base_url=base_url.rstrip("/"),
        settings=_valid_settings(module.settings_model, integration_in.settings),
        credentials=box.seal(integration_in.credentials.token.get_secret_value(), field="credentials.token"),
        webhook_secret=_seal_webhook_secret(box, integration_in.webhook_secret),
        push_policy=integration_in.push_policy,
        status_map=dict(integration_in.status_map),
        is_default=integration_in.default,
    )
    await _ensure_name_free(session, integration.name)
    if integration.is_default:
        await _clear_default(session)
    session.add(integration)
    await session.flush()
    return integration


async def get(session: AsyncSession, integration_id: uuid.UUID, *, for_update: bool = False) -> Integration:
    statement = select(Integration).where(col(Integration.id) == integration_id)
    if for_update:
        statement = statement.with_for_update()
    integration = (await session.exec(statement)).first()
    if integration is None:
        raise NotFound(f"integration {integration_id} does not exist")
    return integration


async def ensure_exists(session: AsyncSession, integration_id: uuid.UUID | None) -> None:
    """An `integration_id` given in a request body must name an integration (422 otherwise)."""
    if integration_id is not None and await session.get(Integration, integration_id) is None:
        raise unknown(integration_id)


def unknown(integration_id: uuid.UUID) -> Unprocessable:
    return Unprocessable(
        f"integration {integration_id} does not exist",
        [FieldError("integration_id", "no integration has this id", "unknown_id")],
    )


async def list_page(session: AsyncSession, page: PageParams) -> tuple[list[Integration], str | None]:
    return await page_by_id(session, select(Integration), col(Integration.id), page)


async def update(
    session: AsyncSession, box: SecretBox, integration: Integration, changes: IntegrationUpdate, *, if_match: str | None
) -> Integration:
    await check_if_match(if_match, lambda: IntegrationRead.model_validate(integration))
    values = changes.model_dump(exclude_unset=True)
    if "name" in values and values["name"] != integration.name:
        await _ensure_name_free(session, values["name"])
        integration.name = values["name"]
    if "base_url" in values:
        base_url = values["base_url"] or tracker_for(integration.kind).default_base_url
        if base_url is None:
            raise Unprocessable(
                "this integration needs a base_url", [FieldError("base_url", "cannot be cleared", "missing")]
            )
        integration.base_url = base_url.rstrip("/")
    if "settings" in values:
        integration.settings = _valid_settings(tracker_for(integration.kind).settings_model, values["settings"])
    if changes.credentials is not None:
        integration.credentials = box.seal(changes.credentials.token.get_secret_value(), field="credentials.token")
    if "webhook_secret" in values:
        integration.webhook_secret = _seal_webhook_secret(box, changes.webhook_secret)
    for name in ("push_policy", "status_map"):
        if name in values:
            setattr(integration, name, values[name])
    if values.get("default") is True and not integration.is_default:
        await _clear_default(session)
    if "default" in values:
        integration.is_default = values["default"]
    integration.updated_at = utc_now()
    await session.flush()
    return integration


async def delete(session: AsyncSession, integration: Integration, *, if_match: str | None) -> None:
    """Delete the integration; linked items keep their ticket links but stop syncing."""
    await check_if_match(if_match, lambda: IntegrationRead.model_validate(integration))
    await _unlink(session, integration.id)
    await session.delete(integration)
    await session.flush()


async def _unlink(session: AsyncSession, integration_id: uuid.UUID) -> None:
    """Clear the references to it as an edit (new versions, so ETags change); an unsent push is dropped."""
    now = utc_now()
    for model in (ActionItem, Postmortem):
        statement = select(model).where(col(model.integration_id) == integration_id).with_for_update()
        for row in (await session.exec(statement)).all():
            row.integration_id = None
            row.updated_at = now
            if isinstance(row, ActionItem) and row.sync_status is SyncStatus.PENDING and row.external_id is None:
                row.sync_status = None  # its push delivery goes with the integration


def tracker_config(box: SecretBox, integration: Integration | Mapping[str, Any]) -> TrackerConfig:
    """The integration (or a row of its columns) as its adapter needs it, with its secrets opened."""
    columns = integration if isinstance(integration, Mapping) else integration.model_dump()
    try:
        token = box.open(columns["credentials"])
        secret = box.open(columns["webhook_secret"]) if columns["webhook_secret"] else ""
    except ValueError as exc:
        raise Conflict(str(exc), [FieldError("credentials", str(exc), "undecryptable", "resource")]) from exc
    return TrackerConfig(
        kind=TrackerKind(columns["kind"]).value,
        base_url=columns["base_url"],
        settings=dict(columns["settings"]),
        token=token,
        webhook_secret=secret,
        status_map={state: ItemStatus(status) for state, status in columns["status_map"].items()},
    )


def _valid_settings(model: type[BaseModel], settings: dict[str, Any]) -> dict[str, Any]:
    try:
        return model.model_validate(settings).model_dump(mode="json")
    except ValidationError as exc:
        errors = [
            FieldError(
                ".".join(["settings", *(str(part) for part in error["loc"])]),
                "unknown field" if error["type"] == "extra_forbidden" else str(error["msg"]),
                str(error["type"]),
            )
            for error in exc.errors()
        ]
        raise Unprocessable(f"{len(errors)} setting(s) are invalid", errors) from exc


def _seal_webhook_secret(box: SecretBox, value: SecretStr | None) -> str | None:
    return None if value is None else box.seal(value.get_secret_value(), field="webhook_secret")


async def _ensure_name_free(session: AsyncSession, name: str) -> None:
    if (await session.exec(select(Integration.id).where(col(Integration.name) == name))).first() is not None:
        raise Conflict(
            f"an integration named {name!r} exists already",
            [FieldError("name", "is already used", "duplicate")],
        )


async def _clear_default(session: AsyncSession) -> None:
    """At most one integration is the default."""
    for integration in (await session.exec(select(Integration).where(col(Integration.is_default).is_(True)))).all():
        integration.is_default = False
        integration.updated_at = utc_now()
