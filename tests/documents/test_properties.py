"""Properties of the Markdown mapping: any text, and any postmortem, comes back from its document unchanged."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

import hypothesis
from hypothesis import strategies as st

from service.action_items.models import ItemKind, ItemStatus, Priority
from service.documents import parse, text
from service.documents.models import PostmortemDocument
from service.documents.render import render
from service.postmortems.models import PostmortemCreate
from service.timeline.models import EventKind

SETTINGS = hypothesis.settings(max_examples=200, deadline=None, derandomize=True, database=None)

MARKDOWN_PIECES = [
    *"\\`*_[]<>|~&#$-+=.)!:;,(){}\"' \t\n\r",
    "—",
    "\u2013",  # en dash
    "<br>",
    "<!-- empty -->",
    "&#32;",
    "&amp;",
    "**",
    "- ",
    "1. ",
    "## ",
    "- [ ] ",
    "| --- |",
    "\u2028",
    "\u00a0",
    "\ufeff",
    "漢字",
    "🚀",
]
characters = st.one_of(
    st.sampled_from(MARKDOWN_PIECES),
    st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"),
)


def texts(min_size: int = 0, max_size: int = 30) -> st.SearchStrategy[str]:
    return (
        st.lists(characters, min_size=min_size, max_size=max_size)
        .map("".join)
        .filter(lambda value: min_size <= len(value))
    )


def labels() -> st.SearchStrategy[str]:
    return texts(1, 12).filter(lambda value: len(value) <= 100)


@SETTINGS
@hypothesis.given(texts(max_size=60))
def test_any_text_survives_one_line_contexts(value: str) -> None:
    encoded = text.inline(value)

    assert "\n" not in encoded
    assert text.decode_inline(encoded) == value
    assert text.decode_inline(f"  {encoded}\t") == value


@SETTINGS
@hypothesis.given(texts(max_size=60))
def test_any_text_survives_a_paragraph_block(value: str) -> None:
    lines = text.block(value)

    assert all("\n" not in line for line in lines)
    assert text.decode_block(["", *lines, ""]) == value


@SETTINGS
@hypothesis.given(st.lists(labels(), min_size=1, max_size=5))
def test_any_labels_survive_a_comma_separated_list(values: list[str]) -> None:
    parts = text.split_unescaped(text.inline_list(values), text.LIST_SEPARATOR)

    assert [text.decode_inline(part) for part in parts] == values


def test_missing_and_empty_values_are_told_apart() -> None:
    assert (text.inline(None), text.inline(""), text.inline("—")) == ("—", "<!-- empty -->", "&#8212;")
    assert (text.decode_inline("—"), text.decode_inline("-"), text.decode_inline("<!-- empty -->")) == (None, None, "")
    assert (text.block(None), text.block(""), text.decode_block([]), text.decode_block(["<!-- empty -->"])) == (
        [],
        ["<!-- empty -->"],
        None,
        "",
    )


timestamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC))
five_whys = st.fixed_dictionaries({"question": texts(1), "answer": texts(1)})
impacts = st.none() | st.fixed_dictionaries(
    {
        "users_affected": st.none() | st.integers(0, 10**12),
        "revenue_impact": st.none() | texts(),
        "sla_impact": st.none() | texts(),
        "description": st.none() | texts(),
    }
)
urls = st.text(st.characters(codec="ascii", categories=["L", "N", "P", "S"]), min_size=1, max_size=20).map(
    lambda path: f"https://{path}"
)
meetings = st.none() | st.fixed_dictionaries(
    {
        "scheduled_at": timestamps,
        "facilitator": st.none() | labels(),
        "attendees": st.lists(labels(), max_size=3),
        "notes": st.none() | texts(),
    }
)
contents = st.fixed_dictionaries(
    {
        "title": texts(1, 40),
        "severity": st.sampled_from(["P1", "P2", "P3"]),
        "template": st.sampled_from(["standard", "quick"]),
        "incident_ref": st.none() | texts(),
        "authors": st.lists(labels(), max_size=3),
        "services": st.lists(labels(), max_size=3),
        "tags": st.lists(labels(), max_size=3),
        "started_at": st.none() | timestamps,
        "summary": st.none() | texts(max_size=60),
        "impact": impacts,
        "root_cause": st.none() | texts(max_size=60),
        "five_whys": st.lists(five_whys, max_size=3),
        "contributing_factors": st.lists(texts(1), max_size=3),
        "what_went_well": st.lists(texts(1), max_size=3),
        "what_went_poorly": st.lists(texts(1), max_size=3),
        "lessons_learned": st.none() | texts(max_size=60),
        "failure_mode": st.none() | labels(),
        "related_postmortem_ids": st.lists(st.uuids(version=4), max_size=2),
        "links": st.lists(st.fixed_dictionaries({"title": texts(1, 20), "url": urls}), max_size=2),
        "customer_data_affected": st.sampled_from([True, False, "unknown"]),
        "review_meeting": meetings,
        "integration_id": st.none() | st.uuids(version=4),
    }
)
events = st.fixed_dictionaries(
    {
        "occurred_at": timestamps,
        "kind": st.sampled_from(list(EventKind)),
        "description": texts(1, 40),
        "source": st.none() | texts(max_size=20),
    }
)
items = st.fixed_dictionaries(
    {
        "title": texts(1, 30),
        "description": st.none() | texts(max_size=60),
        "owner": st.none() | labels(),
        "priority": st.none() | st.sampled_from(list(Priority)),
        "due_date": st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
        "status": st.sampled_from(list(ItemStatus)),
        "kind": st.sampled_from(list(ItemKind)),
        "integration_id": st.none() | st.uuids(version=4),
    }
)

NOW = datetime(2025, 1, 20, tzinfo=UTC)
RECORD = {"created_at": NOW, "updated_at": NOW, "version": 1}


def as_document(content: dict[str, Any], timeline: list[dict[str, Any]], action_items: list[dict[str, Any]]) -> Any:
    """The read model the export renders, as the service would hand it over."""
    postmortem_id = uuid.uuid4()
    return PostmortemDocument.model_validate(
        content
        | RECORD
        | {
            "id": postmortem_id,
            "status": "draft",
            "submitted_at": None,
            "completed_at": None,
            "approvals": [],
            "action_items_summary": {"total": len(action_items), "open": 0, "done": 0, "overdue": 0},
            "timeline": [event | RECORD | {"id": uuid.uuid4(), "postmortem_id": postmortem_id} for event in timeline],
            "action_items": [
                item
                | RECORD
                | {
                    "id": uuid.uuid4(),
                    "postmortem_id": postmortem_id,
                    "completed_at": None,
                    "external": None,
                    "sync_status": None,
                    "last_sync_error": None,
                    "slo_due_date": None,
                }
                for item in action_items
            ],
        }
    )


@SETTINGS
@hypothesis.given(contents, st.lists(events, max_size=3), st.lists(items, max_size=3))
def test_any_postmortem_comes_back_from_its_document(
    content: dict[str, Any], timeline: list[dict[str, Any]], action_items: list[dict[str, Any]]
) -> None:
    expected = PostmortemCreate.model_validate(content)
    document = as_document(content, timeline, action_items)

    read = parse.read(render(document))

    assert read.postmortem == expected
    assert [event.model_dump() for event in read.events] == [
        {name: getattr(event, name) for name in ("occurred_at", "kind", "description", "source")}
        for event in document.timeline
    ]
    assert [item.model_dump() for item in read.items] == action_items
