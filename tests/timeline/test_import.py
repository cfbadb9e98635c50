"""Timeline import through the API: each source's own export format, filtered, deduplicated, all or nothing."""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import create_postmortem
from tests.problems import assert_invalid, assert_problem, problem_errors

FIXTURES = Path(__file__).parent / "fixtures"
JSON = {"content-type": "application/json"}
CSV = {"content-type": "text/csv; charset=utf-8"}
FILES = {
    "pagerduty": ("pagerduty_log_entries.json", JSON),
    "slack": ("slack_channel_export.json", JSON),
    "github-deployments": ("github_deployment_statuses.json", JSON),
    "csv": ("timeline.csv", CSV),
}


def fixture(source: str) -> bytes:
    return (FIXTURES / FILES[source][0]).read_bytes()


def import_url(postmortem_id: str) -> str:
    return f"/v1/postmortems/{postmortem_id}/timeline/import"


async def post_import(
    client: httpx.AsyncClient, postmortem_id: str, source: str, body: bytes | None = None, **params: Any
) -> httpx.Response:
    return await client.post(
        import_url(postmortem_id),
        params={"source": source, **params},
        content=fixture(source) if body is None else body,
        headers=FILES[source][1],
    )


async def imported(client: httpx.AsyncClient, postmortem_id: str, source: str, **params: Any) -> dict[str, Any]:
    response = await post_import(client, postmortem_id, source, **params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def timeline(client: httpx.AsyncClient, postmortem_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/postmortems/{postmortem_id}/timeline", params={"limit": 100})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(event["occurred_at"], event["kind"], event["description"]) for event in events]


async def test_pagerduty_log_entries_map_to_kinds_and_notifications_are_left_out(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    result = await imported(client, postmortem["id"], "pagerduty")

    assert summary(result["added"]) == [
        ("2025-01-15T08:52:10Z", "alert", "Triggered through the API."),
        ("2025-01-15T09:07:10Z", "action", "Escalated to level 2 by timeout."),
        ("2025-01-15T09:08:30Z", "action", "Acknowledged by Bob Okafor."),
        ("2025-01-15T09:15:02Z", "communication", "Note added: Rolling back config push 4711"),
        ("2025-01-15T09:35:40Z", "resolution", "Resolved by Bob Okafor."),
    ]
    assert (result["skipped"], result["skipped_duplicates"], result["dry_run"]) == (4, 0, False)  # 3 notify, 1 assign
    assert {event["source"] for event in result["added"]} == {"PagerDuty"}
    assert result["added"][0]["source_id"] == "R3QZ1YQ5LR8AJ2V0ECN7XKTB4D"
    assert await timeline(client, postmortem["id"]) == result["added"]


async def test_pagerduty_notifications_when_asked_for(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    result = await imported(client, postmortem["id"], "pagerduty", include_notifications="true")

    notified = [event for event in result["added"] if event["description"].startswith("Notified")]
    assert [event["kind"] for event in notified] == ["communication"] * 3
    assert (len(result["added"]), result["skipped"]) == (8, 1)


async def test_slack_takes_pinned_starred_and_marked_messages_as_plain_text(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    result = await imported(client, postmortem["id"], "slack")

    assert summary(result["added"]) == [
        (
            "2025-01-15T08:55:00.000300Z",
            "communication",
            "alice.chen: Seeing 500s from the payments client, `timeout=0` in its logs",
        ),
        (
            "2025-01-15T08:57:00.000400Z",
            "communication",
            "cara.diaz: is this config PR 4711 (https://github.com/acme/config/pull/4711)?",
        ),
        (
            "2025-01-15T09:00:00.000500Z",
            "decision",
            "bob.okafor: @here declaring SEV2, @alice.chen is incident commander",
        ),
        ("2025-01-15T09:05:00.000700Z", "communication", "bob.okafor: Status page updated: https://status.acme.com"),
        (
            "2025-01-15T09:12:00.000900Z",
            "decision",
            "alice.chen: Decision: roll back config push 4711 rather than hotfix & redeploy",
        ),
        ("2025-01-15T09:14:00.001000Z", "communication", "deploybot: Rollback of acme/config started by @bob.okafor"),
        (
            "2025-01-15T09:20:00.001100Z",
            "communication",
            "alice.chen: error rate back to baseline, see #inc-4711-checkout",
        ),
        (
            "2025-01-15T09:30:00.001300Z",
            "communication",
            "cara.diaz: @U09DAVE can support confirm customers can pay again?",
        ),
        ("2025-01-15T09:35:00.001400Z", "decision", "alice.chen: Resolved. Postmortem owner: @cara.diaz"),
    ]
    assert result["skipped"] == 6
    assert {(event["source"], event["source_id"]) for event in result["added"][:1]} == {("Slack", "1736931300.000300")}


async def test_slack_takes_the_answer_of_conversations_history_too(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    body = json.dumps({"ok": True, "messages": json.loads(fixture("slack")), "has_more": False}).encode()

    result = await imported(client, postmortem["id"], "slack", body=body)

    assert (len(result["added"]), result["skipped"]) == (9, 6)


async def test_slack_markers_are_a_setting(client: httpx.AsyncClient, configure: Callable[..., None]) -> None:
    configure(timeline_slack_markers=["can pay"])
    postmortem = await create_postmortem(client)

    result = await imported(client, postmortem["id"], "slack")

    assert [event["description"] for event in result["added"] if event["kind"] == "communication"] == [
        "cara.diaz: is this config PR 4711 (https://github.com/acme/config/pull/4711)?",
        "deploybot: Rollback of acme/config started by @bob.okafor",
        "cara.diaz: @U09DAVE can support confirm customers again? #timeline",
    ]


async def test_github_deployment_statuses_become_deploy_actions(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    result = await imported(client, postmortem["id"], "github-deployments")

    assert summary(result["added"]) == [
        ("2025-01-15T08:40:00Z", "action", "Deploy to staging was replaced"),
        ("2025-01-15T08:47:30Z", "action", "Deploy to production failed: Health checks failed on 3 of 12 pods"),
        ("2025-01-15T09:16:05Z", "action", "Deploy of 4f2a9c1 to production started"),
        (
            "2025-01-15T09:19:40Z",
            "action",
            "Deploy of v2.31.0 to production succeeded: Deployment finished successfully.",
        ),
    ]
    assert [(event["source"], event["source_id"]) for event in result["added"]][-1] == ("GitHub", "3921007745")


async def test_csv_rows_keep_their_source_and_times_without_offset_are_utc(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    result = await imported(client, postmortem["id"], "csv")

    assert [(*row, event["source"]) for row, event in zip(summary(result["added"]), result["added"], strict=True)] == [
        ("2025-01-15T08:50:00Z", "signal", "Checkout p99 latency started climbing", "Grafana"),
        ("2025-01-15T09:02:00Z", "detection", 'Support escalated "cannot pay" tickets to on-call', "Zendesk"),
        ("2025-01-15T09:20:00Z", "mitigation", "Config push 4711 rolled back, errors dropping", "CSV"),
        ("2025-01-15T09:35:00Z", "resolution", "Error rate at baseline for 15 minutes", "CSV"),
    ]
    assert all(re.fullmatch(r"[0-9a-f]{64}", event["source_id"]) for event in result["added"])


@pytest.mark.parametrize("source", FILES)
async def test_importing_the_same_file_again_adds_nothing(client: httpx.AsyncClient, source: str) -> None:
    postmortem = await create_postmortem(client)
    first = await imported(client, postmortem["id"], source)

    again = await imported(client, postmortem["id"], source)

    assert again["added"] == []
    assert again["skipped_duplicates"] == len(first["added"])
    assert again["skipped"] == first["skipped"]
    assert await timeline(client, postmortem["id"]) == first["added"]


async def test_an_overlapping_export_adds_only_the_new_entries(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    document = json.loads(fixture("pagerduty"))
    earlier = {"log_entries": document["log_entries"][:6]}
    await imported(client, postmortem["id"], "pagerduty", body=json.dumps(earlier).encode())

    result = await imported(client, postmortem["id"], "pagerduty")

    assert [event["kind"] for event in result["added"]] == ["communication", "resolution"]
    assert result["skipped_duplicates"] == 3


async def test_a_dry_run_previews_and_writes_nothing(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    preview = await imported(client, postmortem["id"], "csv", dry_run="true")

    assert preview["dry_run"] is True
    assert len(preview["added"]) == 4
    assert set(preview["added"][0]) == {"occurred_at", "kind", "description", "source", "source_id"}
    assert preview["suggested_times"]["resolved_at"] == "2025-01-15T09:35:00Z"
    assert await timeline(client, postmortem["id"]) == []
    written = await imported(client, postmortem["id"], "csv")
    assert summary(written["added"]) == summary(preview["added"])


@pytest.mark.parametrize(
    ("source", "spoil", "field"),
    [
        ("pagerduty", lambda doc: doc["log_entries"][3].update(created_at="yesterday"), "log_entries[3].created_at"),
        ("pagerduty", lambda doc: doc["log_entries"][5].pop("id"), "log_entries[5].id"),
        ("slack", lambda doc: doc[12].update(ts="soon"), "[12].ts"),
        ("github-deployments", lambda doc: doc[1].update(state="exploded"), "[1].state"),
        ("github-deployments", lambda doc: doc[0].update(created_at=1736931000), "[0].created_at"),
    ],
)
async def test_a_bad_entry_refuses_the_whole_file(
    client: httpx.AsyncClient, source: str, spoil: Callable[[Any], None], field: str
) -> None:
    postmortem = await create_postmortem(client)
    document = json.loads(fixture(source))
    spoil(document)

    response = await post_import(client, postmortem["id"], source, json.dumps(document).encode())

    assert_invalid(response, field)
    assert await timeline(client, postmortem["id"]) == []


async def test_a_bad_csv_row_is_named_by_its_line(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    body = fixture("csv") + b'2025-01-15T09:40:00Z,mitigation,"Cache flushed\r\nacross regions"\r\nlater,alert,x\r\n'

    response = await post_import(client, postmortem["id"], "csv", body)

    errors: list[dict[str, Any]] = problem_errors(response, 422)
    assert [(error["field"], error["location"], error["line"]) for error in errors] == [
        ("line 9: occurred_at", "body", 9)
    ]
    assert await timeline(client, postmortem["id"]) == []


async def test_a_csv_without_a_required_column_is_refused(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    response = await post_import(client, postmortem["id"], "csv", b"occurred_at,description\n2025-01-15T09:00:00Z,x\n")

    assert_invalid(response, "line 1: kind")


@pytest.mark.parametrize("body", [b"", b"   ", b'{"log_entries": [', b"[]"])
async def test_an_empty_or_malformed_body_names_the_body(client: httpx.AsyncClient, body: bytes) -> None:
    postmortem = await create_postmortem(client)

    response = await post_import(client, postmortem["id"], "pagerduty", body)

    assert_invalid(response, "body")


async def test_an_unknown_source_names_the_query_parameter(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    response = await client.post(import_url(postmortem["id"]), params={"source": "opsgenie"}, json=[])

    assert_invalid(response, "source", location="query")


async def test_suggested_times_in_the_answer_and_readiness_can_be_sent_as_a_patch(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    url = f"/v1/postmortems/{postmortem['id']}"

    result = await imported(client, postmortem["id"], "csv")

    expected = {
        "started_at": "2025-01-15T08:50:00Z",
        "detected_at": "2025-01-15T09:02:00Z",
        "mitigated_at": "2025-01-15T09:20:00Z",
        "resolved_at": "2025-01-15T09:35:00Z",
    }
    assert result["suggested_times"] == expected
    readiness = (await client.get(f"{url}/readiness")).json()
    assert readiness["suggested_times"] == expected
    patched = await client.patch(url, json=readiness["suggested_times"])
    assert patched.status_code == 200, patched.text
    assert "suggested_times" not in (await client.get(f"{url}/readiness")).json()


async def test_only_empty_times_are_suggested_and_in_order_with_those_set(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client, started_at="2025-01-15T08:45:00Z", mitigated_at="2025-01-15T08:58:00Z")

    result = await imported(client, postmortem["id"], "pagerduty")

    # detected_at (08:52:10) fits between the times set; there is no mitigation event; resolved_at follows.
    assert result["suggested_times"] == {"detected_at": "2025-01-15T08:52:10Z", "resolved_at": "2025-01-15T09:35:40Z"}
    early = await create_postmortem(client, mitigated_at="2025-01-15T08:51:00Z")
    # The first alert came after the mitigation set by hand: neither started_at nor detected_at would fit.
    assert (await imported(client, early["id"], "pagerduty"))["suggested_times"] == {
        "resolved_at": "2025-01-15T09:35:40Z"
    }


async def test_a_read_key_cannot_import(client: httpx.AsyncClient, reader_client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)

    response = await post_import(reader_client, postmortem["id"], "csv")

    assert_problem(response, 403)
    assert await timeline(client, postmortem["id"]) == []


@pytest.mark.parametrize(
    ("source", "content_type"),
    [("csv", "application/json"), ("pagerduty", "text/csv"), ("slack", "text/plain"), ("csv", "text/plain")],
)
async def test_a_body_of_another_media_type_is_refused(
    client: httpx.AsyncClient, source: str, content_type: str
) -> None:
    postmortem = await create_postmortem(client)

    response = await client.post(
        import_url(postmortem["id"]),
        params={"source": source},
        content=fixture(source),
        headers={"content-type": content_type},
    )

    assert_problem(response, 415)
    assert await timeline(client, postmortem["id"]) == []


async def test_an_imported_event_cannot_move_to_a_source_that_has_its_id(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client)
    paged = {"id": "42", "type": "trigger_log_entry", "created_at": "2025-01-15T09:00:00Z", "summary": "Triggered"}
    deployed = {"id": 42, "state": "success", "created_at": "2025-01-15T09:05:00Z", "environment": "production"}
    await imported(client, postmortem["id"], "pagerduty", body=json.dumps({"log_entries": [paged]}).encode())
    [deploy] = (await imported(client, postmortem["id"], "github-deployments", body=json.dumps([deployed]).encode()))[
        "added"
    ]
    url = f"/v1/postmortems/{postmortem['id']}/timeline/{deploy['id']}"

    clash = await client.patch(url, json={"source": "PagerDuty"})

    assert_problem(clash, 409)
    assert (await client.patch(url, json={"source": "GitHub Actions"})).status_code == 200
