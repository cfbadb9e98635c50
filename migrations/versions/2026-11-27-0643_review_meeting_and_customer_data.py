"""review meeting, customer data affected, resolved_at index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 06:43:41.764934
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.core.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("postmortem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_data_affected", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("review_meeting", service.core.types.JSONValue(), nullable=True))
        batch_op.create_index(batch_op.f("ix_postmortem_resolved_at"), ["resolved_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("postmortem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postmortem_resolved_at"))
        batch_op.drop_column("review_meeting")
        batch_op.drop_column("customer_data_affected")
