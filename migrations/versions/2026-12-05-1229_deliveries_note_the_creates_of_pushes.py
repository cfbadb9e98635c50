"""deliveries: the latest create a push sent, and the ticket it made when a later step failed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 12:29:40

Jira's search shows a new issue only after a delay, so a push retried within it could miss the issue
an earlier attempt made and create a second one. The worker notes each create before sending it, so
a retry knows to wait for the search (see `service.sync.creates`). Both columns are empty for every
existing delivery, which behaves as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import service.core.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("create_sent_at", service.core.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("created_issue_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("created_issue_id")
        batch_op.drop_column("create_sent_at")
