"""GET /v1/postmortems/{id}/export?audience=public: the customer-facing incident report."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from service.app import create_app
from service.auth.models import Scope
from service.settings import Settings
from tests.documents.helpers import export
from tests.factories import add_action_item, add_event, create_postmortem

REDACT_TERMS = ["Project Falcon", "eu-west-1"]

PEOPLE = ["quill", "Ottoline Brae", "@payments-oncall", "@sre-night", "wrenfield", "Marisol"]
"""Authors, owners, attendees and the facilitator: none of them given names the report knows by itself."""

INTERNAL = [
    "quill",
    "Ottoline",
    "Brae",
    "payments-oncall",
    "sre-night",
    "wrenfield",
    "Marisol",
    "Priya",
    "@lee",
    "oncall@acme.example",
    "$4k",
    "4k",
    "€1.2M",
    "1.2M",
    "12,500 USD",
    "https://grafana.acme.internal/d/checkout",
    "grafana.acme.internal",
    "www.acme-status.example",
    "OPS-42",
    "INC-4711",
    "acme/payments#42",
    "checkout-api",
    "ledger",
    "Project Falcon",
    "project falcon",
    "eu-west-1",
    "~$9,000 in failed orders",
    "monthly SLA breached",
    "Connection pool exhausted",
    "runbook.acme.example",
    "config-push",
]
"""Everything of the seeded postmortem that must not reach customers, as it appears in the data."""

SUMMARY = (
    "Card payments failed for 47 minutes. quill and Ottoline Brae saw checkout-api return errors after "
    "the Project Falcon migration in EU-WEST-1; Priya and @lee rolled back. ~$4k lost, €1.2M at risk and "
    "12,500 USD refunded. Ask oncall@acme.example, see https://grafana.acme.internal/d/checkout, "
    "www.acme-status.example, OPS-42, INC-4711 and acme/payments#42. The Ledger service was fine."
)


@pytest.fixture
async def public_client(
    app: FastAPI, database_url: str, api_keys: dict[Scope, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """A reader of an app on the shared database with `POSTMORTEMS_PUBLIC_REDACT_TERMS` set."""
    configured = create_app(Settings(database_url=database_url, public_redact_terms=REDACT_TERMS))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=configured),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {api_keys[Scope.READ]}"},
    ) as client:
        yield client
    await configured.state.engine.dispose()


async def seeded(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    postmortem = await create_postmortem(
        client,
        title="Checkout-api outage during Project Falcon",
        severity="P1",
        incident_ref="INC-4711",
        authors=["quill", "Ottoline Brae"],
        services=["checkout-api", "ledger"],
        tags=["config-push"],
        failure_mode="config-push",
        started_at="2025-01-15T08:50:00Z",
        detected_at="2025-01-15T09:00:00Z",
        resolved_at="2025-01-15T09:37:00Z",
        summary=SUMMARY,
        impact={
            "users_affected": 12000,
            "revenue_impact": "~$9,000 in failed orders",
            "sla_impact": "monthly SLA breached",
            "description": "Every card payment failed.",
        },
        root_cause="Connection pool exhausted after the migration.",
        links=[{"title": "Runbook", "url": "https://runbook.acme.example/checkout"}],
        review_meeting={"scheduled_at": "2025-01-17T14:00:00Z", "facilitator": "wrenfield", "attendees": ["Marisol"]},
        **overrides,
    )
    pm = postmortem["id"]
    await add_event(client, pm, description="Connection pool exhausted on checkout-api")
    await add_action_item(
        client, pm, title="Cap checkout-api connections per pod (OPS-42)", owner="@payments-oncall", kind="prevent"
    )
    await add_action_item(
        client, pm, title="Alert on card payment errors above 2%", owner="@sre-night", kind="detect", status="done"
    )
    await add_action_item(client, pm, title="Rename the Grafana folder", owner="quill", kind="other")
    await add_action_item(client, pm, title="Rewrite the ledger in Rust", owner="Marisol", status="wont_do")
    return postmortem


async def public_report(client: httpx.AsyncClient, postmortem_id: str) -> str:
    response = await export(client, postmortem_id, audience="public")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    return response.text


async def test_the_public_report_leaves_out_every_kind_of_internal_data(
    client: httpx.AsyncClient, public_client: httpx.AsyncClient
) -> None:
    postmortem = await seeded(client)

    report = await public_report(public_client, postmortem["id"])

    leaked = [term for term in INTERNAL if term.lower() in report.lower()]
    assert leaked == []
    assert "Rename the Grafana folder" not in report  # `other` items give way to preventive ones
    assert "Rewrite" not in report  # won't do


async def test_the_public_report_keeps_the_facts(client: httpx.AsyncClient, public_client: httpx.AsyncClient) -> None:
    postmortem = await seeded(client)

    report = await public_report(public_client, postmortem["id"])

    assert report == (
        "# Incident report: \\[redacted\\] outage during \\[redacted\\]\n"
        "\n"
        "## What happened\n"
        "\n"
        "Card payments failed for 47 minutes. \\[redacted\\] and \\[redacted\\] saw \\[redacted\\] return errors "
        "after the \\[redacted\\] migration in \\[redacted\\]; \\[redacted\\] and \\[redacted\\] rolled back. "
        "\\~\\[redacted\\] lost, \\[redacted\\] at risk and \\[redacted\\] refunded. Ask \\[redacted\\], see "
        "\\[redacted\\], \\[redacted\\], \\[redacted\\], \\[redacted\\] and \\[redacted\\]. The \\[redacted\\] "
        "service was fine.\n"
        "\n"
        "## Impact\n"
        "\n"
        "- **Started:** 2025-01-15 08:50 UTC\n"
        "- **Resolved:** 2025-01-15 09:37 UTC\n"
        "- **Duration:** 47 minutes\n"
        "\n"
        "## Customer data\n"
        "\n"
        "We are still determining whether any customer data was affected.\n"
        "\n"
        "## What we are doing to prevent this from happening again\n"
        "\n"
        "- Cap \\[redacted\\] connections per pod (\\[redacted\\])\n"
        "- Alert on card payment errors above 2% (done)\n"
    )


async def test_owners_that_are_teams_or_roles_take_out_no_common_word(
    client: httpx.AsyncClient, reader_client: httpx.AsyncClient
) -> None:
    postmortem = await create_postmortem(
        client,
        title="The search team saw the cache fail",
        summary="The team on call and the payments on-call engineer restarted the cache; Ottoline Brae watched.",
        severity="P3",
        authors=["Ottoline Brae"],
    )
    for owner in ("the team", "payments on-call", "SRE"):
        await add_action_item(client, postmortem["id"], title=f"Tune the cache for {owner}", owner=owner)

    report = await public_report(reader_client, postmortem["id"])

    assert "# Incident report: The search team saw the cache fail\n" in report
    assert "The team on call and the \\[redacted\\] engineer restarted the cache; \\[redacted\\] watched." in report
    assert "- Tune the cache for the team\n" in report
    assert "- Tune the cache for \\[redacted\\]\n" in report
    assert "- Tune the cache for SRE\n" in report


@pytest.mark.parametrize(
    ("affected", "sentence"),
    [
        (True, "Customer data was affected by this incident."),
        (False, "No customer data was affected."),
        ("unknown", "We are still determining whether any customer data was affected."),
    ],
)
async def test_the_public_report_says_whether_customer_data_was_affected(
    client: httpx.AsyncClient, reader_client: httpx.AsyncClient, affected: bool | str, sentence: str
) -> None:
    postmortem = await create_postmortem(client, customer_data_affected=affected)

    report = await public_report(reader_client, postmortem["id"])

    assert f"## Customer data\n\n{sentence}\n" in report


async def test_a_bare_postmortem_gets_a_holding_report(
    client: httpx.AsyncClient, reader_client: httpx.AsyncClient
) -> None:
    postmortem = await create_postmortem(
        client, title="Search was slow", severity="P3", started_at="2025-01-15T08:50:00Z"
    )
    await add_action_item(client, postmortem["id"], title="Tune the cache", kind="other")

    report = await public_report(reader_client, postmortem["id"])

    assert report == (
        "# Incident report: Search was slow\n\n## What happened\n\n"
        "We are still investigating this incident and will share more soon.\n\n## Impact\n\n"
        "- **Started:** 2025-01-15 08:50 UTC\n- **Resolved:** not yet resolved\n\n## Customer data\n\n"
        "We are still determining whether any customer data was affected.\n\n"
        "## What we are doing to prevent this from happening again\n\n- Tune the cache\n"
    )


async def test_redact_terms_default_to_none_and_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().public_redact_terms == []

    monkeypatch.setenv("POSTMORTEMS_PUBLIC_REDACT_TERMS", '["Project Falcon", "eu-west-1"]')

    assert Settings().public_redact_terms == ["Project Falcon", "eu-west-1"]
