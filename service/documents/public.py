"""The customer-facing incident report: what happened, when, whether customer data was affected,
and what is being done so it does not happen again; nothing internal.

Left out entirely: authors, the incident reference, services, tags, the timeline, root cause and
five whys, contributing factors, what went well or poorly, lessons learned, links, the review
meeting, impact figures (revenue above all), and action items' owners, priorities, due dates and
tickets. In the text that is shown (title, summary and action-item titles) these are replaced by
`[redacted]`: the names of the people involved (authors, owners, the review facilitator and
attendees, approvers), every word of a person's name, a team or role as a whole ("payments on-call",
never a common word such as "the" or "team" alone), given names and `@handles`, e-mail addresses,
money amounts ($4k, €1.2M, 300 USD), URLs, ticket keys (OPS-42, acme/payments#42), the
postmortem's services, and the terms of the `POSTMORTEMS_PUBLIC_REDACT_TERMS` setting. Terms match
case-insensitively as whole words or phrases.
"""

import re
from collections.abc import Iterable
from datetime import datetime

from service.action_items.models import ActionItemRead, ItemKind, ItemStatus
from service.documents import text
from service.documents.models import PostmortemDocument
from service.review.lexicon import (
    AUXILIARIES,
    COORDINATORS,
    DETERMINERS,
    GIVEN_NAMES,
    GROUP_PRONOUNS,
    NEGATIONS,
    PERSON_PRONOUNS,
    PERSON_ROLES,
    PREPOSITIONS,
    SPEAKER_PRONOUNS,
    SUBORDINATORS,
    TEAM_WORDS,
)

REDACTED = "[redacted]"
NOT_NAME_WORDS = (
    PERSON_ROLES
    | TEAM_WORDS
    | DETERMINERS
    | AUXILIARIES
    | PREPOSITIONS
    | COORDINATORS
    | SUBORDINATORS
    | NEGATIONS
    | PERSON_PRONOUNS
    | GROUP_PRONOUNS
    | SPEAKER_PRONOUNS
)
"""Words that are part of a team's or a role's name, never of a person's: not redacted on their own."""
PREVENTIVE_KINDS = frozenset({ItemKind.PREVENT, ItemKind.DETECT, ItemKind.MITIGATE})
CUSTOMER_DATA = {
    True: "Customer data was affected by this incident.",
    False: "No customer data was affected.",
    "unknown": "We are still determining whether any customer data was affected.",
}

_AMOUNT = r"\d(?:[\d,.']*\d)?(?:\s?(?:k|m|mn|bn|b|million|billion|thousand)\b)?"
_CURRENCY_CODES = r"USD|EUR|GBP|CHF|JPY|CAD|AUD|INR|CNY|SEK|NOK|DKK|dollars?|euros?|pounds?"
_NOT_TICKETS = r"UTF|ISO|SHA|MD|AES|RSA|HTTP|TLS|SSL|IPV|CVE"  # standards, not ticket keys
PATTERNS = [
    re.compile(
        r"\b(?:(?:https?|ftp)://|www\.)\S+?(?=[.,;:!?)\]]*(?:\s|$))", re.IGNORECASE
    ),  # URLs, not the period after
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail addresses
    re.compile(r"(?<![\w@])@\w[\w.-]*"),  # @handles
    re.compile(rf"[$€£¥₹]\s?{_AMOUNT}", re.IGNORECASE),  # $4k, €1.2M
    re.compile(rf"\b(?:{_CURRENCY_CODES})\s?{_AMOUNT}|\b{_AMOUNT}\s?(?:{_CURRENCY_CODES})\b", re.IGNORECASE),
    re.compile(r"\b[\w.-]+/[\w.-]+#\d+\b"),  # acme/payments#42
    re.compile(rf"\b(?!(?:{_NOT_TICKETS})-)[A-Z][A-Z0-9]{{1,9}}-\d+\b"),  # OPS-42, INC-4711
    re.compile(rf"\b(?:{'|'.join(sorted(name.capitalize() for name in GIVEN_NAMES))})\b"),  # people named
]


def _term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """Whole words or phrases, case-insensitive, longest first; spaces match any whitespace."""
    unique = sorted({term.strip().lower() for term in terms if term.strip()}, key=lambda term: (-len(term), term))
    if not unique:
        return None
    alternatives = (r"\s+".join(re.escape(word) for word in term.split()) for term in unique)
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


def _people(document: PostmortemDocument) -> set[str]:
    names = set(document.authors)
    names |= {item.owner for item in document.action_items if item.owner}
    names |= {approval.name for approval in document.approvals}
    if (meeting := document.review_meeting) is not None:
        names |= set(meeting.attendees)
        if meeting.facilitator:
            names.add(meeting.facilitator)
    return {term for name in names for term in _terms_of(name) if len(term) >= 2}


def _terms_of(name: str) -> set[str]:
    """What names `name` in text: the whole of it, and each of its words when it is a person's name.

    An owner may be a team, a role or a handle ("the team", "payments on-call", "@sre-night"): then only
    the whole is redacted, and never a common word of it, or "the team" would take out every "the".
    """
    bare = name.lstrip("@")  # "@payments-oncall" is also written "payments-oncall"
    parts = [part for part in re.split(r"[\s._]+", bare) if part]
    common = [part.casefold() in NOT_NAME_WORDS for part in parts]
    if all(common):
        return set()
    if any(common):
        return {name, bare}
    return {name, bare, *parts}


class Redactor:
    """Replaces what a customer must not read with `[redacted]`."""

    def __init__(self, terms: Iterable[str]) -> None:
        term_pattern = _term_pattern(terms)
        self.patterns = [*PATTERNS, *([term_pattern] if term_pattern is not None else [])]

    @classmethod
    def for_document(cls, document: PostmortemDocument, extra_terms: Iterable[str]) -> "Redactor":
        return cls([*_people(document), *document.services, *extra_terms])

    def __call__(self, value: str) -> str:
        spans = sorted(match.span() for pattern in self.patterns for match in pattern.finditer(value))
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        out, position = [], 0
        for start, end in merged:
            out += [value[position:start], REDACTED]
            position = end
        out.append(value[position:])
        return "".join(out)


def _when(value: datetime | None, missing: str) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else missing


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if rest or not hours:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


def _prevention(items: list[ActionItemRead]) -> list[ActionItemRead]:
    """Items being done (not won't-do); preventive, detective and mitigating ones when there are any."""
    pursued = [item for item in items if item.status is not ItemStatus.WONT_DO]
    preferred = [item for item in pursued if item.kind in PREVENTIVE_KINDS]
    return preferred or pursued


def render_public(document: PostmortemDocument, redact_terms: Iterable[str]) -> str:
    redact = Redactor.for_document(document, redact_terms)
    lines = [f"# Incident report: {text.inline(redact(document.title), line_start=False)}", ""]
    lines += ["## What happened", ""]
    summary = redact(document.summary) if document.summary and document.summary.strip() else None
    lines += text.block(summary) if summary else ["We are still investigating this incident and will share more soon."]
    lines += ["", "## Impact", ""]
    lines.append(f"- **Started:** {_when(document.started_at, 'being determined')}")
    lines.append(f"- **Resolved:** {_when(document.resolved_at, 'not yet resolved')}")
    if document.duration_minutes is not None:
        lines.append(f"- **Duration:** {_duration(document.duration_minutes)}")
    lines += ["", "## Customer data", "", CUSTOMER_DATA[document.customer_data_affected]]
    lines += ["", "## What we are doing to prevent this from happening again", ""]
    items = _prevention(document.action_items)
    for item in items:
        done = " (done)" if item.status is ItemStatus.DONE else ""
        lines.append(f"- {text.inline(redact(item.title))}{done}")
    if not items:
        lines.append("We are reviewing this incident and will share the steps we are taking.")
    return "\n".join(lines) + "\n"
