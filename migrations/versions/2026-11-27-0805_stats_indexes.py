"""indexes for /v1/stats: incident time, and action items by due date and status

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 08:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_postmortem_incident_at", "postmortem", [sa.text("coalesce(started_at, resolved_at, created_at)")]
    )
    op.drop_index("ix_action_item_due_date", table_name="action_item")
    op.drop_index("ix_action_item_status", table_name="action_item")
    op.create_index(
        "ix_action_item_due_date_status", "action_item", ["due_date", "status", "completed_at", "postmortem_id"]
    )
    op.create_index("ix_action_item_status_due_date", "action_item", ["status", "due_date", "postmortem_id"])


def downgrade() -> None:
    op.drop_index("ix_action_item_status_due_date", table_name="action_item")
    op.drop_index("ix_action_item_due_date_status", table_name="action_item")
    op.create_index("ix_action_item_status", "action_item", ["status"])
    op.create_index("ix_action_item_due_date", "action_item", ["due_date"])
    op.drop_index("ix_postmortem_incident_at", table_name="postmortem")
