"""A postmortem as a Markdown document, in its template (standard or quick).

What goes where (`text` explains how each value is escaped):

- `title`: the `#` heading. Metadata bullets under it: `Severity`, `Template`, `Status` (shown,
  not imported), `Incident` (incident_ref), `Authors`, `Services`, `Tags` (comma-separated),
  `Started`/`Detected`/`Mitigated`/`Resolved` (RFC 3339 UTC), `Duration` (shown, not imported),
  `Failure mode`, `Customer data affected` (yes, no or unknown), `Related postmortems` (ids),
  `Links` (`[title](url)`, comma-separated), `Tracker integration` (integration_id), and
  `Review meeting` (its scheduled_at), `Review facilitator`, `Review attendees`, `Review notes`.
  A bullet whose value is missing is left out.
- Standard template sections: Summary; Impact (bullets `Users affected`, `Revenue impact`,
  `SLA impact`, then the description); Timeline (table: time UTC | kind | description | source);
  Root Cause, then `### Five Whys` as `1. **question** answer`; Contributing Factors, What Went
  Well, What Went Poorly (one `- ` item each); Action Items (table: title | owner | priority | due |
  status | kind | ticket, then `### N. title` per item with a description or a tracker
  integration); Lessons Learned.
- Quick template: What happened? (summary), What broke? (root cause and five whys), Action items
  as a checklist `- [ ] **title** — owner: ...; priority: ...; due: ...` (`[x]` when done or won't
  do; `status:` is written when the box does not tell it, `kind:` when not `other`, `tracker:`
  when set; the description is indented under the item). Any other content the postmortem has
  follows under its standard section, so nothing is lost.
"""

from service.action_items.models import ActionItemRead, ItemKind, ItemStatus
from service.documents import layout, text
from service.documents.models import PostmortemDocument
from service.postmortems.enums import Template
from service.postmortems.models import FiveWhy, Impact
from service.timeline.models import TimelineEventRead

CUSTOMER_DATA_WORDS = {True: "yes", False: "no", "unknown": "unknown"}
CHECKED = frozenset({ItemStatus.DONE, ItemStatus.WONT_DO})
IMPLIED_STATUS = {True: ItemStatus.DONE, False: ItemStatus.OPEN}


def render(document: PostmortemDocument) -> str:
    lines = [f"# {text.inline(document.title)}", "", *_metadata(document)]
    quick = document.template is Template.QUICK
    sections = _quick_sections(document) if quick else _standard_sections(document)
    for heading, body in sections:
        lines += ["", f"## {heading}"]
        if body:
            lines += ["", *body]
    return "\n".join(lines) + "\n"


def _metadata(document: PostmortemDocument) -> list[str]:
    label = layout.label
    bullets = [
        label(layout.SEVERITY, document.severity.value),
        label(layout.TEMPLATE, document.template.value),
        label(layout.STATUS, document.status.value),
    ]
    if document.incident_ref is not None:
        bullets.append(label(layout.INCIDENT, text.inline(document.incident_ref)))
    for name, field in layout.LIST_LABELS.items():
        if values := getattr(document, field):
            bullets.append(label(name, text.inline_list(values)))
    for name, field in layout.TIMESTAMP_LABELS.items():
        if (value := getattr(document, field)) is not None:
            bullets.append(label(name, layout.timestamp(value)))
    if document.duration_minutes is not None:
        bullets.append(label(layout.DURATION, layout.minutes(document.duration_minutes)))
    if document.failure_mode is not None:
        bullets.append(label(layout.FAILURE_MODE, text.inline(document.failure_mode)))
    bullets.append(label(layout.CUSTOMER_DATA, CUSTOMER_DATA_WORDS[document.customer_data_affected]))
    if document.related_postmortem_ids:
        bullets.append(label(layout.RELATED, ", ".join(str(value) for value in document.related_postmortem_ids)))
    if document.links:
        links = (f"[{text.inline(link.title, line_start=False)}]({text.url(link.url)})" for link in document.links)
        bullets.append(label(layout.LINKS, ", ".join(links)))
    if document.integration_id is not None:
        bullets.append(label(layout.TRACKER, str(document.integration_id)))
    if (meeting := document.review_meeting) is not None:
        bullets.append(label(layout.REVIEW_MEETING, layout.timestamp(meeting.scheduled_at)))
        if meeting.facilitator is not None:
            bullets.append(label(layout.REVIEW_FACILITATOR, text.inline(meeting.facilitator)))
        if meeting.attendees:
            bullets.append(label(layout.REVIEW_ATTENDEES, text.inline_list(meeting.attendees)))
        if meeting.notes is not None:
            bullets.append(label(layout.REVIEW_NOTES, text.inline(meeting.notes)))
    return bullets


Section = tuple[str, list[str]]


def _standard_sections(document: PostmortemDocument) -> list[Section]:
    headings = layout.STANDARD_HEADINGS
    return [
        (headings[layout.SUMMARY], text.block(document.summary)),
        (headings[layout.IMPACT], _impact(document.impact)),
        (headings[layout.TIMELINE], _timeline(document.timeline)),
        (headings[layout.ROOT_CAUSE], _root_cause(document)),
        *[(headings[key], _list(getattr(document, key))) for key in layout.LIST_SECTIONS],
        (headings[layout.ACTION_ITEMS], _action_item_table(document.action_items)),
        (headings[layout.LESSONS_LEARNED], text.block(document.lessons_learned)),
    ]


def _quick_sections(document: PostmortemDocument) -> list[Section]:
    headings = layout.STANDARD_HEADINGS
    sections = [
        (layout.QUICK_HEADINGS[layout.SUMMARY], text.block(document.summary)),
        (layout.QUICK_HEADINGS[layout.ROOT_CAUSE], _root_cause(document)),
        (layout.QUICK_HEADINGS[layout.ACTION_ITEMS], _checklist(document.action_items)),
    ]
    if document.impact is not None:
        sections.append((headings[layout.IMPACT], _impact(document.impact)))
    if document.timeline:
        sections.append((headings[layout.TIMELINE], _timeline(document.timeline)))
    sections += [
        (headings[key], _list(getattr(document, key))) for key in layout.LIST_SECTIONS if getattr(document, key)
    ]
    if document.lessons_learned is not None:
        sections.append((headings[layout.LESSONS_LEARNED], text.block(document.lessons_learned)))
    return sections


def _impact(impact: Impact | None) -> list[str]:
    if impact is None:
        return []
    users = str(impact.users_affected) if impact.users_affected is not None else text.NONE
    lines = [
        layout.label(layout.USERS_AFFECTED, users),
        layout.label(layout.REVENUE_IMPACT, text.inline(impact.revenue_impact)),
        layout.label(layout.SLA_IMPACT, text.inline(impact.sla_impact)),
    ]
    if impact.description is not None:
        lines += ["", *text.block(impact.description)]
    return lines


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(columns), _row(["---"] * len(columns)), *(_row(row) for row in rows)]


def _timeline(events: list[TimelineEventRead]) -> list[str]:
    if not events:
        return []
    rows = [
        [
            layout.timestamp(event.occurred_at),
            event.kind.value,
            text.inline(event.description),
            text.inline(event.source),
        ]
        for event in events
    ]
    return _table(list(layout.TIMELINE_COLUMNS), rows)


def _root_cause(document: PostmortemDocument) -> list[str]:
    lines = text.block(document.root_cause)
    if document.five_whys:
        if lines:
            lines.append("")
        lines += [f"### {layout.FIVE_WHYS}", "", *_five_whys(document.five_whys)]
    return lines


def _five_whys(five_whys: list[FiveWhy]) -> list[str]:
    return [
        f"{number}. **{text.inline(why.question, line_start=False)}** {text.inline(why.answer, line_start=False)}"
        for number, why in enumerate(five_whys, start=1)
    ]


def _list(values: list[str]) -> list[str]:
    return [f"- {text.inline(value)}" for value in values]


def _ticket(item: ActionItemRead, extra: str = "") -> str | None:
    if item.external is None:
        return None
    key = text.inline(item.external.key or item.external.id, extra=extra, line_start=False)
    return f"[{key}]({text.url(item.external.url)})" if item.external.url else key


def _action_item_table(items: list[ActionItemRead]) -> list[str]:
    if not items:
        return []
    rows = [
        [
            text.inline(item.title),
            text.inline(item.owner),
            item.priority.value if item.priority else text.NONE,
            item.due_date.isoformat() if item.due_date else text.NONE,
            item.status.value,
            item.kind.value,
            _ticket(item) or text.NONE,
        ]
        for item in items
    ]
    lines = _table(list(layout.ACTION_ITEM_COLUMNS), rows)
    for number, item in enumerate(items, start=1):
        if item.description is None and item.integration_id is None:
            continue
        lines += ["", f"### {number}. {text.inline(item.title, line_start=False)}"]
        if item.integration_id is not None:
            lines += ["", layout.label(layout.TRACKER, str(item.integration_id))]
        if item.description is not None:
            lines += ["", *text.block(item.description)]
    return lines


def _checklist(items: list[ActionItemRead]) -> list[str]:
    lines = []
    for item in items:
        checked = item.status in CHECKED
        attributes = []
        separator = layout.ATTRIBUTE_SEPARATOR
        if item.owner is not None:
            attributes.append(f"owner: {text.inline(item.owner, extra=separator, line_start=False)}")
        if item.priority is not None:
            attributes.append(f"priority: {item.priority.value}")
        if item.due_date is not None:
            attributes.append(f"due: {item.due_date.isoformat()}")
        if item.status is not IMPLIED_STATUS[checked]:
            attributes.append(f"status: {item.status.value}")
        if item.kind is not ItemKind.OTHER:
            attributes.append(f"kind: {item.kind.value}")
        if (ticket := _ticket(item, separator)) is not None:
            attributes.append(f"ticket: {ticket}")
        if item.integration_id is not None:
            attributes.append(f"tracker: {item.integration_id}")
        line = f"- [{'x' if checked else ' '}] **{text.inline(item.title, line_start=False)}**"
        if attributes:
            line += f" {layout.TITLE_SEPARATOR} " + f"{separator} ".join(attributes)
        lines.append(line)
        lines += [f"  {description}" if description else "" for description in text.block(item.description)]
    return lines
