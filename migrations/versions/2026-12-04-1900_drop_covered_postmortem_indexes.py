"""drop the postmortem indexes that the stats indexes of 0006 cover

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:00:00

`ix_postmortem_incident_at_status` leads with the incident time and
`ix_postmortem_failure_mode_incident_at` with the failure mode, so every lookup the two single-column
indexes served is served by those; keeping them only slowed every write of a postmortem.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_postmortem_incident_at", table_name="postmortem")
    op.drop_index("ix_postmortem_failure_mode", table_name="postmortem")


def downgrade() -> None:
    op.create_index("ix_postmortem_failure_mode", "postmortem", ["failure_mode"])
    op.create_index(
        "ix_postmortem_incident_at", "postmortem", [sa.text("coalesce(started_at, resolved_at, created_at)")]
    )
