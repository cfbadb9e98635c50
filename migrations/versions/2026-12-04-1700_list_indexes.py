"""action items: an owner's items in list order, and a postmortem's items with what its summary counts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:00:00

Both replace a single-column index that they lead with, so lookups by owner or by postmortem (and the
foreign key's cascade) are served as before.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("action_item") as batch_op:
        batch_op.create_index("ix_action_item_owner_id", ["owner", "id"])
        batch_op.create_index("ix_action_item_postmortem_id_status", ["postmortem_id", "status", "due_date"])
        batch_op.drop_index("ix_action_item_owner")
        batch_op.drop_index("ix_action_item_postmortem_id")


def downgrade() -> None:
    with op.batch_alter_table("action_item") as batch_op:
        batch_op.create_index("ix_action_item_postmortem_id", ["postmortem_id"])
        batch_op.create_index("ix_action_item_owner", ["owner"])
        batch_op.drop_index("ix_action_item_postmortem_id_status")
        batch_op.drop_index("ix_action_item_owner_id")
