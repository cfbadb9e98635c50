import uuid
from typing import Annotated

from fastapi import Depends, Path

from service.dependencies import SessionDep
from service.postmortems import service as postmortems_service
from service.postmortems.models import Postmortem

PostmortemId = Annotated[uuid.UUID, Path(description="The postmortem's id.")]


async def postmortem_or_404(postmortem_id: PostmortemId, session: SessionDep) -> Postmortem:
    return await postmortems_service.get(session, postmortem_id)


async def postmortem_for_update(postmortem_id: PostmortemId, session: SessionDep) -> Postmortem:
    """Loaded with a row lock, so concurrent changes to one postmortem queue up."""
    return await postmortems_service.get(session, postmortem_id, for_update=True)


PostmortemDep = Annotated[Postmortem, Depends(postmortem_or_404)]
LockedPostmortem = Annotated[Postmortem, Depends(postmortem_for_update)]
