"""Bulk data for the benchmarks: postmortems with their timelines and action items, written with INSERTs.

The rows are spread over the two years before `today` with fixed random seeds, so every backend and
every run gets the same data; writing them through the API would take hours at 100k postmortems.
What is derived from them (search documents, labels) is rebuilt afterwards, a statement per table.
"""

import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from bench.database import sync_engine
from service.action_items.models import ActionItem
from service.postmortems.models import Postmortem
from service.timeline.models import TimelineEvent

DAYS = 730
SERVICES = [f"service-{number:02d}" for number in range(40)]
FAILURE_MODES = [f"failure-mode-{number:02d}" for number in range(30)]
OWNERS = [f"@team-{number}" for number in range(51)]
TEXT = (
    "Checkout requests failed after a configuration change reached production without validation; "
    "the payment client's timeout was set to zero and every call to the provider failed at once. "
)
# One of these goes into each summary, in turn, so that a search for one finds a fiftieth of the postmortems.
_SEARCH_WORDS = (
    "aardvark albatross alpaca anchovy armadillo badger barracuda beaver bison buffalo camel capybara caribou "
    "cheetah chinchilla cobra condor coyote dingo dolphin falcon ferret flamingo gazelle gecko gibbon giraffe "
    "gopher hedgehog heron hyena iguana jackal jaguar kangaroo koala lemur leopard llama lobster lynx macaw "
    "manatee meerkat mongoose narwhal ocelot otter pelican penguin"
)
SEARCH_WORDS = _SEARCH_WORDS.split()
TIMELINE = [
    ("alert", "Checkout error-rate alert fired: 5xx above 5% for 5 minutes"),
    ("detection", "On-call acknowledged the page and opened the incident channel"),
    ("action", "Rolled back the configuration push to the previous version"),
    ("communication", "Status page updated: card payments failing at checkout"),
    ("mitigation", "Error rate back under 1% after the rollback"),
    ("resolution", "Calls to the payment provider succeeding again; incident resolved"),
]
BATCH = 5_000
SEEDED = (Postmortem, ActionItem, TimelineEvent)  # in foreign-key order


@dataclass(frozen=True)
class Seeded:
    postmortems: int
    action_items: int
    timeline_events: int


def midnight_today() -> datetime:
    """Where the data ends: today's UTC midnight."""
    return datetime.combine(datetime.now(UTC).date(), day_time(), UTC)


def _seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _defaults(model: type[SQLModel]) -> dict[str, Any]:
    """The model's defaults for the columns a row does not give, so that new columns need no change here."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    return {
        name: field.get_default(call_default_factory=True)
        for name, field in model.model_fields.items()
        if name in table.c and not field.is_required()
    }


def postmortem_rows(count: int, today: datetime, rng: random.Random) -> Iterator[dict[str, Any]]:
    defaults = _defaults(Postmortem)
    ages = sorted((rng.uniform(0, DAYS * 86400) for _ in range(count)), reverse=True)  # written in time order
    for number, age in enumerate(ages):
        started = _seconds(today - timedelta(seconds=age))
        detected = started + timedelta(seconds=int(rng.expovariate(1 / 600)))
        resolved = detected + timedelta(seconds=int(rng.expovariate(1 / 5400)))
        age_days = (today - resolved).days
        roll = rng.random()
        if age_days > 30:
            status = "complete" if roll < 0.9 else ("in_review" if roll < 0.95 else "draft")
        else:
            status = "complete" if roll < 0.4 else ("in_review" if roll < 0.7 else "draft")
        completed = resolved + timedelta(seconds=int(rng.expovariate(1 / (5 * 86400))))
        if status == "complete" and completed > today:
            status = "in_review"
        known_start = rng.random() > 0.05
        word = SEARCH_WORDS[number % len(SEARCH_WORDS)]
        yield defaults | {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "title": f"Incident {number}: checkout errors after a config push",
            "severity": rng.choices(["P1", "P2", "P3"], weights=[1, 3, 6])[0],
            "template": "standard",
            "status": status,
            "incident_ref": f"INC-{number}",
            "authors": ["alice", "bob"],
            "services": rng.sample(SERVICES, rng.randint(1, 3)),
            "tags": ["bench"],
            "started_at": started if known_start else None,
            "detected_at": detected if known_start else None,
            "mitigated_at": max(detected, resolved - timedelta(minutes=1)),  # in order, as the API requires
            "resolved_at": resolved,
            "summary": f"{TEXT}The responders called it the {word} incident. {TEXT}",
            "impact": {"users_affected": rng.randint(0, 10_000), "description": TEXT},
            "root_cause": TEXT,
            "five_whys": [{"question": "Why did checkout fail?", "answer": "The payment client timed out."}],
            "contributing_factors": ["No canary stage for config pushes"],
            "what_went_well": ["The rollback took two minutes"],
            "what_went_poorly": ["The alert fired late"],
            "lessons_learned": TEXT,
            "failure_mode": rng.choices(FAILURE_MODES, weights=[1 / (rank + 1) for rank in range(30)])[0]
            if rng.random() < 0.8
            else None,
            "submitted_at": resolved + timedelta(days=1) if status != "draft" else None,
            "completed_at": completed if status == "complete" else None,
            "created_at": resolved + timedelta(hours=1),
            "updated_at": resolved + timedelta(hours=2),
            "version": 1,
        }


def action_item_rows(postmortem: dict[str, Any], today: datetime, rng: random.Random) -> Iterator[dict[str, Any]]:
    defaults = _defaults(ActionItem)
    created = postmortem["created_at"]
    for number in range(rng.randint(5, 15)):
        due = created.date() + timedelta(days=rng.randint(3, 60))
        roll = rng.random()
        if due < today.date():
            status = "done" if roll < 0.75 else ("wont_do" if roll < 0.8 else rng.choice(["open", "in_progress"]))
        else:
            status = "done" if roll < 0.3 else rng.choice(["open", "in_progress"])
        completed = _seconds(datetime.combine(due, day_time(), UTC) + timedelta(days=rng.uniform(-10, 4)))
        yield defaults | {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "postmortem_id": postmortem["id"],
            "title": f"Action {number}: validate config pushes in CI",
            "owner": OWNERS[rng.randint(0, len(OWNERS) - 1)],
            "priority": rng.choice(["P0", "P1", "P2"]),
            "due_date": due,
            "status": status,
            "kind": "prevent",
            "completed_at": min(completed, today) if status == "done" else None,
            "created_at": created,
            "updated_at": created,
            "external_unmapped": 0,
            "version": 1,
        }


def timeline_rows(postmortem: dict[str, Any], rng: random.Random) -> Iterator[dict[str, Any]]:
    """3 to 6 events of the incident's story, in order, in the two hours before it was resolved."""
    defaults = _defaults(TimelineEvent)
    count = rng.randint(3, 6)
    minutes = sorted(rng.sample(range(1, 120), count), reverse=True)
    for (kind, description), before in zip(
        sorted(rng.sample(TIMELINE, count), key=TIMELINE.index), minutes, strict=True
    ):
        yield defaults | {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "postmortem_id": postmortem["id"],
            "occurred_at": postmortem["resolved_at"] - timedelta(minutes=before),
            "kind": kind,
            "description": description,
            "source": "PagerDuty",
            "created_at": postmortem["created_at"],
            "updated_at": postmortem["created_at"],
            "version": 1,
        }


class _Batches:
    """Rows waiting to be written, per table in foreign-key order, and how many each table got."""

    def __init__(self) -> None:
        self.pending: dict[type[SQLModel], list[dict[str, Any]]] = {model: [] for model in SEEDED}
        self.written = dict.fromkeys(self.pending, 0)

    def add(self, model: type[SQLModel], rows: Iterable[dict[str, Any]]) -> None:
        self.pending[model].extend(rows)

    def flush(self, connection: sa.Connection) -> None:
        for model, rows in self.pending.items():
            if rows:
                connection.execute(sa.insert(model.__table__), rows)  # type: ignore[attr-defined]
            self.written[model] += len(rows)
            rows.clear()


def seed(database_url: str, postmortems: int, today: datetime, progress: Callable[[str], None] = print) -> Seeded:
    """Write `postmortems` postmortems with about 10 action items and 4.5 timeline events each, in
    batches of INSERTs; then what the database derives from them, and on PostgreSQL the statistics.

    `progress` hears a line at every tenth of the rows and at each later step: seeding takes minutes."""
    tenth = max(postmortems // 10, 1)
    rng = random.Random(4711)  # noqa: S311 - reproducible data, not secrets
    events_rng = random.Random(815)  # noqa: S311 - a stream of its own: the other rows stay as they were
    batches = _Batches()
    engine = sync_engine(database_url)
    try:
        with engine.begin() as connection:
            restore_triggers = _triggers_off(connection)
            for number, row in enumerate(postmortem_rows(postmortems, today, rng), start=1):
                batches.add(Postmortem, [row])
                batches.add(ActionItem, action_item_rows(row, today, rng))
                batches.add(TimelineEvent, timeline_rows(row, events_rng))
                if number % BATCH == 0:
                    batches.flush(connection)
                if number % tenth == 0:
                    progress(f"seeding: {number} of {postmortems} postmortems written")
            batches.flush(connection)
            restore_triggers()
            progress("seeding: deriving search documents and labels")
            rebuild_derived(connection)
        if engine.dialect.name == "postgresql":
            progress("seeding: VACUUM ANALYZE")
            # As autovacuum soon would: statistics, and the visibility map that index-only scans need.
            # SQLite is left as the service leaves it.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(sa.text("VACUUM ANALYZE"))
    finally:
        engine.dispose()
    written = batches.written
    return Seeded(written[Postmortem], written[ActionItem], written[TimelineEvent])


def _triggers_off(connection: sa.Connection) -> Callable[[], None]:
    """No triggers on the seeded tables while the rows go in; what they derive is rebuilt afterwards,
    one statement per table, instead of once per row (on SQLite, where a timeline event rewrites its
    postmortem's search document, hours instead of minutes). Returns what turns them back on.

    PostgreSQL skips them for the transaction (the foreign keys' checks too, which are triggers: the
    rows are consistent by construction). SQLite cannot skip them, so they are dropped and created
    again in the same transaction.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        return lambda: connection.execute(sa.text("SET LOCAL session_replication_role = origin"))
    seeded = [model.__tablename__ for model in SEEDED]  # type: ignore[attr-defined]
    triggers = connection.execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :tables").bindparams(
            sa.bindparam("tables", expanding=True)
        ),
        {"tables": seeded},
    ).all()
    for name, _ in triggers:
        connection.execute(sa.text(f'DROP TRIGGER "{name}"'))

    def restore() -> None:
        for _, sql in triggers:
            connection.execute(sa.text(sql))

    return restore


DERIVED = {
    # table: the view that defines its rows (see the migrations that create them)
    "postmortem_search": ("postmortem_id, title, body, details", "postmortem_search_document"),
    "postmortem_label": ("kind, label, postmortem_id", "postmortem_label_source"),
}


def rebuild_derived(connection: sa.Connection) -> None:
    """Write what the database derives from the postmortems and their timelines (search documents,
    labels) afresh from the views that define it.

    The database's triggers write these rows as the data goes in, unless they were off during the
    bulk load; rebuilding makes them right either way, and is the one place to change when another
    derived table appears."""
    for table, (columns, view) in DERIVED.items():
        connection.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608 - constant names
        connection.execute(sa.text(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {view}"))  # noqa: S608
