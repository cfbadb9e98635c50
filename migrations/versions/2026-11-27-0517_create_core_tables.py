"""create core tables

Revision ID: 0001
Revises:
Create Date: 2026-11-27 05:17:52.100471
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
        "integration",
        sa.Column("created_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Enum("jira", "linear", "github", name="trackerkind", native_enum=False), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("base_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("settings", service.core.types.JSONValue(), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("webhook_secret", sa.Text(), nullable=True),
        sa.Column(
            "push_policy", sa.Enum("on_create", "on_complete", name="pushpolicy", native_enum=False), nullable=False
        ),
        sa.Column("status_map", service.core.types.JSONValue(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration")),
        sa.UniqueConstraint("name", name=op.f("uq_integration_name")),
    )
    op.create_table(
        "inbound_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("headers", service.core.types.JSONValue(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_inbound_event_integration_id_integration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_event")),
        sa.UniqueConstraint("integration_id", "delivery_id", name=op.f("uq_inbound_event_integration_id_delivery_id")),
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
        sa.Column("integration_id", sa.Uuid(), nullable=True),
        sa.Column("approvals", service.core.types.JSONValue(), nullable=False),
        sa.Column("submitted_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_postmortem_integration_id_integration"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postmortem")),
    )
    with op.batch_alter_table("postmortem", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postmortem_failure_mode"), ["failure_mode"], unique=False)
        batch_op.create_index(batch_op.f("ix_postmortem_integration_id"), ["integration_id"], unique=False)
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
        sa.Column("integration_id", sa.Uuid(), nullable=True),
        sa.Column("external_tracker", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("external_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("external_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("external_state", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column(
            "external_status",
            sa.Enum("open", "in_progress", "done", "wont_do", name="itemstatus", native_enum=False),
            nullable=True,
        ),
        sa.Column("external_synced_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("external_unmapped", sa.Integer(), nullable=False),
        sa.Column(
            "sync_status", sa.Enum("pending", "synced", "failed", name="syncstatus", native_enum=False), nullable=True
        ),
        sa.Column("last_sync_error", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_action_item_integration_id_integration"),
            ondelete="SET NULL",
        ),
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
        batch_op.create_index(batch_op.f("ix_action_item_external_id"), ["external_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_item_integration_id"), ["integration_id"], unique=False)
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

    op.create_table(
        "delivery",
        sa.Column("created_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("tracker.push", "tracker.sync", "webhook.apply", name="deliverykind", native_enum=False),
            nullable=False,
        ),
        sa.Column(
            "status", sa.Enum("pending", "done", "dead", name="deliverystatus", native_enum=False), nullable=False
        ),
        sa.Column("action_item_id", sa.Uuid(), nullable=True),
        sa.Column("integration_id", sa.Uuid(), nullable=True),
        sa.Column("inbound_event_id", sa.Uuid(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("completed_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_item_id"],
            ["action_item.id"],
            name=op.f("fk_delivery_action_item_id_action_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inbound_event_id"],
            ["inbound_event.id"],
            name=op.f("fk_delivery_inbound_event_id_inbound_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_delivery_integration_id_integration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_action_item_id"), ["action_item_id"], unique=False)
        batch_op.create_index("ix_delivery_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_inbound_event_id"), ["inbound_event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_integration_id"), ["integration_id"], unique=False)

    op.create_table(
        "delivery_attempt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["delivery.id"], name=op.f("fk_delivery_attempt_delivery_id_delivery"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempt")),
    )
    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_attempt_delivery_id"), ["delivery_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_attempt_delivery_id"))

    op.drop_table("delivery_attempt")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_integration_id"))
        batch_op.drop_index(batch_op.f("ix_delivery_inbound_event_id"))
        batch_op.drop_index("ix_delivery_due")
        batch_op.drop_index(batch_op.f("ix_delivery_action_item_id"))

    op.drop_table("delivery")
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
        batch_op.drop_index(batch_op.f("ix_action_item_integration_id"))
        batch_op.drop_index(batch_op.f("ix_action_item_external_id"))
        batch_op.drop_index(batch_op.f("ix_action_item_due_date"))

    op.drop_table("action_item")
    with op.batch_alter_table("postmortem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postmortem_status"))
        batch_op.drop_index(batch_op.f("ix_postmortem_severity"))
        batch_op.drop_index(batch_op.f("ix_postmortem_integration_id"))
        batch_op.drop_index(batch_op.f("ix_postmortem_failure_mode"))

    op.drop_table("postmortem")
    op.drop_table("inbound_event")
    op.drop_table("integration")
    op.drop_table("idempotency_record")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_name"))

    op.drop_table("api_key")
