"""GET /v1/postmortems/{id}/review over HTTP, and the findings that block completing a postmortem."""

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from pydantic import ValidationError
from sqlmodel import col

from service.app import create_app
from service.auth.models import Scope
from service.core.clock import utc_now
from service.postmortems.models import Postmortem
from service.review.blame import blamed_by_rules
from service.review.models import Rule
from service.settings import Settings
from tests.database import committed_session
from tests.factories import add_action_item, add_event, create_postmortem, submittable_postmortem
from tests.problems import UNKNOWN_ID, assert_problem, problem_errors

WENT_WELL = {"what_went_well": ["The rollback took two minutes once started"]}
BLAMING = "Dave pushed a bad config to production."
REWRITTEN = "A config change reached production without validation."
FINDING_KEYS = {"rule", "level", "field", "excerpt", "message", "suggestion"}


async def findings_of(client: httpx.AsyncClient, postmortem_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/postmortems/{postmortem_id}/review")
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"findings"}
    return list(response.json()["findings"])


async def step(client: httpx.AsyncClient, postmortem_id: str, action: str) -> httpx.Response:
    return await client.post(f"/v1/postmortems/{postmortem_id}/{action}")


async def in_review(writer: httpx.AsyncClient, approver: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """A submitted, approved postmortem with `fields`, ready to complete but for its findings."""
    postmortem = await submittable_postmortem(writer, **(WENT_WELL | fields))
    assert (await step(writer, postmortem["id"], "submit")).status_code == 200
    assert (await step(approver, postmortem["id"], "approve")).status_code == 200
    return postmortem


async def test_a_clean_postmortem_has_no_findings(client: httpx.AsyncClient, reader_client: httpx.AsyncClient) -> None:
    postmortem = await submittable_postmortem(client, **WENT_WELL)

    assert await findings_of(reader_client, postmortem["id"]) == []


async def test_findings_name_rule_level_field_excerpt_message_and_suggestion(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(
        client,
        summary=f"Checkout failed after a push. {BLAMING}",
        root_cause="Operator error.",
        detected_at="2025-01-15T09:00:00Z",
        resolved_at="2025-01-15T10:00:00Z",
        **WENT_WELL,
    )
    event = await add_event(client, postmortem["id"], description="Rolled back around 3pm.")
    item = await add_action_item(client, postmortem["id"], title="Improve monitoring", owner="the team")

    findings = await findings_of(client, postmortem["id"])

    assert all(set(finding) == FINDING_KEYS for finding in findings)
    assert [(f["rule"], f["level"], f["field"], f["excerpt"]) for f in findings] == [
        ("blame-language", "error", "summary", BLAMING),
        ("human-error-root-cause", "error", "root_cause", "Operator error."),
        ("vague-action-item", "error", f"action_items[{item['id']}].title", "Improve monitoring"),
        ("vague-action-item", "error", f"action_items[{item['id']}].owner", "the team"),
        ("imprecise-data", "warning", f"timeline[{event['id']}].description", "Rolled back around 3pm."),
    ]
    blame = findings[0]
    assert blame["message"].startswith("'Dave' is made the actor of a failure: 'pushed a bad config'")
    assert "'A config change reached production without validation'" in blame["suggestion"]


async def test_review_needs_a_key_and_an_existing_postmortem(
    client: httpx.AsyncClient, anonymous_client: httpx.AsyncClient
) -> None:
    postmortem = await create_postmortem(client)

    assert_problem(await anonymous_client.get(f"/v1/postmortems/{postmortem['id']}/review"), 401)
    assert_problem(await client.get(f"/v1/postmortems/{UNKNOWN_ID}/review"), 404)
    assert [e["field"] for e in problem_errors(await client.get("/v1/postmortems/not-an-id/review"), 422)] == [
        "postmortem_id"
    ]


# --- unlinked-repeat-incident ------------------------------------------------------------------------------------


async def repeats_of(client: httpx.AsyncClient, postmortem_id: str) -> list[str | None]:
    findings = await findings_of(client, postmortem_id)
    return [f["excerpt"] for f in findings if f["rule"] == "unlinked-repeat-incident"]


async def test_other_postmortems_of_the_same_failure_mode_or_a_shared_service_are_repeats(
    client: httpx.AsyncClient,
) -> None:
    same_mode = await create_postmortem(client, title="same mode", failure_mode="config-push", services=["checkout"])
    shared = await create_postmortem(
        client, title="shared service", failure_mode="dns", services=["checkout", "search"]
    )
    await create_postmortem(client, title="unrelated", failure_mode="disk-full", services=["billing"])
    also_same = await create_postmortem(client, title="same mode again", failure_mode="config-push")
    postmortem = await create_postmortem(client, failure_mode="config-push", services=["search"])

    assert await repeats_of(client, postmortem["id"]) == ["same mode again", "shared service", "same mode"]
    [finding] = [f for f in await findings_of(client, postmortem["id"]) if f["excerpt"] == "shared service"]
    assert (finding["level"], finding["field"]) == ("warning", "related_postmortem_ids")
    assert f"Postmortem {shared['id']} " in finding["message"]
    assert "service(s) search" in finding["message"]

    linked = await client.patch(
        f"/v1/postmortems/{postmortem['id']}", json={"related_postmortem_ids": [same_mode["id"], also_same["id"]]}
    )
    assert linked.status_code == 200, linked.text
    assert await repeats_of(client, postmortem["id"]) == ["shared service"]


async def test_a_postmortem_with_no_failure_mode_or_services_has_no_repeats(client: httpx.AsyncClient) -> None:
    await create_postmortem(client, title="other")
    postmortem = await create_postmortem(client)

    assert await repeats_of(client, postmortem["id"]) == []


async def test_repeats_count_within_90_days_of_the_postmortem(client: httpx.AsyncClient, app: FastAPI) -> None:
    recent = await create_postmortem(client, title="89 days before", failure_mode="config-push")
    old = await create_postmortem(client, title="91 days before", failure_mode="config-push")
    postmortem = await create_postmortem(client, failure_mode="config-push")
    async with committed_session(app.state.engine) as session:
        for other, days in ((recent, 89), (old, 91)):
            await session.exec(
                sa.update(Postmortem)
                .where(col(Postmortem.id) == uuid.UUID(other["id"]))
                .values(created_at=utc_now() - timedelta(days=days))
            )

    assert await repeats_of(client, postmortem["id"]) == ["89 days before"]


# --- completion --------------------------------------------------------------------------------------------------


async def test_blame_language_blocks_completion_until_it_is_rewritten(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    postmortem = await in_review(client, admin_client, contributing_factors=["No canary stage", BLAMING])

    refused = await step(client, postmortem["id"], "complete")

    errors = problem_errors(refused, 409)
    assert [(e["field"], e["location"], e["code"]) for e in errors] == [
        ("contributing_factors[1]", "resource", "blame-language")
    ]
    assert errors[0]["message"].startswith("'Dave' is made the actor of a failure")
    readiness = (await client.get(f"/v1/postmortems/{postmortem['id']}/readiness")).json()
    assert (readiness["next_action"], readiness["ready"], readiness["errors"]) == ("complete", False, errors)

    rewritten = await client.patch(
        f"/v1/postmortems/{postmortem['id']}", json={"contributing_factors": ["No canary stage", REWRITTEN]}
    )
    assert rewritten.status_code == 200, rewritten.text
    assert (await client.get(f"/v1/postmortems/{postmortem['id']}/readiness")).json()["ready"] is True
    completed = await step(client, postmortem["id"], "complete")
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "complete"


async def in_review_judged_by_the_scorer_alone(
    writer: httpx.AsyncClient, approver: httpx.AsyncClient, judged: str
) -> dict[str, Any]:
    """A postmortem ready to complete whose second contributing factor is `judged`, which no rule flags."""
    assert not blamed_by_rules(judged)
    return await in_review(writer, approver, contributing_factors=["No canary stage", judged])


async def test_blame_the_learned_scorer_is_unsure_of_is_a_warning_that_does_not_block(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    judged = "The SRE on duty was watching a movie instead of the dashboards."
    postmortem = await in_review_judged_by_the_scorer_alone(client, admin_client, judged)

    [finding] = [f for f in await findings_of(client, postmortem["id"]) if f["rule"] == "blame-language"]
    completed = await step(client, postmortem["id"], "complete")

    assert (finding["level"], finding["field"], finding["excerpt"]) == ("warning", "contributing_factors[1]", judged)
    assert finding["message"].startswith("This reads as blaming 'SRE'")
    assert completed.status_code == 200, completed.text


async def test_blame_the_learned_scorer_is_sure_of_blocks_like_a_rule(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    judged = "Poor judgement by the release manager turned a small bug into an outage."
    postmortem = await in_review_judged_by_the_scorer_alone(client, admin_client, judged)

    errors = problem_errors(await step(client, postmortem["id"], "complete"), 409)

    assert [(e["field"], e["code"]) for e in errors] == [("contributing_factors[1]", "blame-language")]
    assert errors[0]["message"].startswith("'manager' is made the actor of a failure")


async def test_a_human_error_root_cause_blocks_completion(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    postmortem = await in_review(client, admin_client, root_cause="Human error during the failover.")

    errors = problem_errors(await step(client, postmortem["id"], "complete"), 409)

    assert [(e["field"], e["code"]) for e in errors] == [("root_cause", "human-error-root-cause")]


async def test_warnings_and_errors_of_other_rules_do_not_block_by_default(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    postmortem = await in_review(client, admin_client, what_went_well=[], detected_at=None)
    await add_action_item(client, postmortem["id"], title="Improve monitoring", owner="everyone")
    assert {f["rule"] for f in await findings_of(client, postmortem["id"])} == {
        "vague-action-item",
        "imprecise-data",
        "missing-what-went-well",
    }

    completed = await step(client, postmortem["id"], "complete")

    assert completed.status_code == 200, completed.text


@pytest.fixture
async def clients_blocking_on(
    app: FastAPI, database_url: str, api_keys: dict[Scope, str]
) -> AsyncIterator[Callable[[list[str]], tuple[httpx.AsyncClient, httpx.AsyncClient]]]:
    """(writer, admin) clients of an app on the shared database with its own blocking rules."""
    apps: list[FastAPI] = []
    clients: list[httpx.AsyncClient] = []

    def make(rules: list[str]) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
        configured = create_app(Settings(database_url=database_url, review_blocking_rules=rules))
        apps.append(configured)
        pair = tuple(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=configured),
                base_url="http://testserver",
                headers={"Authorization": f"Bearer {api_keys[scope]}"},
            )
            for scope in (Scope.WRITE, Scope.ADMIN)
        )
        clients.extend(pair)
        return pair[0], pair[1]

    yield make
    for client in clients:
        await client.aclose()
    for configured in apps:
        await configured.state.engine.dispose()


@pytest.mark.parametrize(
    ("rules", "blocked"),
    [
        ([], []),
        (["vague-action-item"], ["vague-action-item"]),
        (["blame-language", "missing-what-went-well"], ["blame-language"]),
    ],
)
async def test_the_setting_chooses_which_rules_error_findings_block(
    clients_blocking_on: Callable[[list[str]], tuple[httpx.AsyncClient, httpx.AsyncClient]],
    rules: list[str],
    blocked: list[str],
) -> None:
    writer, admin = clients_blocking_on(rules)
    postmortem = await in_review(writer, admin, summary=BLAMING, what_went_well=[])
    await add_action_item(writer, postmortem["id"], title="Investigate")

    response = await step(writer, postmortem["id"], "complete")

    if blocked:
        assert [e["code"] for e in problem_errors(response, 409)] == blocked
    else:
        assert response.status_code == 200, response.text


def test_the_blocking_rules_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTMORTEMS_REVIEW_BLOCKING_RULES", raising=False)
    assert Settings().review_blocking_rules == [Rule.BLAME_LANGUAGE, Rule.HUMAN_ERROR_ROOT_CAUSE]

    monkeypatch.setenv("POSTMORTEMS_REVIEW_BLOCKING_RULES", '["imprecise-data", "blame-language"]')
    assert Settings().review_blocking_rules == [Rule.IMPRECISE_DATA, Rule.BLAME_LANGUAGE]

    monkeypatch.setenv("POSTMORTEMS_REVIEW_BLOCKING_RULES", '["no-such-rule"]')
    with pytest.raises(ValidationError, match="review_blocking_rules"):
        Settings()


# --- facilitator-involved over HTTP ------------------------------------------------------------------------------


async def test_an_author_facilitating_is_found_and_blocks_only_when_configured(
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    clients_blocking_on: Callable[[list[str]], tuple[httpx.AsyncClient, httpx.AsyncClient]],
) -> None:
    postmortem = await in_review(client, admin_client, authors=["alice", "bob"])
    submitted_at = (await client.get(f"/v1/postmortems/{postmortem['id']}")).json()["submitted_at"]
    scheduled_at = (datetime.fromisoformat(submitted_at) + timedelta(days=2)).isoformat()
    meeting = {"scheduled_at": scheduled_at, "facilitator": "@bob", "attendees": ["alice", "carol"]}
    patched = await client.patch(f"/v1/postmortems/{postmortem['id']}", json={"review_meeting": meeting})
    assert patched.status_code == 200, patched.text

    [finding] = await findings_of(client, postmortem["id"])
    assert (finding["rule"], finding["level"], finding["field"], finding["excerpt"]) == (
        "facilitator-involved",
        "error",
        "review_meeting.facilitator",
        "@bob",
    )
    writer, _ = clients_blocking_on(["facilitator-involved"])
    errors = problem_errors(await step(writer, postmortem["id"], "complete"), 409)
    assert [(e["field"], e["code"]) for e in errors] == [("review_meeting.facilitator", "facilitator-involved")]
    completed = await step(client, postmortem["id"], "complete")
    assert completed.status_code == 200, completed.text


async def test_a_meeting_the_day_of_submission_is_a_warning(client: httpx.AsyncClient) -> None:
    postmortem = await submittable_postmortem(client, **WENT_WELL)
    submitted = await step(client, postmortem["id"], "submit")
    scheduled_at = datetime.fromisoformat(submitted.json()["submitted_at"]) + timedelta(hours=3)
    meeting = {"scheduled_at": scheduled_at.isoformat(), "facilitator": "carol"}

    await client.patch(f"/v1/postmortems/{postmortem['id']}", json={"review_meeting": meeting})

    assert [(f["rule"], f["level"], f["field"]) for f in await findings_of(client, postmortem["id"])] == [
        ("facilitator-involved", "warning", "review_meeting.scheduled_at")
    ]
