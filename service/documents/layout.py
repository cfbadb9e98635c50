"""The Markdown templates: section headings, metadata labels and table columns.

The renderer writes these spellings; the parser reads them case-insensitively, without a
trailing `?` or `:`, and accepts each section under its standard or quick-template heading.
"""

import re
from datetime import UTC, datetime

from service.documents import text

# Sections, in the order of the standard template.
SUMMARY = "summary"
IMPACT = "impact"
TIMELINE = "timeline"
ROOT_CAUSE = "root_cause"
CONTRIBUTING_FACTORS = "contributing_factors"
WHAT_WENT_WELL = "what_went_well"
WHAT_WENT_POORLY = "what_went_poorly"
ACTION_ITEMS = "action_items"
LESSONS_LEARNED = "lessons_learned"

STANDARD_HEADINGS = {
    SUMMARY: "Summary",
    IMPACT: "Impact",
    TIMELINE: "Timeline",
    ROOT_CAUSE: "Root Cause",
    CONTRIBUTING_FACTORS: "Contributing Factors",
    WHAT_WENT_WELL: "What Went Well",
    WHAT_WENT_POORLY: "What Went Poorly",
    ACTION_ITEMS: "Action Items",
    LESSONS_LEARNED: "Lessons Learned",
}
QUICK_HEADINGS = {SUMMARY: "What happened?", ROOT_CAUSE: "What broke?", ACTION_ITEMS: "Action items"}
QUICK_ONLY = frozenset({"what happened", "what broke"})
FIVE_WHYS = "Five Whys"
LIST_SECTIONS = (CONTRIBUTING_FACTORS, WHAT_WENT_WELL, WHAT_WENT_POORLY)
BLOCK_SECTIONS = (SUMMARY, ROOT_CAUSE, LESSONS_LEARNED)


def normalize(heading: str) -> str:
    """A heading or label as compared: lowercase, single spaces, no trailing `?`, `:` or `.`."""
    return " ".join(heading.lower().split()).rstrip("?:. ")


SECTION_KEYS = {normalize(name): key for key, name in [*STANDARD_HEADINGS.items(), *QUICK_HEADINGS.items()]}
SECTION_NAMES = [
    *STANDARD_HEADINGS.values(),
    *(name for key, name in QUICK_HEADINGS.items() if normalize(name) != normalize(STANDARD_HEADINGS[key])),
]

# Metadata labels (the bullet list under the title).
SEVERITY = "Severity"
TEMPLATE = "Template"
STATUS = "Status"
INCIDENT = "Incident"
AUTHORS = "Authors"
SERVICES = "Services"
TAGS = "Tags"
STARTED = "Started"
DETECTED = "Detected"
MITIGATED = "Mitigated"
RESOLVED = "Resolved"
DURATION = "Duration"
FAILURE_MODE = "Failure mode"
CUSTOMER_DATA = "Customer data affected"
RELATED = "Related postmortems"
LINKS = "Links"
TRACKER = "Tracker integration"
REVIEW_MEETING = "Review meeting"
REVIEW_FACILITATOR = "Review facilitator"
REVIEW_ATTENDEES = "Review attendees"
REVIEW_NOTES = "Review notes"
INFORMATIONAL = frozenset({normalize(STATUS), normalize(DURATION)})  # derived: shown, not imported

TIMESTAMP_LABELS = {STARTED: "started_at", DETECTED: "detected_at", MITIGATED: "mitigated_at", RESOLVED: "resolved_at"}
LIST_LABELS = {AUTHORS: "authors", SERVICES: "services", TAGS: "tags"}
CUSTOMER_DATA_WORDS = {"yes": True, "true": True, "no": False, "false": False, "unknown": "unknown"}

# Impact bullets.
USERS_AFFECTED = "Users affected"
REVENUE_IMPACT = "Revenue impact"
SLA_IMPACT = "SLA impact"
IMPACT_LABELS = {USERS_AFFECTED: "users_affected", REVENUE_IMPACT: "revenue_impact", SLA_IMPACT: "sla_impact"}

# Tables: column heading -> field.
TIMELINE_COLUMNS = {"Time (UTC)": "occurred_at", "Kind": "kind", "Description": "description", "Source": "source"}
TIMELINE_ALIASES = {"time": "occurred_at", "time utc": "occurred_at", "timestamp": "occurred_at"}
ACTION_ITEM_COLUMNS = {
    "Title": "title",
    "Owner": "owner",
    "Priority": "priority",
    "Due": "due_date",
    "Status": "status",
    "Kind": "kind",
    "Ticket": "ticket",
}
ACTION_ITEM_ALIASES = {"due date": "due_date"}

# Checklist attributes of the quick template: `- [ ] **Title** — owner: @a; priority: P1; due: 2025-02-01`.
CHECKLIST_ATTRIBUTES = {
    "owner": "owner",
    "priority": "priority",
    "due": "due_date",
    "status": "status",
    "kind": "kind",
    "ticket": "ticket",
    "tracker": "integration_id",
}
ATTRIBUTE_SEPARATOR = ";"
TITLE_SEPARATOR = "—"


def column_key(heading: str, columns: dict[str, str], aliases: dict[str, str]) -> str | None:
    wanted = normalize(re.sub(r"[()]", " ", heading))
    for name, key in columns.items():
        if normalize(re.sub(r"[()]", " ", name)) == wanted:
            return key
    return aliases.get(wanted)


def timestamp(value: datetime) -> str:
    """UTC, RFC 3339, `Z`; fractions of a second only when there are some."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def minutes(total: int) -> str:
    hours, rest = divmod(total, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def label(name: str, value: str) -> str:
    """A metadata bullet."""
    return f"- **{name}:** {value}".rstrip(" ")


def heading_text(raw: str) -> str:
    return text.decode_inline(raw) or ""
