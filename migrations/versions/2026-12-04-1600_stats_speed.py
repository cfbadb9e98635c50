"""indexes for the stats in one statement: the window's figures, incident times by failure mode, services

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_postmortem_incident_at_status",
        "postmortem",
        [
            sa.text("coalesce(started_at, resolved_at, created_at)"),
            "status",
            "failure_mode",
            "severity",
            "started_at",
            "detected_at",
            "resolved_at",
            "completed_at",
            "created_at",
        ],
    )
    op.create_index(
        "ix_postmortem_failure_mode_incident_at",
        "postmortem",
        [
            "failure_mode",
            sa.text("coalesce(started_at, resolved_at, created_at)"),
            "started_at",
            "resolved_at",
            "created_at",
        ],
    )
    op.create_index(
        "ix_postmortem_services",
        "postmortem",
        ["services"],
        postgresql_using="gin",
        postgresql_ops={"services": "jsonb_path_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_postmortem_services", table_name="postmortem")
    op.drop_index("ix_postmortem_failure_mode_incident_at", table_name="postmortem")
    op.drop_index("ix_postmortem_incident_at_status", table_name="postmortem")
