"""full-text search: postmortem_search, a tsvector + GIN index (PostgreSQL) or an FTS5 index (SQLite)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 07:10:00

The index beside the table is not in the models (see service/search/models.py). On SQLite the
FTS5 index follows postmortem_search through triggers: a later batch migration that recreates
postmortem_search must create them again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRESQL_DOCUMENT = """
ALTER TABLE postmortem_search ADD COLUMN document tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, title), 'A')
    || setweight(to_tsvector('english'::regconfig, body), 'B')
    || setweight(to_tsvector('english'::regconfig, details), 'C')
) STORED
"""
# fastupdate off: writes are few (people editing postmortems), and a pending list would be scanned by every search.
POSTGRESQL_INDEX = (
    "CREATE INDEX ix_postmortem_search_document ON postmortem_search USING gin (document) WITH (fastupdate = off)"
)
POSTGRESQL_BACKFILL = """
INSERT INTO postmortem_search (postmortem_id, title, body, details)
SELECT p.id, p.title, concat_ws(E'\\n', p.summary, p.root_cause), concat_ws(E'\\n',
    (SELECT string_agg(factor, E'\\n') FROM jsonb_array_elements_text(p.contributing_factors) AS factor),
    p.lessons_learned,
    (SELECT string_agg(e.description, E'\\n' ORDER BY e.occurred_at, e.id) FROM timeline_event e WHERE e.postmortem_id = p.id))
FROM postmortem p
"""

SQLITE_INDEX = [
    """
    CREATE VIRTUAL TABLE postmortem_search_fts USING fts5(
        title, body, details,
        content='postmortem_search', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 0'
    )
    """,
    """
    CREATE TRIGGER postmortem_search_fts_insert AFTER INSERT ON postmortem_search BEGIN
        INSERT INTO postmortem_search_fts (rowid, title, body, details) VALUES (new.id, new.title, new.body, new.details);
    END
    """,
    """
    CREATE TRIGGER postmortem_search_fts_delete AFTER DELETE ON postmortem_search BEGIN
        INSERT INTO postmortem_search_fts (postmortem_search_fts, rowid, title, body, details)
        VALUES ('delete', old.id, old.title, old.body, old.details);
    END
    """,
    """
    CREATE TRIGGER postmortem_search_fts_update AFTER UPDATE ON postmortem_search BEGIN
        INSERT INTO postmortem_search_fts (postmortem_search_fts, rowid, title, body, details)
        VALUES ('delete', old.id, old.title, old.body, old.details);
        INSERT INTO postmortem_search_fts (rowid, title, body, details) VALUES (new.id, new.title, new.body, new.details);
    END
    """,
]
SQLITE_BACKFILL = """
INSERT INTO postmortem_search (postmortem_id, title, body, details)
SELECT p.id, p.title, coalesce(p.summary, '') || char(10) || coalesce(p.root_cause, ''),
    coalesce((SELECT group_concat(factor.value, char(10)) FROM json_each(p.contributing_factors) AS factor), '')
    || char(10) || coalesce(p.lessons_learned, '') || char(10)
    || coalesce((SELECT group_concat(e.description, char(10)) FROM timeline_event e WHERE e.postmortem_id = p.id), '')
FROM postmortem p
"""


def upgrade() -> None:
    op.create_table(
        "postmortem_search",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("postmortem_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["postmortem_id"],
            ["postmortem.id"],
            name=op.f("fk_postmortem_search_postmortem_id_postmortem"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postmortem_search")),
        sa.UniqueConstraint("postmortem_id", name=op.f("uq_postmortem_search_postmortem_id")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_DOCUMENT)
        op.execute(POSTGRESQL_BACKFILL)
        op.execute(POSTGRESQL_INDEX)
    else:
        for statement in SQLITE_INDEX:
            op.execute(statement)
        op.execute(SQLITE_BACKFILL)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER postmortem_search_fts_{trigger}")
        op.execute("DROP TABLE postmortem_search_fts")
    op.drop_table("postmortem_search")
