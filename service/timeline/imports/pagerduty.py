"""PagerDuty: the body of `GET /incidents/{id}/log_entries`, `{"log_entries": [...]}`.

Each entry type that marks a step of the response becomes an event; notifications (one per
person paged, per channel) would bury those steps, so they are left out unless asked for, and
types that say nothing about the incident's course (assign, snooze, priority change...) are too.
"""

from typing import Any

from service.timeline.imports.models import ImportOptions, Parsed
from service.timeline.imports.reading import Faults, clip, entries, load_json, renamed, unprocessable
from service.timeline.models import EventKind

SOURCE = "PagerDuty"
KINDS = {
    "trigger_log_entry": EventKind.ALERT,
    "acknowledge_log_entry": EventKind.ACTION,
    "escalate_log_entry": EventKind.ACTION,
    "annotate_log_entry": EventKind.COMMUNICATION,
    "resolve_log_entry": EventKind.RESOLUTION,
}
NOTIFY = "notify_log_entry"
FIELDS = {"occurred_at": "created_at", "description": "summary", "source_id": "id"}


def read(body: bytes, options: ImportOptions) -> Parsed:
    document = load_json(body)
    if not isinstance(document, dict) or "log_entries" not in document:
        raise unprocessable('must be an object with "log_entries", as PagerDuty returns it', "missing")
    faults = Faults()
    parsed = Parsed()
    for path, entry in entries(document["log_entries"], "log_entries", faults):
        entry_type = faults.text(entry, "type", f"{path}.type", required=True)
        source_id = faults.text(entry, "id", f"{path}.id", required=True)
        occurred_at = faults.timestamp(entry.get("created_at"), f"{path}.created_at")
        kind = KINDS.get(entry_type or "")
        if entry_type == NOTIFY and options.include_notifications:
            kind = EventKind.COMMUNICATION
        if kind is None:
            parsed.skipped += 1
            continue
        description = _description(entry, entry_type or "", path, faults)
        if source_id is None or occurred_at is None:
            continue
        values = {"occurred_at": occurred_at, "kind": kind, "description": description, "source": SOURCE}
        event = faults.event(renamed(path, FIELDS), values | {"source_id": source_id})
        if event is not None:
            parsed.events.append(event)
    faults.raise_if_any()
    return parsed


def _description(entry: dict[str, Any], entry_type: str, path: str, faults: Faults) -> str:
    """The entry's summary ("Acknowledged by Alice"); a note's text follows the summary of its annotation."""
    summary = faults.text(entry, "summary", f"{path}.summary")
    note = None
    channel = entry.get("channel")
    if entry_type == "annotate_log_entry" and isinstance(channel, dict) and isinstance(channel.get("summary"), str):
        note = channel["summary"].strip() or None
    if not summary:
        agent = entry.get("agent")
        who = agent.get("summary") if isinstance(agent, dict) else None
        summary = entry_type.removesuffix("_log_entry").replace("_", " ").capitalize()
        summary += f" by {who}" if isinstance(who, str) and who else ""
    return clip(f"{summary}: {note}" if note and note != summary else summary)
