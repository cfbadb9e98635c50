"""labels of postmortems: a row per service and tag, kept by the database, and a listing index

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:30:00

`postmortem_label_source` (a view) derives each postmortem's labels from its `services` and
`tags` lists; triggers on `postmortem` rewrite its rows of `postmortem_label` from that view when
the lists change, in the same transaction. Every postmortem's labels are written once here.
`ix_postmortem_listing` holds what a list filters on beside labels, in id order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COPY = (
    "INSERT INTO postmortem_label (kind, label, postmortem_id) "
    "SELECT kind, label, postmortem_id FROM postmortem_label_source WHERE {where}"
)
CHANGED = "old.services IS DISTINCT FROM new.services OR old.tags IS DISTINCT FROM new.tags"

POSTGRESQL = [
    """
    CREATE VIEW postmortem_label_source AS
    SELECT p.id AS postmortem_id, 'service' AS kind, s.label FROM postmortem AS p
        CROSS JOIN LATERAL jsonb_array_elements_text(p.services) AS s (label)
    UNION
    SELECT p.id, 'tag', t.label FROM postmortem AS p CROSS JOIN LATERAL jsonb_array_elements_text(p.tags) AS t (label)
    """,
    f"""
    CREATE FUNCTION postmortem_labels_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM postmortem_label WHERE postmortem_id = new.id;
        END IF;
        {COPY.format(where="postmortem_id = new.id")};
        RETURN NULL;
    END $$
    """,  # noqa: S608 - constant SQL
    """
    CREATE TRIGGER postmortem_labels_on_insert AFTER INSERT ON postmortem
    FOR EACH ROW EXECUTE FUNCTION postmortem_labels_refresh()
    """,
    f"""
    CREATE TRIGGER postmortem_labels_on_update AFTER UPDATE OF services, tags ON postmortem
    FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION postmortem_labels_refresh()
    """,
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER postmortem_labels_on_update ON postmortem",
    "DROP TRIGGER postmortem_labels_on_insert ON postmortem",
    "DROP FUNCTION postmortem_labels_refresh()",
    "DROP VIEW postmortem_label_source",
]
SQLITE = [
    """
    CREATE VIEW postmortem_label_source AS
    SELECT p.id AS postmortem_id, 'service' AS kind, s.value AS label FROM postmortem AS p, json_each(p.services) AS s
    UNION
    SELECT p.id, 'tag', t.value FROM postmortem AS p, json_each(p.tags) AS t
    """,
    f"""
    CREATE TRIGGER postmortem_labels_on_insert AFTER INSERT ON postmortem BEGIN
        {COPY.format(where="postmortem_id = new.id")};
    END
    """,
    f"""
    CREATE TRIGGER postmortem_labels_on_update AFTER UPDATE OF services, tags ON postmortem
    WHEN {CHANGED.replace("IS DISTINCT FROM", "IS NOT")} BEGIN
        DELETE FROM postmortem_label WHERE postmortem_id = new.id;
        {COPY.format(where="postmortem_id = new.id")};
    END
    """,  # noqa: S608 - constant SQL
]
SQLITE_DOWN = [
    "DROP TRIGGER postmortem_labels_on_update",
    "DROP TRIGGER postmortem_labels_on_insert",
    "DROP VIEW postmortem_label_source",
]


def upgrade() -> None:
    op.create_table(
        "postmortem_label",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("postmortem_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortem.id"],
            name=op.f("fk_postmortem_label_postmortem_id_postmortem"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "label", "postmortem_id", name=op.f("pk_postmortem_label")),
    )
    op.create_index(
        "ix_postmortem_listing", "postmortem", ["id", "severity", "status", "failure_mode", "created_at", "resolved_at"]
    )
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)
    op.execute(COPY.format(where="true"))


def downgrade() -> None:
    for statement in POSTGRESQL_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    op.drop_index("ix_postmortem_listing", table_name="postmortem")
    op.drop_table("postmortem_label")
