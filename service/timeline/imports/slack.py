"""Slack: a channel's messages as a workspace export writes them (one day's file) or
`conversations.history` returns them (its `messages`), a JSON array.

An incident channel holds far more chatter than timeline; the team marks what matters by pinning
(a decision), starring or writing a marker such as "#timeline" (a communication), and only those
messages become events. Slack's markup is rendered as the text people saw.
"""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from service.timeline.imports.models import ImportOptions, Parsed
from service.timeline.imports.reading import Faults, clip, entries, load_json, renamed
from service.timeline.models import EventKind

SOURCE = "Slack"
STAR = "star"
TS = re.compile(r"^\d{1,12}(?:\.\d{1,6})?$")
MARKUP = re.compile(r"<([^<>]*)>")
FIELDS = {"occurred_at": "ts", "description": "text", "source_id": "ts"}


def read(body: bytes, options: ImportOptions) -> Parsed:
    faults = Faults()
    document = load_json(body)
    if isinstance(document, dict) and "messages" in document:  # conversations.history's whole answer
        messages = entries(document["messages"], "messages", faults)
    else:
        messages = entries(document, "", faults)
    names = _user_names(message for _, message in messages)
    parsed = Parsed()
    for path, message in messages:
        ts = faults.text(message, "ts", f"{path}.ts", required=True)
        text = faults.text(message, "text", f"{path}.text") or ""
        occurred_at = _timestamp(ts, f"{path}.ts", faults) if ts is not None else None
        pinned = _pinned(message)
        rendered = render(text, names)
        marked, rendered = _without_markers(rendered, options.slack_markers)
        if not (pinned or marked or _starred(message)) or not rendered:
            parsed.skipped += 1
            continue
        if occurred_at is None:
            continue
        values = {
            "occurred_at": occurred_at,
            "kind": EventKind.DECISION if pinned else EventKind.COMMUNICATION,
            "description": clip(f"{_author(message, names)}: {rendered}"),
            "source": SOURCE,
            "source_id": ts,
        }
        event = faults.event(renamed(path, FIELDS), values)
        if event is not None:
            parsed.events.append(event)
    faults.raise_if_any()
    return parsed


def render(text: str, names: dict[str, str]) -> str:
    """Slack's markup as plain text: mentions by name, `label (url)` links, and `&lt;&gt;&amp;` unescaped."""

    def plain(match: re.Match[str]) -> str:
        target, _, label = match[1].partition("|")
        if target.startswith("@"):
            return "@" + (names.get(target[1:]) or label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):  # <!here>, <!subteam^S1|@oncall>, <!date^...|fallback>
            return label or "@" + target[1:].split("^", 1)[0]
        if not label or label in (target, target.removeprefix("mailto:")):
            return label or target
        return f"{label} ({target})"

    rendered = MARKUP.sub(plain, text)
    return rendered.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def _user_names(messages: Any) -> dict[str, str]:
    """User id -> name, from the messages that carry one (`user_name`, or the export's `user_profile`)."""
    names: dict[str, str] = {}
    for message in messages:
        user = message.get("user")
        profile = message.get("user_profile")
        profile = profile if isinstance(profile, dict) else {}
        for name in (
            message.get("user_name"),
            profile.get("display_name"),
            profile.get("real_name"),
            profile.get("name"),
        ):
            if isinstance(user, str) and isinstance(name, str) and name:
                names.setdefault(user, name)
                break
    return names


def _author(message: dict[str, Any], names: dict[str, str]) -> str:
    user = message.get("user")
    if isinstance(user, str) and user:
        return names.get(user, user)
    username = message.get("username")  # bots and integrations
    return username if isinstance(username, str) and username else "unknown"


def _pinned(message: dict[str, Any]) -> bool:
    pinned_to = message.get("pinned_to")
    return isinstance(pinned_to, list) and bool(pinned_to)


def _starred(message: dict[str, Any]) -> bool:
    reactions = message.get("reactions")
    return isinstance(reactions, list) and any(
        isinstance(reaction, dict) and reaction.get("name") == STAR for reaction in reactions
    )


def _without_markers(text: str, markers: tuple[str, ...]) -> tuple[bool, str]:
    """Whether `text` holds a marker (any case), and the text without them: they tag, they are not content."""
    marked = False
    for marker in markers:
        pattern = re.compile(re.escape(marker), re.IGNORECASE)
        marked = marked or pattern.search(text) is not None
        text = pattern.sub("", text)
    return marked, " ".join(text.split())


def _timestamp(ts: str, field: str, faults: Faults) -> datetime | None:
    """Slack's `ts`, seconds since the epoch with microseconds ("1736932800.000200"), in UTC."""
    if not TS.match(ts):
        faults.add(field, 'must be seconds since the epoch, e.g. "1736932800.000200"', "invalid_timestamp")
        return None
    seconds = Decimal(ts)
    whole = int(seconds)
    return datetime.fromtimestamp(whole, UTC) + timedelta(microseconds=int((seconds - whole) * 1_000_000))
