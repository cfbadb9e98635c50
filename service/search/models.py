"""The search document of each postmortem, and the backend-specific index beside it.

`postmortem_search` holds one row per postmortem: its searched text grouped by weight. The
database rewrites the row whenever the postmortem or its timeline changes, in the same
transaction, so the index is never behind a committed change: triggers on `postmortem` and
`timeline_event` upsert it from the view `postmortem_search_document`, which defines the document
(see the migration "search documents kept by the database"). The view, the triggers and the index
are backend-specific and built by the migrations, outside the models on purpose (SQLModel can
express none of them), so the model/migration comparison must skip them (`include_name`):

    PostgreSQL  postmortem_search.document   tsvector GENERATED ALWAYS AS (title A, body B, details C) STORED
                ix_postmortem_search_document GIN index on it
    SQLite      postmortem_search_fts         FTS5 table, external content = postmortem_search, rowid = id,
                postmortem_search_fts_*       its shadow tables, kept in step by triggers on postmortem_search
"""

import uuid
from collections.abc import Mapping

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

FTS_TABLE = "postmortem_search_fts"
DOCUMENT_COLUMN = "document"
DOCUMENT_INDEX = "ix_postmortem_search_document"


class PostmortemSearch(SQLModel, table=True):
    """The searched text of one postmortem, by ranking weight.

    The integer `id` is the FTS5 rowid on SQLite: an external-content index addresses rows by
    rowid, and only an INTEGER PRIMARY KEY keeps it across VACUUM.
    """

    __tablename__ = "postmortem_search"

    id: int | None = Field(default=None, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    postmortem_id: uuid.UUID = Field(foreign_key="postmortem.id", ondelete="CASCADE", unique=True)
    title: str = Field(sa_type=sa.Text, description="Weight A.")
    body: str = Field(sa_type=sa.Text, description="Weight B: summary and root cause.")
    details: str = Field(sa_type=sa.Text, description="Weight C: contributing factors, lessons learned, timeline.")


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic's `include_name` hook: leave the search index out of the model comparison."""
    if type_ == "table":
        return name is None or not name.startswith(FTS_TABLE)
    if type_ == "column":
        return not (parent_names.get("table_name") == PostmortemSearch.__tablename__ and name == DOCUMENT_COLUMN)
    if type_ == "index":
        return name != DOCUMENT_INDEX
    return True
