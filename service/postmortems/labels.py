"""The services and tags of each postmortem, one row per label, kept by the database.

A postmortem's `services` and `tags` are JSON lists. Filtering a list by one of them meant testing
the lists of postmortems one by one in id order (15-40 ms a page at 100k postmortems); with a row
per label, indexed by label and then postmortem id, a page walks one index range in list order
(under 1 ms). The rows are derived: the view `postmortem_label_source` defines them from the lists,
and triggers on `postmortem` rewrite a postmortem's rows whenever its lists change, in the same
transaction (see the migration "labels of postmortems"), so no writer has to remember to.
"""

import uuid

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from service.postmortems.models import Postmortem

SERVICE, TAG = "service", "tag"


class PostmortemLabel(SQLModel, table=True):
    __tablename__ = "postmortem_label"

    kind: str = Field(max_length=10, primary_key=True, description="`service` or `tag`.")
    label: str = Field(max_length=100, primary_key=True)
    postmortem_id: uuid.UUID = Field(foreign_key="postmortem.id", ondelete="CASCADE", primary_key=True)


_labels = PostmortemLabel.__table__  # type: ignore[attr-defined]
_postmortems = Postmortem.__table__  # type: ignore[attr-defined]


def labelled(kind: str, label: sa.BindParameter[str]) -> sa.ColumnElement[bool]:
    """The postmortem carries `label` among its `kind` (services or tags)."""
    carrying = sa.select(_labels.c.postmortem_id).where(_labels.c.kind == kind, _labels.c.label == label)
    within: sa.ColumnElement[bool] = _postmortems.c.id.in_(carrying)
    return within


# What a page of a list reads for every postmortem it passes over, in list order, without the table's
# wide rows: a filtered page is an index-only scan of this index (with `postmortem_label` for labels).
LISTING = sa.Index(
    "ix_postmortem_listing",
    _postmortems.c.id,
    _postmortems.c.severity,
    _postmortems.c.status,
    _postmortems.c.failure_mode,
    _postmortems.c.created_at,
    _postmortems.c.resolved_at,
)
