"""Indexes that `GET /v1/stats` reads, declared on the tables they index so that the models match the
migration that creates them ("indexes for the stats in one statement").

Declaring an index attaches it to its table's metadata, so this module must be imported wherever the
metadata has to be complete: `service.models` imports it with the table models.

Both indexes on the incident time hold the columns it is made of as well: neither PostgreSQL nor
SQLite reads an indexed expression from the index alone unless those columns are there too.
"""

import sqlalchemy as sa
from sqlmodel import col

from service.postmortems.models import INCIDENT_AT, Postmortem

INCIDENT_AT_STATUS = sa.Index(
    "ix_postmortem_incident_at_status",
    INCIDENT_AT,
    col(Postmortem.status),
    col(Postmortem.failure_mode),
    col(Postmortem.severity),
    col(Postmortem.started_at),
    col(Postmortem.detected_at),
    col(Postmortem.resolved_at),
    col(Postmortem.completed_at),
    col(Postmortem.created_at),
)
"""The postmortems of a window with every column their figures read but `services`: the counts, the
durations and the failure modes come from the index alone, not from table rows fifteen times as wide."""

FAILURE_MODE_INCIDENT_AT = sa.Index(
    "ix_postmortem_failure_mode_incident_at",
    col(Postmortem.failure_mode),
    INCIDENT_AT,
    col(Postmortem.started_at),
    col(Postmortem.resolved_at),
    col(Postmortem.created_at),
)
"""The incident times of each failure mode, in order: what the repeat incidents look up, or read in turn.
It also serves every lookup of the postmortems with a given failure mode."""

SERVICES = sa.Index(
    "ix_postmortem_services",
    col(Postmortem.services),
    postgresql_using="gin",
    postgresql_ops={"services": "jsonb_path_ops"},
)
"""On PostgreSQL, the postmortems that list a service (`services @> [...]`), for the `service` filter.

SQLite cannot index membership of a JSON array: there it is a plain index that no query uses, kept so
that both backends have the same schema.
"""
