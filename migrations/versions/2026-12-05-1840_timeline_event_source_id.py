"""timeline events: the id an imported event has in its source, unique per postmortem and source

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 18:40:00

A timeline import (PagerDuty, Slack, GitHub deployments, CSV) records each entry's own id, so
importing the same export again adds nothing twice; the unique index makes that hold under any
race. Existing events have no source id, and NULLs never collide, so they are unaffected.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not in batch mode: SQLite adds (and drops) a column in place, so the table's search triggers stay.
    op.add_column("timeline_event", sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
    op.create_index(
        "ix_timeline_event_source_id", "timeline_event", ["postmortem_id", "source", "source_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_timeline_event_source_id", table_name="timeline_event")
    op.drop_column("timeline_event", "source_id")
