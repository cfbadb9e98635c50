"""events, subscriptions to them, and their deliveries through the outbox

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 18:09:07

`event` keeps every event in commit order (its id is the change feed's position), `subscription`
the endpoints events are sent to (secrets sealed), `overdue_notice` which items were reported
overdue for which due date. Deliveries of events are outbox deliveries with a subscription, an
event and the resource they are about; every existing delivery leaves them empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import service.core.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "postmortem.created",
                "postmortem.updated",
                "postmortem.status_changed",
                "action_item.created",
                "action_item.updated",
                "action_item.status_changed",
                "action_item.overdue",
                name="eventtype",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", service.core.types.JSONValue(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_type_id", ["type", "id"], unique=False)

    op.create_table(
        "subscription",
        sa.Column("created_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("event_types", service.core.types.JSONValue(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("failing_since", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("previous_secret", sa.Text(), nullable=True),
        sa.Column("previous_secret_expires_at", service.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
    )
    op.create_table(
        "overdue_notice",
        sa.Column("action_item_id", sa.Uuid(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_item_id"],
            ["action_item.id"],
            name=op.f("fk_overdue_notice_action_item_id_action_item"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_item_id", "due_date", name=op.f("pk_overdue_notice")),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subscription_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.add_column(sa.Column("resource_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("response_status", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_delivery_pending_event",
            ["resource_id", "event_id"],
            unique=False,
            postgresql_where=sa.text("status = 'pending' AND kind = 'event.deliver'"),
            sqlite_where=sa.text("status = 'pending' AND kind = 'event.deliver'"),
        )
        batch_op.create_index(batch_op.f("ix_delivery_subscription_id"), ["subscription_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_delivery_event_id_event"), "event", ["event_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_delivery_subscription_id_subscription"),
            "subscription",
            ["subscription_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_status", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempt", schema=None) as batch_op:
        batch_op.drop_column("response_status")

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_delivery_subscription_id_subscription"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_delivery_event_id_event"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_delivery_subscription_id"))
        batch_op.drop_index(
            "ix_delivery_pending_event",
            postgresql_where=sa.text("status = 'pending' AND kind = 'event.deliver'"),
            sqlite_where=sa.text("status = 'pending' AND kind = 'event.deliver'"),
        )
        batch_op.drop_column("response_status")
        batch_op.drop_column("resource_id")
        batch_op.drop_column("event_id")
        batch_op.drop_column("subscription_id")

    op.drop_table("overdue_notice")
    op.drop_table("subscription")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_type_id")

    op.drop_table("event")
