"""GET /v1/postmortems/{id}/export and POST /v1/postmortems/import over HTTP."""

import httpx
import pytest
from fastapi import FastAPI

from service.settings import Settings
from tests.documents.helpers import (
    AWKWARD,
    comparable,
    export,
    export_json,
    export_markdown,
    full_postmortem,
    import_markdown,
)
from tests.factories import add_action_item, add_event, create_postmortem, submittable_postmortem
from tests.problems import UNKNOWN_ID, assert_invalid, assert_problem, problem_errors

STANDARD_DOCUMENT = """\
# Checkout errors after config push

- **Severity:** P2
- **Template:** standard
- **Status:** draft
- **Incident:** INC-4711
- **Authors:** alice, bob
- **Services:** checkout
- **Started:** 2025-01-15T08:50:00Z
- **Detected:** 2025-01-15T09:00:00Z
- **Resolved:** 2025-01-15T09:35:00Z
- **Duration:** 45 min
- **Customer data affected:** no

## Summary

Checkout failed for 45 minutes after a bad config push.

## Impact

- **Users affected:** 1200
- **Revenue impact:** \\~\\$4k in failed orders
- **SLA impact:** —

Checkout returned 500s \\| every card payment.

## Timeline

| Time (UTC) | Kind | Description | Source |
| --- | --- | --- | --- |
| 2025-01-15T09:00:00Z | alert | Error-rate alert fired | PagerDuty |
| 2025-01-15T09:20:00Z | mitigation | Rolled back the push | — |

## Root Cause

The payment client's timeout was set to 0 by the config push.

### Five Whys

1. **Why did checkout fail?** The payment client timed out.

## Contributing Factors

- No canary stage for config pushes

## What Went Well

- The rollback took two minutes

## What Went Poorly

## Action Items

| Title | Owner | Priority | Due | Status | Kind | Ticket |
| --- | --- | --- | --- | --- | --- | --- |
| Validate config pushes in CI | @payments-oncall | P1 | 2099-01-31 | open | prevent | — |
| Page on checkout 5xx | — | — | — | done | detect | — |

### 2. Page on checkout 5xx

Alert when 5xx exceed 2%
for 5 minutes.

## Lessons Learned

Config is code.
"""

QUICK_DOCUMENT = """\
# Deploy stuck in staging

- **Severity:** P3
- **Template:** quick
- **Status:** draft
- **Customer data affected:** unknown

## What happened?

Deploys to staging hung for 20 minutes.

## What broke?

The deploy lock was never released.

## Action items

- [ ] **Release the lock on failure** — owner: @deploy; priority: P2; due: 2099-01-31; kind: prevent
- [x] **Clear the stuck lock**
- [ ] **Document the lock** — status: in_progress
  Where it lives,

  and how to clear it.
"""


async def test_markdown_export_follows_the_standard_template(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(
        client,
        incident_ref="INC-4711",
        authors=["alice", "bob"],
        services=["checkout"],
        started_at="2025-01-15T08:50:00Z",
        detected_at="2025-01-15T09:00:00Z",
        resolved_at="2025-01-15T09:35:00Z",
        summary="Checkout failed for 45 minutes after a bad config push.",
        impact={
            "users_affected": 1200,
            "revenue_impact": "~$4k in failed orders",
            "description": "Checkout returned 500s | every card payment.",
        },
        root_cause="The payment client's timeout was set to 0 by the config push.",
        five_whys=[{"question": "Why did checkout fail?", "answer": "The payment client timed out."}],
        contributing_factors=["No canary stage for config pushes"],
        what_went_well=["The rollback took two minutes"],
        lessons_learned="Config is code.",
        customer_data_affected=False,
    )
    await add_event(
        client,
        postmortem["id"],
        occurred_at="2025-01-15T09:20:00Z",
        kind="mitigation",
        description="Rolled back the push",
        source=None,
    )
    await add_event(client, postmortem["id"])
    await add_action_item(client, postmortem["id"])
    await add_action_item(
        client,
        postmortem["id"],
        title="Page on checkout 5xx",
        owner=None,
        priority=None,
        due_date=None,
        status="done",
        kind="detect",
        description="Alert when 5xx exceed 2%\nfor 5 minutes.",
    )

    assert await export_markdown(client, postmortem["id"]) == STANDARD_DOCUMENT


async def test_a_p3_exports_in_the_quick_template_with_a_checklist(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(
        client,
        title="Deploy stuck in staging",
        severity="P3",
        summary="Deploys to staging hung for 20 minutes.",
        root_cause="The deploy lock was never released.",
    )
    pm = postmortem["id"]
    await add_action_item(client, pm, title="Release the lock on failure", owner="@deploy", priority="P2")
    await add_action_item(
        client, pm, title="Clear the stuck lock", owner=None, priority=None, due_date=None, status="done", kind="other"
    )
    await add_action_item(
        client,
        pm,
        title="Document the lock",
        owner=None,
        priority=None,
        due_date=None,
        status="in_progress",
        kind="other",
        description="Where it lives,\n\nand how to clear it.",
    )

    assert await export_markdown(client, pm) == QUICK_DOCUMENT


@pytest.mark.parametrize(("severity", "template"), [("P1", "standard"), ("P3", "quick"), ("P3", "standard")])
async def test_export_then_import_keeps_every_field_event_and_item(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, severity: str, template: str
) -> None:
    original = await full_postmortem(client, admin_client, severity=severity, template=template)
    markdown = await export_markdown(client, original["id"])

    imported = await import_markdown(client, markdown)

    assert imported.status_code == 201, imported.text
    copy = imported.json()
    assert copy["id"] != original["id"]
    assert copy["status"] == "draft"
    assert imported.headers["location"] == f"/v1/postmortems/{copy['id']}"
    assert imported.headers["etag"] == (await client.get(imported.headers["location"])).headers["etag"]
    source = await export_json(client, original["id"])
    assert comparable(copy) == comparable(source)
    assert comparable(await export_json(client, copy["id"])) == comparable(source)
    assert (len(source["timeline"]), len(source["action_items"])) == (4, 4)
    assert source["summary"] == AWKWARD
    assert await export_markdown(client, copy["id"]) == markdown


async def test_the_json_export_is_the_postmortem_with_its_timeline_and_action_items(
    client: httpx.AsyncClient, reader_client: httpx.AsyncClient
) -> None:
    postmortem = await submittable_postmortem(client)
    await add_event(client, postmortem["id"], occurred_at="2025-01-15T08:55:00Z", description="Earlier")

    response = await export(reader_client, postmortem["id"], format="json")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    timeline = (await client.get(f"/v1/postmortems/{postmortem['id']}/timeline")).json()["items"]
    items = (await client.get(f"/v1/postmortems/{postmortem['id']}/action-items")).json()["items"]
    read = (await client.get(f"/v1/postmortems/{postmortem['id']}")).json()
    assert document == read | {"timeline": timeline, "action_items": items}
    assert [event["description"] for event in document["timeline"]] == ["Earlier", "Error-rate alert fired"]


async def test_a_postmortem_without_timeline_or_items_exports_empty_sections_and_imports_back(
    client: httpx.AsyncClient,
) -> None:
    postmortem = await create_postmortem(client, title="Nothing yet", severity="P1")

    markdown = await export_markdown(client, postmortem["id"])

    assert markdown == (
        "# Nothing yet\n\n- **Severity:** P1\n- **Template:** standard\n- **Status:** draft\n"
        "- **Customer data affected:** unknown\n\n## Summary\n\n## Impact\n\n## Timeline\n\n## Root Cause\n\n"
        "## Contributing Factors\n\n## What Went Well\n\n## What Went Poorly\n\n## Action Items\n\n"
        "## Lessons Learned\n"
    )
    imported = await import_markdown(client, markdown)
    assert imported.status_code == 201, imported.text
    assert comparable(imported.json()) == comparable(await export_json(client, postmortem["id"]))


async def test_a_quick_document_imports_as_a_quick_draft(client: httpx.AsyncClient) -> None:
    response = await import_markdown(client, QUICK_DOCUMENT)

    assert response.status_code == 201, response.text
    document = response.json()
    assert (document["title"], document["severity"], document["template"]) == ("Deploy stuck in staging", "P3", "quick")
    assert document["summary"] == "Deploys to staging hung for 20 minutes."
    assert document["root_cause"] == "The deploy lock was never released."
    assert [
        (
            item["title"],
            item["owner"],
            item["priority"],
            item["due_date"],
            item["status"],
            item["kind"],
            item["description"],
        )
        for item in document["action_items"]
    ] == [
        ("Release the lock on failure", "@deploy", "P2", "2099-01-31", "open", "prevent", None),
        ("Clear the stuck lock", None, None, None, "done", "other", None),
        ("Document the lock", None, None, None, "in_progress", "other", "Where it lives,\n\nand how to clear it."),
    ]
    assert await export_markdown(client, document["id"]) == QUICK_DOCUMENT


async def test_a_complete_postmortem_imports_as_a_new_draft(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    postmortem = await submittable_postmortem(client)
    for step in ("submit", "approve", "complete"):
        assert (await admin_client.post(f"/v1/postmortems/{postmortem['id']}/{step}")).status_code == 200
    markdown = await export_markdown(client, postmortem["id"])
    assert "- **Status:** complete\n" in markdown

    imported = await import_markdown(client, markdown)

    assert imported.status_code == 201, imported.text
    assert (imported.json()["status"], imported.json()["approvals"], imported.json()["submitted_at"]) == (
        "draft",
        [],
        None,
    )
    assert comparable(imported.json()) == comparable(await export_json(client, postmortem["id"]))


async def test_a_hand_written_document_is_read_leniently(client: httpx.AsyncClient) -> None:
    markdown = """\
#   Search was slow

* **severity**: p2
- **Started:** 2025-01-15 08:50
- **authors:** alice,  bob
- **Customer data affected:** No

## summary
Search took 10 s.
It recovered on its own.

## timeline

Time | Description | Kind
:--- | --- | ---
2025-01-15 09:00 | Latency alert | alert
2025-01-15T09:05:00+01:00 | Cache \\| warmed | -

## What went well?

* Nobody paged twice
  for the same alert

## ACTION ITEMS

| Title | Due date | Owner |
|---|---|---|
| Add a cache warm-up | 2099-02-01 | @search |
"""
    response = await import_markdown(client, markdown)

    assert response.status_code == 201, response.text
    document = response.json()
    assert (document["title"], document["severity"], document["template"], document["authors"]) == (
        "Search was slow",
        "P2",
        "standard",
        ["alice", "bob"],
    )
    assert (document["started_at"], document["customer_data_affected"]) == ("2025-01-15T08:50:00Z", False)
    assert document["summary"] == "Search took 10 s.\nIt recovered on its own."
    assert document["what_went_well"] == ["Nobody paged twice\nfor the same alert"]
    assert [(e["occurred_at"], e["kind"], e["description"], e["source"]) for e in document["timeline"]] == [
        ("2025-01-15T08:05:00Z", "other", "Cache | warmed", None),
        ("2025-01-15T09:00:00Z", "alert", "Latency alert", None),
    ]
    [item] = document["action_items"]
    assert (item["title"], item["owner"], item["due_date"], item["status"], item["kind"]) == (
        "Add a cache warm-up",
        "@search",
        "2099-02-01",
        "open",
        "other",
    )


MALFORMED = """\
# Broken

- **Severity:** P2
- **Colour:** blue
not a metadata line

## Timeline

| Time (UTC) | Kind | Description | Source |
| --- | --- | --- | --- |
| 2025-01-15T09:00:00Z | alert | fine | PagerDuty |
| 2025-01-15T09:05:00Z | alert | three cells |
| 2025-01-15T09:10:00Z | alert | a | b | five |

## Root Cause

Fine.

### Five Whys

1. Why? Because.

## Action Items

| Title | Owner |
| --- | --- |
| Fine | @a |

### 7. No such row

## Postscript

Anything.
"""


async def test_a_malformed_document_is_refused_with_every_bad_line_and_its_section(
    client: httpx.AsyncClient,
) -> None:
    response = await import_markdown(client, MALFORMED)

    errors = problem_errors(response, 422)
    assert [(error["field"], error["line"], error["location"], error["code"]) for error in errors] == [
        ("Metadata", 4, "body", "unknown_field"),
        ("Metadata", 5, "body", "malformed_line"),
        ("Timeline", 12, "body", "table_cells"),
        ("Timeline", 13, "body", "table_cells"),
        ("Five Whys", 21, "body", "malformed_line"),
        ("Action Items", 29, "body", "malformed_line"),
        ("Postscript", 31, "body", "unknown_section"),
    ]
    messages = [error["message"] for error in errors]
    assert messages[0] == "line 4: unknown field 'Colour'"
    assert messages[2] == "line 12: expected 4 table cells, found 3"
    assert messages[3] == "line 13: expected 4 table cells, found 5"
    assert messages[4] == "line 21: expected `1. **Question?** Answer`"
    assert messages[6].startswith("line 31: unknown section 'Postscript'; expected one of: Summary, Impact,")
    assert response.json()["detail"] == "the document has 7 errors"
    assert (await client.get("/v1/postmortems")).json()["items"] == []


async def test_invalid_values_are_refused_with_their_line_and_section(client: httpx.AsyncClient) -> None:
    markdown = f"""\
# {"T" * 201}

- **Severity:** P4
- **Started:** yesterday
- **Review attendees:** dave

## Impact

- **Users affected:** a few

## Timeline

| Time (UTC) | Kind | Description | Source |
| --- | --- | --- | --- |
| 2025-02-30T09:00:00Z | page | fine | — |

## Action items

- [ ] **Fix it** — owner: @a; priority: P7; due: soon
- [x] **Done** — status: open
"""
    response = await import_markdown(client, markdown)

    errors = problem_errors(response, 422)
    assert [(error["field"], error["line"], error["message"].split(":")[1].strip()) for error in errors] == [
        ("Title", 1, "title"),
        ("Metadata", 3, "severity"),
        ("Metadata", 4, "started_at"),
        ("Metadata", 5, "review_meeting.scheduled_at"),
        ("Impact", 9, "impact.users_affected"),
        ("Timeline", 15, "occurred_at"),
        ("Timeline", 15, "kind"),
        ("Action items", 19, "priority"),
        ("Action items", 19, "due_date"),
        ("Action items", 20, "a [x] item cannot have status open"),
    ]
    assert errors[0]["message"] == "line 1: title: String should have at most 200 characters"
    assert errors[3]["message"] == "line 5: review_meeting.scheduled_at: is required"
    assert (await client.get("/v1/postmortems")).json()["items"] == []


async def test_references_the_database_refuses_are_reported_at_their_lines(client: httpx.AsyncClient) -> None:
    markdown = f"""\
# References

- **Severity:** P2
- **Started:** 2025-01-15T09:00:00Z
- **Detected:** 2025-01-15T08:00:00Z
- **Related postmortems:** {UNKNOWN_ID}
- **Tracker integration:** {UNKNOWN_ID}

## Action Items

| Title |
| --- |
| Fine |
| Linked |

### 2. Linked

- **Tracker integration:** {UNKNOWN_ID}
"""
    response = await import_markdown(client, markdown)

    errors = problem_errors(response, 422)
    assert [(error["field"], error["line"], error["message"]) for error in errors] == [
        ("Metadata", 5, "line 5: detected_at: must not be before started_at"),
        ("Metadata", 6, f"line 6: related_postmortem_ids: postmortem {UNKNOWN_ID} does not exist"),
        ("Metadata", 7, "line 7: integration_id: no integration has this id"),
        ("Action Items", 18, "line 18: integration_id: no integration has this id"),
    ]
    assert (await client.get("/v1/postmortems")).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("", 1, "line 1: the document is empty; it starts with a `# title` heading"),
        ("Just some text\n\n- **Severity:** P2\n", 1, "line 1: expected the title as a `# ` heading first"),
    ],
    ids=["empty", "no-title"],
)
async def test_a_document_must_start_with_its_title(
    client: httpx.AsyncClient, body: str, line: int, message: str
) -> None:
    errors = problem_errors(await import_markdown(client, body), 422)

    assert [(error["field"], error["line"], error["message"]) for error in errors] == [("Title", line, message)]


async def test_the_documented_example_is_what_import_then_export_gives(client: httpx.AsyncClient, app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    body = paths["/v1/postmortems/import"]["post"]["requestBody"]["content"]
    exported = paths["/v1/postmortems/{postmortem_id}/export"]["get"]["responses"]["200"]["content"]["text/markdown"]

    from_markdown = await import_markdown(client, body["text/markdown"]["example"])
    from_json = await client.post("/v1/postmortems/import", json=body["application/json"]["example"])

    for response in (from_markdown, from_json):
        assert response.status_code == 201, response.text
        assert response.headers["location"] == f"/v1/postmortems/{response.json()['id']}"
        assert (len(response.json()["timeline"]), len(response.json()["action_items"])) == (2, 1)
        assert await export_markdown(client, response.json()["id"]) == exported["example"]
    assert body["text/markdown"]["example"] == body["application/json"]["example"]["markdown"] == exported["example"]
    assert from_json.json()["id"] != from_markdown.json()["id"]
    assert comparable(from_json.json()) == comparable(from_markdown.json())


async def test_import_takes_the_document_as_json_too(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/postmortems/import",
        json={"markdown": "# Queue backlog\n\n- **Severity:** P3\n\n## Summary\n\nThe queue backed up.\n"},
    )

    assert response.status_code == 201, response.text
    assert (response.json()["title"], response.json()["severity"], response.json()["template"]) == (
        "Queue backlog",
        "P3",
        "quick",
    )
    assert response.json()["summary"] == "The queue backed up."
    fetched = await client.get(response.headers["location"])
    assert fetched.json()["title"] == "Queue backlog"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "markdown", "missing"),
        ({"markdown": "# Fine\n", "format": "md"}, "format", "extra_forbidden"),
        ({"markdown": ""}, "markdown", "string_too_short"),
        ({"markdown": 42}, "markdown", "string_type"),
        ({"markdown": "# Nul\x00\n"}, "markdown", "value_error"),
    ],
    ids=["missing", "unknown-field", "empty", "not-a-string", "nul"],
)
async def test_a_json_import_is_a_markdown_import_object(
    client: httpx.AsyncClient, body: dict[str, object], field: str, code: str
) -> None:
    errors = problem_errors(await client.post("/v1/postmortems/import", json=body), 422)

    assert [(error["field"], error["location"], error["code"]) for error in errors] == [(field, "body", code)]
    assert (await client.get("/v1/postmortems")).json()["items"] == []


async def test_a_json_import_refuses_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/postmortems/import", content=b'{"markdown": ', headers={"Content-Type": "application/json"}
    )

    assert [error["code"] for error in problem_errors(response, 422)] == ["json_invalid"]


async def test_a_json_import_is_checked_like_a_markdown_one(client: httpx.AsyncClient) -> None:
    errors = problem_errors(await client.post("/v1/postmortems/import", json={"markdown": "no title\n"}), 422)
    markdown_errors = problem_errors(await import_markdown(client, "no title\n"), 422)

    assert errors == markdown_errors
    assert [error["field"] for error in errors] == ["Title", "Metadata"]


async def test_import_takes_markdown_or_json_only(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/postmortems/import", content=b"# A title\n", headers={"Content-Type": "text/plain"}
    )

    assert_problem(response, 415)
    assert response.headers["accept"] == "text/markdown, application/json"
    assert response.json()["detail"] == "request bodies must be text/markdown or application/json"


@pytest.mark.parametrize(
    ("body", "content_type", "field", "location"),
    [
        (b"# Caf\xe9\n", "text/markdown", "body", "body"),
        ("# Café\n".encode("latin-1"), "text/markdown; charset=latin-1", "Content-Type", "header"),
    ],
    ids=["not-utf8", "charset"],
)
async def test_import_reads_utf8_only(
    client: httpx.AsyncClient, body: bytes, content_type: str, field: str, location: str
) -> None:
    response = await import_markdown(client, body, headers={"Content-Type": content_type})

    assert_invalid(response, field, location=location)


async def test_import_refuses_a_document_over_the_body_limit(client: httpx.AsyncClient, settings: Settings) -> None:
    markdown = "# Huge\n\n- **Severity:** P3\n\n## What happened?\n\n" + "x" * settings.max_body_bytes

    assert_problem(await import_markdown(client, markdown), 413)
    assert (await client.get("/v1/postmortems")).json()["items"] == []


async def test_import_accepts_a_utf8_charset_and_crlf_line_ends(client: httpx.AsyncClient) -> None:
    markdown = "# Café ☕\r\n\r\n- **Severity:** P3\r\n\r\n## What happened?\r\n\r\nLine one\r\nLine two\r\n"

    response = await import_markdown(client, markdown, headers={"Content-Type": "text/markdown; charset=UTF-8"})

    assert response.status_code == 201, response.text
    assert (response.json()["title"], response.json()["summary"]) == ("Café ☕", "Line one\nLine two")


async def test_an_idempotency_key_replays_an_import(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "import-1"}

    first = await import_markdown(client, QUICK_DOCUMENT, headers)
    replay = await import_markdown(client, QUICK_DOCUMENT, headers)
    other = await import_markdown(client, QUICK_DOCUMENT.replace("stuck", "slow"), headers)

    assert first.status_code == 201, first.text
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert (replay.json(), replay.headers["location"]) == (first.json(), first.headers["location"])
    assert [error["field"] for error in problem_errors(other, 422)] == ["Idempotency-Key"]
    assert [p["id"] for p in (await client.get("/v1/postmortems")).json()["items"]] == [first.json()["id"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"audience": "press"}, "audience"),
        ({"format": "json", "audience": "public"}, "audience"),
    ],
    ids=["format", "audience", "public-json"],
)
async def test_export_refuses_unknown_formats_and_a_public_json(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    postmortem = await create_postmortem(client)

    assert_invalid(await export(client, postmortem["id"], **params), field, location="query")


async def test_export_of_an_unknown_postmortem_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await export(client, UNKNOWN_ID), 404)
    assert_problem(await export(client, UNKNOWN_ID, audience="public"), 404)


async def test_export_needs_a_key_and_import_needs_write_scope(
    client: httpx.AsyncClient, reader_client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    postmortem = await create_postmortem(client)

    assert_problem(await export(anonymous_client, postmortem["id"]), 401)
    assert_problem(await import_markdown(anonymous_client, QUICK_DOCUMENT), 401)
    assert_problem(await import_markdown(reader_client, QUICK_DOCUMENT), 403)
    assert (await export(reader_client, postmortem["id"])).status_code == 200
    assert (await export(reader_client, postmortem["id"], audience="public")).status_code == 200
    assert len((await client.get("/v1/postmortems")).json()["items"]) == 1
