"""postmortem_label_source as UNION ALL, so that a trigger's lookup of one postmortem reads one row

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:00:00

The view of 0009 joined its two parts with UNION. SQLite does not push a `WHERE postmortem_id = ?`
into a UNION, so every trigger that rewrote one postmortem's labels derived the labels of all of
them: 40 ms per insert at 5k postmortems, seconds at 100k. Each part is made distinct by itself
and the parts are joined with UNION ALL (a service and a tag never make the same row), which both
databases narrow to the postmortem's row by its key.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEW = {
    "postgresql": {
        "services": "CROSS JOIN LATERAL jsonb_array_elements_text(p.services) AS s (label)",
        "tags": "CROSS JOIN LATERAL jsonb_array_elements_text(p.tags) AS s (label)",
        "label": "s.label",
    },
    "sqlite": {"services": ", json_each(p.services) AS s", "tags": ", json_each(p.tags) AS s", "label": "s.value"},
}


def _view(dialect: str, union: str) -> str:
    parts = VIEW[dialect]
    distinct = "DISTINCT " if union == "UNION ALL" else ""
    return f"""
    CREATE VIEW postmortem_label_source AS
    SELECT {distinct}p.id AS postmortem_id, 'service' AS kind, {parts["label"]} AS label
        FROM postmortem AS p {parts["services"]}
    {union}
    SELECT {distinct}p.id, 'tag', {parts["label"]} FROM postmortem AS p {parts["tags"]}
    """  # noqa: S608 - constant SQL


def _replace(union: str) -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW postmortem_label_source")
    op.execute(_view(dialect, union))


def upgrade() -> None:
    _replace("UNION ALL")


def downgrade() -> None:
    _replace("UNION")
