"""create core tables

Revision ID: 0001
Revises:
Create Date: 2026-11-27 04:52:10.609772
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import service.core.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("scope", sa.Enum("read", "write", "admin", name="scope", native_enum=False), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_key_key_hash")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_name"), ["name"], unique=False)

    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("credential_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("headers", service.core.types.JSONValue(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_record")),
        sa.UniqueConstraint("credential_hash", "key", name=op.f("uq_idempotency_record_credential_hash_key")),
    )
    op.create_table(
        "postmortem",
        sa.Column("created_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("severity", sa.Enum("P1", "P2", "P3", name="severity", native_enum=False), nullable=False),
        sa.Column("template", sa.Enum("standard", "quick", name="template", native_enum=False), nullable=False),
        sa.Column(
            "status", sa.Enum("draft", "in_review", "complete", name="status", native_enum=False), nullable=False
        ),
        sa.Column("incident_ref", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("authors", service.core.types.JSONValue(), nullable=False),
        sa.Column("services", service.core.types.JSONValue(), nullable=False),
        sa.Column("tags", service.core.types.JSONValue(), nullable=False),
        sa.Column("started_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("detected_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("mitigated_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("impact", service.core.types.JSONValue(), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("five_whys", service.core.types.JSONValue(), nullable=False),
        sa.Column("contributing_factors", service.core.types.JSONValue(), nullable=False),
        sa.Column("what_went_well", service.core.types.JSONValue(), nullable=False),
        sa.Column("what_went_poorly", service.core.types.JSONValue(), nullable=False),
        sa.Column("lessons_learned", sa.Text(), nullable=True),
        sa.Column("failure_mode", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("related_postmortem_ids", service.core.types.JSONValue(), nullable=False),
        sa.Column("links", service.core.types.JSONValue(), nullable=False),
        sa.Column("approvals", service.core.types.JSONValue(), nullable=False),
        sa.Column("submitted_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postmortem")),
    )
    with op.batch_alter_table("postmortem", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postmortem_failure_mode"), ["failure_mode"], unique=False)
        batch_op.create_index(batch_op.f("ix_postmortem_severity"), ["severity"], unique=False)
        batch_op.create_index(batch_op.f("ix_postmortem_status"), ["status"], unique=False)

    op.create_table(
        "action_item",
        sa.Column("created_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("postmortem_id", sa.Uuid(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("priority", sa.Enum("P0", "P1", "P2", name="priority", native_enum=False), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "in_progress", "done", "wont_do", name="itemstatus", native_enum=False),
            nullable=False,
        ),
        sa.Column(
            "kind",
            sa.Enum("prevent", "detect", "mitigate", "process", "other", name="itemkind", native_enum=False),
            nullable=False,
        ),
        sa.Column("completed_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortem.id"],
            name=op.f("fk_action_item_postmortem_id_postmortem"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_item")),
    )
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_item_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_item_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_item_postmortem_id"), ["postmortem_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_item_status"), ["status"], unique=False)

    op.create_table(
        "timeline_event",
        sa.Column("created_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("postmortem_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "signal",
                "alert",
                "detection",
                "action",
                "decision",
                "mitigation",
                "resolution",
                "communication",
                "other",
                name="eventkind",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortem.id"],
            name=op.f("fk_timeline_event_postmortem_id_postmortem"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_event")),
    )
    with op.batch_alter_table("timeline_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_timeline_event_postmortem_occurred", ["postmortem_id", "occurred_at", "id"], unique=False
        )

    op.create_table(
        "transition",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("postmortem_id", sa.Uuid(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "from_status", sa.Enum("draft", "in_review", "complete", name="status", native_enum=False), nullable=False
        ),
        sa.Column(
            "to_status", sa.Enum("draft", "in_review", "complete", name="status", native_enum=False), nullable=False
        ),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortem.id"],
            name=op.f("fk_transition_postmortem_id_postmortem"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transition")),
    )
    with op.batch_alter_table("transition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transition_postmortem_id"), ["postmortem_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("transition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transition_postmortem_id"))

    op.drop_table("transition")
    with op.batch_alter_table("timeline_event", schema=None) as batch_op:
        batch_op.drop_index("ix_timeline_event_postmortem_occurred")

    op.drop_table("timeline_event")
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_item_status"))
        batch_op.drop_index(batch_op.f("ix_action_item_postmortem_id"))
        batch_op.drop_index(batch_op.f("ix_action_item_owner"))
        batch_op.drop_index(batch_op.f("ix_action_item_due_date"))

    op.drop_table("action_item")
    with op.batch_alter_table("postmortem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postmortem_status"))
        batch_op.drop_index(batch_op.f("ix_postmortem_severity"))
        batch_op.drop_index(batch_op.f("ix_postmortem_failure_mode"))

    op.drop_table("postmortem")
    op.drop_table("idempotency_record")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_name"))

    op.drop_table("api_key")
