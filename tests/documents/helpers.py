"""Fully populated postmortems with awkward text, and their documents compared without record fields."""

from typing import Any

import httpx

from tests.factories import add_action_item, add_event, create_postmortem

AWKWARD = (
    "Pipes | in a cell, a backslash \\ and a \\| that looks escaped\n"
    "# not a heading\n"
    "- not a list\n"
    "1. not ordered\n"
    "> not a quote\n"
    "**bold** _em_ `code` <b>html</b> &amp; [link](https://x.example) ~~gone~~ $4 — ünïcødé 漢字 🚀\n"
    "\n"
    "  indented\tline with a tab  \n"
    "---\n"
    "<!-- empty --> <br> —"
)
"""Text that Markdown would act on, everywhere it could."""

RECORD_FIELDS = {"id", "created_at", "updated_at", "version", "status", "submitted_at", "completed_at", "approvals"}
RECORD_FIELDS |= {"overdue", "draft_overdue", "review_overdue", "complete_overdue"}  # follow the workflow status
EVENT_RECORD_FIELDS = {"id", "postmortem_id", "created_at", "updated_at", "version"}
ITEM_RECORD_FIELDS = {
    "id",
    "postmortem_id",
    "created_at",
    "updated_at",
    "version",
    "completed_at",
    "external",
    "sync_status",
    "last_sync_error",
    "slo_due_date",
    "suggested_due_date",
    "slo_breached",
}


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """A JSON export without ids, record timestamps and workflow or sync state: what a round trip must keep."""
    return {name: value for name, value in document.items() if name not in RECORD_FIELDS} | {
        "timeline": [
            {name: value for name, value in event.items() if name not in EVENT_RECORD_FIELDS}
            for event in document["timeline"]
        ],
        "action_items": [
            {name: value for name, value in item.items() if name not in ITEM_RECORD_FIELDS}
            for item in document["action_items"]
        ],
    }


async def export(client: httpx.AsyncClient, postmortem_id: str, **params: str) -> httpx.Response:
    return await client.get(f"/v1/postmortems/{postmortem_id}/export", params=params)


async def export_json(client: httpx.AsyncClient, postmortem_id: str) -> dict[str, Any]:
    response = await export(client, postmortem_id, format="json")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def export_markdown(client: httpx.AsyncClient, postmortem_id: str) -> str:
    response = await export(client, postmortem_id)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    return response.text


async def import_markdown(
    client: httpx.AsyncClient, markdown: str | bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    body = markdown.encode() if isinstance(markdown, str) else markdown
    return await client.post(
        "/v1/postmortems/import", content=body, headers={"Content-Type": "text/markdown"} | (headers or {})
    )


async def create_integration(admin_client: httpx.AsyncClient, name: str = "payments-github") -> str:
    response = await admin_client.post(
        "/v1/integrations",
        json={
            "kind": "github",
            "name": name,
            "settings": {"owner": "acme", "repo": "payments"},
            "credentials": {"token": "github_pat_test"},
            "webhook_secret": "a-long-random-string",
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def full_postmortem(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, *, severity: str, template: str
) -> dict[str, Any]:
    """Every content field set, awkward text in each, and a timeline and action items covering every value."""
    related = await create_postmortem(client, title="An earlier outage")
    integration_id = await create_integration(admin_client)
    postmortem = await create_postmortem(
        client,
        title="Checkout | outage # after `config` push — 漢字",
        severity=severity,
        template=template,
        incident_ref="INC-4711 | a\\b",
        authors=["alice", "bob, jr.", "@payments|oncall"],
        services=["checkout", "pay,ments"],
        tags=["config", "*starred*"],
        started_at="2025-01-15T08:50:00.250000Z",
        detected_at="2025-01-15T09:00:00Z",
        mitigated_at="2025-01-15T10:20:00+01:00",
        resolved_at="2025-01-15T09:35:00Z",
        summary=AWKWARD,
        impact={
            "users_affected": 12000,
            "revenue_impact": "~$4k | €1.2M",
            "sla_impact": "",
            "description": "\n\n" + AWKWARD + "\n",
        },
        root_cause="A config push set the timeout to 0.\n\n" + AWKWARD,
        five_whys=[
            {"question": "Why did *checkout* fail?", "answer": "The client timed out | at once."},
            {"question": "Why?\nReally **why**?", "answer": "—"},
        ],
        contributing_factors=["- leading dash", "  spaced  ", AWKWARD],
        what_went_well=["—", "1. rollback in 2 min"],
        what_went_poorly=["| pipe first", "trailing backslash \\"],
        lessons_learned=AWKWARD,
        failure_mode="config-push",
        related_postmortem_ids=[related["id"]],
        links=[
            {"title": "Dash [board] (main)", "url": "https://grafana.example.com/d/a_(b)?c=1&d=|2;3"},
            {"title": "Channel, archived", "url": "https://chat.example.com/archives/C04"},
        ],
        customer_data_affected=True,
        review_meeting={
            "scheduled_at": "2025-01-17T14:00:00Z",
            "facilitator": "carol",
            "attendees": ["dave", "erin, the sre"],
            "notes": "Agenda:\n1. timeline\n2. | actions |",
        },
        integration_id=integration_id,
    )
    pm = postmortem["id"]
    await add_event(client, pm, occurred_at="2025-01-15T09:00:00Z", kind="alert", description=AWKWARD, source="")
    await add_event(client, pm, occurred_at="2025-01-15T09:00:00Z", kind="action", description="Same instant, later")
    await add_event(client, pm, occurred_at="2025-01-15T08:55:00.5Z", kind="signal", description="—", source=None)
    await add_event(client, pm, occurred_at="2025-01-15T09:35:00Z", kind="resolution", description="x", source="a|b")
    await add_action_item(client, pm, title="Validate | config", description=AWKWARD, status="in_progress")
    await add_action_item(
        client, pm, title="*Alert* on 5xx", description="", owner="@sre;team", kind="detect", status="done"
    )
    await add_action_item(
        client, pm, title="—", owner=None, priority=None, due_date=None, kind="other", status="wont_do"
    )
    await add_action_item(client, pm, title="Runbook", kind="process", status="open", integration_id=integration_id)
    return postmortem
