import uuid

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from service.action_items import service as action_items_service
from service.action_items import slo
from service.auth.models import Principal
from service.core.database import UnitOfWork
from service.core.errors import FieldError, Unprocessable
from service.documents import parse
from service.documents.models import Origin, PostmortemDocument, ValidDocument
from service.integrations.models import Integration
from service.postmortems import reads
from service.postmortems import service as postmortems_service
from service.timeline import service as timeline_service
from service.timeline.models import TimelineEvent, TimelineEventRead


async def document(unit: UnitOfWork, postmortem_id: uuid.UUID, *, slo_days: slo.SloDays) -> PostmortemDocument:
    """The postmortem with its whole timeline and every action item (their SLO judged by `slo_days`)."""
    postmortem = await reads.read(unit, postmortem_id)
    session = await unit.session()
    statement = (
        select(TimelineEvent)
        .where(col(TimelineEvent.postmortem_id) == postmortem_id)
        .order_by(col(TimelineEvent.occurred_at), col(TimelineEvent.id))
    )
    events = (await session.exec(statement)).all()
    items = await action_items_service.list_for_postmortem(session, postmortem_id)
    return PostmortemDocument.model_validate(
        dict(postmortem)
        | {
            "timeline": [TimelineEventRead.model_validate(event) for event in events],
            "action_items": [slo.to_read(item, slo_days) for item in items],
        }
    )


async def import_markdown(
    unit: UnitOfWork, markdown: str, *, slo_days: slo.SloDays, actor: Principal | None
) -> PostmortemDocument:
    """A new draft postmortem, with its timeline and action items, from a Markdown document.

    Writes through the same services as the API, in the caller's transaction; raises
    `Unprocessable` naming every line at fault, before anything is written or after (the
    caller rolls back).
    """
    valid = parse.read(markdown)
    session = await unit.session()
    errors = await _unknown_integrations(session, valid)
    try:
        created = await postmortems_service.create(unit, valid.postmortem, actor=actor)
    except Unprocessable as exc:
        errors += [_locate(error, valid) for error in exc.errors]
        created = None
    if errors or created is None:
        errors = sorted(dict.fromkeys(errors), key=lambda error: error.line or 0)
        noun = "error" if len(errors) == 1 else "errors"
        raise Unprocessable(f"the document has {len(errors)} {noun}", errors)
    postmortem = await postmortems_service.get(session, created.id)
    await timeline_service.add_all(session, postmortem, valid.events)
    for item in valid.items:
        await action_items_service.create(unit, postmortem.id, item, slo_days=slo_days, actor=actor)
    return await document(unit, postmortem.id, slo_days=slo_days)


def _locate(error: FieldError, valid: ValidDocument) -> FieldError:
    """An error of the postmortem service (field `detected_at`, ...), at the line the value came from."""
    origins = valid.parsed.origins
    fallback = origins.get(("title",)) or Origin(1, parse.METADATA)
    return parse.located(parse.origin_of((error.field,), origins, fallback), error.field, error.message, error.code)


async def _unknown_integrations(session: AsyncSession, valid: ValidDocument) -> list[FieldError]:
    """Every tracker integration the document names that does not exist, at its line."""
    wanted: list[tuple[uuid.UUID, Origin]] = []
    if valid.postmortem.integration_id is not None:
        wanted.append((valid.postmortem.integration_id, valid.parsed.origins[("integration_id",)]))
    for item, parsed_item in zip(valid.items, valid.parsed.items, strict=True):
        if item.integration_id is not None:
            wanted.append((item.integration_id, parsed_item.origins[("integration_id",)]))
    if not wanted:
        return []
    ids = {integration_id for integration_id, _ in wanted}
    found = set((await session.exec(select(Integration.id).where(col(Integration.id).in_(ids)))).all())
    return [
        parse.located(origin, "integration_id", "no integration has this id", "unknown_id")
        for integration_id, origin in wanted
        if integration_id not in found
    ]
