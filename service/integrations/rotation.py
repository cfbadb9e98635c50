"""`postmortems secrets rotate`: every stored secret sealed again with the newest key, or none."""

import sqlalchemy as sa

from service.core.database import Database
from service.integrations.models import Integration
from service.integrations.secrets import KEYS_SETTING, SecretBox


class RotationRefused(Exception):
    """A stored secret opens with none of the keys, or there is no key to seal with; nothing was changed."""


async def rotate(database: Database, box: SecretBox) -> int:
    """Seal every stored secret again with the box's first key, in one transaction; returns how many.

    Rows are written with a plain UPDATE: an integration's version, and so its ETag, stay as they
    are, since nothing a client can see has changed.
    """
    if not box.encrypts:
        raise RotationRefused(f"there is no key to encrypt with: set {KEYS_SETTING}")
    table = Integration.__table__  # type: ignore[attr-defined]
    columns = (table.c.id, table.c.name, table.c.credentials, table.c.webhook_secret)
    resealed = 0
    async with database.unit(write=True) as unit:
        connection = await unit.connection()
        rows = (await connection.execute(sa.select(*columns).order_by(table.c.id).with_for_update())).all()
        for integration_id, name, credentials, webhook_secret in rows:
            values = {}
            for field, stored in (("credentials", credentials), ("webhook_secret", webhook_secret)):
                if stored is None:
                    continue
                try:
                    values[field] = box.seal(box.open(stored), field=field)
                except ValueError as exc:
                    raise RotationRefused(f"integration {name!r} ({integration_id}), {field}: {exc}") from exc
            await connection.execute(sa.update(table).where(table.c.id == integration_id).values(values))
            resealed += len(values)
        await unit.commit()
    return resealed
