"""POST /v1/policy/evaluate over HTTP: any key may ask, invalid facts are refused field by field,
and a repeat is found among the postmortems in the database."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import create_postmortem
from tests.problems import assert_invalid, assert_problem

URL = "/v1/policy/evaluate"
QUIET = {
    "severity": "P3",
    "duration_minutes": 0,
    "customer_facing": False,
    "data_loss": False,
    "security_involved": False,
}
"""A P3 that touched nobody: nothing is owed unless it is a repeat."""


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


async def evaluate(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post(URL, json=QUIET | overrides)
    assert response.status_code == 200, response.text
    return dict(response.json())


def codes(decision: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]


@pytest.fixture
def callers(
    reader_client: httpx.AsyncClient, client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> dict[str, httpx.AsyncClient]:
    return {"read": reader_client, "write": client, "admin": admin_client}


@pytest.mark.parametrize("scope", ["read", "write", "admin"])
async def test_any_key_may_ask_because_nothing_changes(callers: dict[str, httpx.AsyncClient], scope: str) -> None:
    caller = callers[scope]

    decision = await evaluate(caller, severity="P1", duration_minutes=45)

    assert decision == {
        "required": True,
        "template": "standard",
        "reasons": [
            {"code": "severity", "message": "P1 incidents always owe a postmortem."},
            {"code": "duration", "message": "It lasted 45 minutes, longer than 30."},
        ],
        "related_postmortem_ids": [],
    }


async def test_evaluating_creates_nothing(reader_client: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    await create_postmortem(client, failure_mode="config-push")
    before = (await client.get("/v1/postmortems")).json()

    await evaluate(reader_client, severity="P1", failure_mode="config-push")

    assert (await client.get("/v1/postmortems")).json() == before


async def test_a_request_without_a_key_is_refused(anonymous_client: httpx.AsyncClient) -> None:
    response = await anonymous_client.post(URL, json=QUIET)

    assert assert_problem(response, 401)["type"].endswith(":unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_nothing_owed_answers_no_template_and_no_reasons(reader_client: httpx.AsyncClient) -> None:
    decision = await evaluate(reader_client, duration_minutes=30, near_miss=True, near_miss_potential="low")

    assert decision == {"required": False, "template": None, "reasons": [], "related_postmortem_ids": []}


INVALID = [
    pytest.param({"severity": "P4"}, ["severity"], id="P4 is not a severity of this service"),
    pytest.param({"severity": "p1"}, ["severity"], id="severity is case-sensitive"),
    pytest.param({"duration_minutes": -1}, ["duration_minutes"], id="negative duration"),
    pytest.param({"duration_minutes": "45"}, ["duration_minutes"], id="duration as a string"),
    pytest.param({"duration_minutes": 4.5}, ["duration_minutes"], id="fractional duration"),
    pytest.param({"customer_facing": "yes"}, ["customer_facing"], id="boolean as a string"),
    pytest.param({"data_loss": 1}, ["data_loss"], id="boolean as a number"),
    pytest.param({"security_involved": None}, ["security_involved"], id="null fact"),
    pytest.param({"near_miss_potential": "medium"}, ["near_miss_potential"], id="unknown potential"),
    pytest.param({"near_miss": True}, ["near_miss_potential"], id="a near miss needs its potential"),
    pytest.param({"near_miss": True, "near_miss_potential": None}, ["near_miss_potential"], id="null potential"),
    pytest.param({"failure_mode": ""}, ["failure_mode"], id="empty failure mode"),
    pytest.param({"failure_mode": "x" * 101}, ["failure_mode"], id="failure mode too long"),
    pytest.param({"repeat": True}, ["repeat"], id="unknown field"),
]


@pytest.mark.parametrize(("overrides", "fields"), INVALID)
async def test_invalid_facts_are_refused_naming_the_field(
    reader_client: httpx.AsyncClient, overrides: dict[str, Any], fields: list[str]
) -> None:
    assert_invalid(await reader_client.post(URL, json=QUIET | overrides), *fields)


async def test_an_unknown_field_is_called_one(reader_client: httpx.AsyncClient) -> None:
    response = await reader_client.post(URL, json=QUIET | {"repeat": True})

    [error] = assert_problem(response, 422)["errors"]
    assert (error["field"], error["message"], error["code"]) == ("repeat", "unknown field", "extra_forbidden")


@pytest.mark.parametrize(
    "missing", ["severity", "duration_minutes", "customer_facing", "data_loss", "security_involved"]
)
async def test_every_impact_fact_is_required(reader_client: httpx.AsyncClient, missing: str) -> None:
    body = {name: value for name, value in QUIET.items() if name != missing}

    assert_invalid(await reader_client.post(URL, json=body), missing)


async def test_an_empty_body_names_every_required_fact(reader_client: httpx.AsyncClient) -> None:
    assert_invalid(await reader_client.post(URL, json={}), *QUIET)


REPEATS = [
    pytest.param({"started_at": days_ago(10)}, True, id="incident 10 days ago"),
    pytest.param({}, True, id="no start known: written today"),
    pytest.param({"started_at": days_ago(100), "resolved_at": days_ago(99)}, False, id="incident 100 days ago"),
    pytest.param({"failure_mode": "dns-expiry"}, False, id="another failure mode"),
    pytest.param({"failure_mode": "Config-Push"}, False, id="failure modes match exactly"),
    pytest.param({"failure_mode": None}, False, id="no failure mode"),
]


@pytest.mark.parametrize(("postmortem", "repeat"), REPEATS)
async def test_a_repeat_is_a_postmortem_with_the_failure_mode_in_the_last_90_days(
    client: httpx.AsyncClient, reader_client: httpx.AsyncClient, postmortem: dict[str, Any], repeat: bool
) -> None:
    earlier = await create_postmortem(client, **({"failure_mode": "config-push"} | postmortem))

    decision = await evaluate(reader_client, failure_mode="config-push")

    if repeat:
        assert decision["required"] is True
        assert decision["template"] == "quick"
        assert decision["reasons"] == [
            {"code": "repeat", "message": "Failure mode 'config-push' already has a postmortem from the last 90 days."}
        ]
        assert decision["related_postmortem_ids"] == [earlier["id"]]
    else:
        assert decision == {"required": False, "template": None, "reasons": [], "related_postmortem_ids": []}


async def test_without_a_failure_mode_nothing_is_a_repeat(
    client: httpx.AsyncClient, reader_client: httpx.AsyncClient
) -> None:
    await create_postmortem(client, failure_mode="config-push", started_at=days_ago(1))

    decision = await evaluate(reader_client)

    assert decision["required"] is False
    assert decision["related_postmortem_ids"] == []


async def test_a_repeat_adds_to_the_other_reasons(client: httpx.AsyncClient, reader_client: httpx.AsyncClient) -> None:
    await create_postmortem(client, failure_mode="config-push")

    decision = await evaluate(reader_client, severity="P2", data_loss=True, failure_mode="config-push")

    assert codes(decision) == ["severity", "data_loss", "repeat"]
    assert decision["template"] == "standard"


async def test_related_postmortems_are_listed_newest_incident_first_at_most_ten(
    client: httpx.AsyncClient, reader_client: httpx.AsyncClient
) -> None:
    ages = [5, 1, 11, 3, 9, 2, 7, 10, 4, 8, 6]  # days since each incident began, out of creation order
    ids = {
        days: (await create_postmortem(client, failure_mode="config-push", started_at=days_ago(days)))["id"]
        for days in ages
    }
    await create_postmortem(client, failure_mode="config-push", started_at=days_ago(120))

    decision = await evaluate(reader_client, failure_mode="config-push")

    assert decision["related_postmortem_ids"] == [ids[days] for days in sorted(ages)[:10]]


@pytest.mark.parametrize(
    ("override", "facts", "expected"),
    [
        pytest.param({"policy_repeat_window_days": 7}, {"failure_mode": "config-push"}, [], id="shorter window"),
        pytest.param({"policy_repeat_window_days": 14}, {"failure_mode": "config-push"}, ["repeat"], id="wider"),
        pytest.param({"policy_max_duration_minutes": 120}, {"duration_minutes": 90}, [], id="raised max duration"),
        pytest.param({"policy_severities": ["P1", "P2", "P3"]}, {}, ["severity"], id="every severity"),
    ],
)
async def test_the_service_settings_decide(
    configure: Callable[..., None],
    client: httpx.AsyncClient,
    reader_client: httpx.AsyncClient,
    override: dict[str, Any],
    facts: dict[str, Any],
    expected: list[str],
) -> None:
    await create_postmortem(client, failure_mode="config-push", started_at=days_ago(10))
    configure(**override)

    assert codes(await evaluate(reader_client, **facts)) == expected


async def test_the_documented_examples_are_what_the_api_answers(
    app: FastAPI, client: httpx.AsyncClient, reader_client: httpx.AsyncClient
) -> None:
    schemas = app.openapi()["components"]["schemas"]
    [answer] = schemas["PolicyDecision"]["examples"]
    earlier = await create_postmortem(client, failure_mode="config-push")
    first, *others = schemas["IncidentFacts"]["examples"]

    decision = await evaluate(reader_client, **first)

    assert decision == answer | {"related_postmortem_ids": [earlier["id"]]}
    for example in others:
        assert (await reader_client.post(URL, json=example)).status_code == 200
