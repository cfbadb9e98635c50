"""The postmortem policy: every rule, threshold and template choice, on the pure `evaluate`."""

from typing import Any

import pytest
from pydantic import ValidationError

from service.policy.enums import ReasonCode
from service.policy.models import IncidentFacts
from service.policy.service import evaluate
from service.postmortems.enums import Severity
from service.settings import Settings

QUIET = {
    "severity": "P3",
    "duration_minutes": 0,
    "customer_facing": False,
    "data_loss": False,
    "security_involved": False,
}
"""A P3 that touched nobody: no rule applies to it."""


def facts(**overrides: Any) -> IncidentFacts:
    return IncidentFacts.model_validate(QUIET | overrides)


def policy(**overrides: Any) -> Settings:
    return Settings(database_url="sqlite://", **overrides)


def verdict(incident: IncidentFacts, settings: Settings, *, repeat_found: bool = False) -> tuple[list[str], str | None]:
    """The codes of the reasons given, and the template; `required` must agree with the reasons."""
    decision = evaluate(incident, settings, repeat_found)
    codes = [reason.code.value for reason in decision.reasons]
    assert decision.required is bool(codes)
    return codes, None if decision.template is None else decision.template.value


DEFAULT_CASES = [
    pytest.param({}, False, [], None, id="a quiet P3 owes nothing"),
    pytest.param({"severity": "P1"}, False, ["severity"], "standard", id="any P1"),
    pytest.param({"severity": "P2"}, False, ["severity"], "standard", id="any P2"),
    pytest.param({"duration_minutes": 30}, False, [], None, id="30 minutes is not longer than 30"),
    pytest.param({"duration_minutes": 31}, False, ["duration"], "quick", id="31 minutes"),
    pytest.param({"customer_facing": True}, False, ["customer_impact"], "quick", id="customer impact"),
    pytest.param({"data_loss": True}, False, ["data_loss"], "standard", id="data loss calls for standard on a P3"),
    pytest.param({"security_involved": True}, False, ["security"], "standard", id="security calls for standard"),
    pytest.param(
        {"near_miss": True, "near_miss_potential": "high"}, False, ["near_miss"], "quick", id="near miss, high"
    ),
    pytest.param({"near_miss": True, "near_miss_potential": "low"}, False, [], None, id="near miss, low"),
    pytest.param({"near_miss_potential": "high"}, False, [], None, id="a potential without a near miss is ignored"),
    pytest.param({}, True, ["repeat"], "quick", id="any repeat"),
    pytest.param(
        {"severity": "P2", "duration_minutes": 45, "customer_facing": True},
        False,
        ["severity", "duration", "customer_impact"],
        "standard",
        id="P2 with lighter reasons stays standard",
    ),
    pytest.param(
        {"duration_minutes": 240, "customer_facing": True, "near_miss": True, "near_miss_potential": "high"},
        True,
        ["duration", "customer_impact", "near_miss", "repeat"],
        "quick",
        id="P3 with only lighter reasons is quick",
    ),
    pytest.param(
        {"duration_minutes": 45, "customer_facing": True, "security_involved": True},
        False,
        ["duration", "customer_impact", "security"],
        "standard",
        id="P3 with one standard reason among lighter ones",
    ),
    pytest.param(
        {
            "severity": "P1",
            "duration_minutes": 90,
            "customer_facing": True,
            "data_loss": True,
            "security_involved": True,
            "near_miss": True,
            "near_miss_potential": "high",
        },
        True,
        [code.value for code in ReasonCode],
        "standard",
        id="every rule, in their fixed order",
    ),
]


@pytest.mark.parametrize(("overrides", "repeat_found", "codes", "template"), DEFAULT_CASES)
def test_default_policy(overrides: dict[str, Any], repeat_found: bool, codes: list[str], template: str | None) -> None:
    assert verdict(facts(**overrides), policy(), repeat_found=repeat_found) == (codes, template)


SETTINGS_CASES = [
    pytest.param({"policy_max_duration_minutes": 60}, {"duration_minutes": 60}, False, [], None, id="at a raised max"),
    pytest.param(
        {"policy_max_duration_minutes": 60}, {"duration_minutes": 61}, False, ["duration"], "quick", id="over it"
    ),
    pytest.param({"policy_max_duration_minutes": 0}, {"duration_minutes": 0}, False, [], None, id="0 at a max of 0"),
    pytest.param(
        {"policy_max_duration_minutes": 0}, {"duration_minutes": 1}, False, ["duration"], "quick", id="1 over 0"
    ),
    pytest.param({"policy_severities": ["P1"]}, {"severity": "P2"}, False, [], None, id="P2 no longer owes one"),
    pytest.param(
        {"policy_severities": ["P1"]},
        {"severity": "P2", "customer_facing": True},
        False,
        ["customer_impact"],
        "standard",
        id="a P2 owing one for another reason gets its default template",
    ),
    pytest.param(
        {"policy_severities": ["P1", "P2", "P3"]}, {}, False, ["severity"], "quick", id="every P3 owes a quick one"
    ),
    pytest.param(
        {"policy_rules": [code for code in ReasonCode if code is not ReasonCode.CUSTOMER_IMPACT]},
        {"customer_facing": True, "duration_minutes": 45},
        False,
        ["duration"],
        "quick",
        id="a rule out of force gives no reason",
    ),
    pytest.param(
        {"policy_rules": [code for code in ReasonCode if code is not ReasonCode.REPEAT]},
        {},
        True,
        [],
        None,
        id="a repeat without the repeat rule",
    ),
    pytest.param(
        {"policy_rules": []},
        {"severity": "P1", "duration_minutes": 600, "data_loss": True},
        True,
        [],
        None,
        id="no rules in force",
    ),
    pytest.param(
        {"policy_standard_reasons": []}, {"data_loss": True}, False, ["data_loss"], "quick", id="no standard reasons"
    ),
    pytest.param(
        {"policy_standard_reasons": ["repeat"]}, {}, True, ["repeat"], "standard", id="repeats call for standard"
    ),
]


@pytest.mark.parametrize(("settings", "overrides", "repeat_found", "codes", "template"), SETTINGS_CASES)
def test_thresholds_and_rules_are_settings(
    settings: dict[str, Any], overrides: dict[str, Any], repeat_found: bool, codes: list[str], template: str | None
) -> None:
    assert verdict(facts(**overrides), policy(**settings), repeat_found=repeat_found) == (codes, template)


MESSAGE_CASES = [
    pytest.param({"severity": "P1"}, {}, ReasonCode.SEVERITY, ["P1"], id="severity"),
    pytest.param({"duration_minutes": 45}, {}, ReasonCode.DURATION, ["45 minutes", "30"], id="duration"),
    pytest.param(
        {"duration_minutes": 45}, {"policy_max_duration_minutes": 40}, ReasonCode.DURATION, ["40"], id="duration max"
    ),
    pytest.param({"failure_mode": "config-push"}, {}, ReasonCode.REPEAT, ["'config-push'", "90 days"], id="repeat"),
    pytest.param(
        {"failure_mode": "dns"}, {"policy_repeat_window_days": 30}, ReasonCode.REPEAT, ["30 days"], id="repeat window"
    ),
]


@pytest.mark.parametrize(("overrides", "settings", "code", "fragments"), MESSAGE_CASES)
def test_messages_state_the_facts_and_thresholds(
    overrides: dict[str, Any], settings: dict[str, Any], code: ReasonCode, fragments: list[str]
) -> None:
    decision = evaluate(facts(**overrides), policy(**settings), repeat_found=True)

    [message] = [reason.message for reason in decision.reasons if reason.code is code]
    for fragment in fragments:
        assert fragment in message


def test_every_reason_has_its_own_message() -> None:
    everything = facts(
        severity="P1",
        duration_minutes=90,
        customer_facing=True,
        data_loss=True,
        security_involved=True,
        near_miss=True,
        near_miss_potential="high",
        failure_mode="config-push",
    )
    messages = [reason.message for reason in evaluate(everything, policy(), repeat_found=True).reasons]
    assert len(messages) == len(ReasonCode)
    assert len(set(messages)) == len(messages)
    assert all(message.strip() for message in messages)


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTMORTEMS_POLICY_SEVERITIES", '["P1"]')
    monkeypatch.setenv("POSTMORTEMS_POLICY_MAX_DURATION_MINUTES", "15")
    monkeypatch.setenv("POSTMORTEMS_POLICY_REPEAT_WINDOW_DAYS", "30")
    monkeypatch.setenv("POSTMORTEMS_POLICY_RULES", '["severity", "duration"]')
    monkeypatch.setenv("POSTMORTEMS_POLICY_STANDARD_REASONS", '["duration"]')

    settings = Settings(database_url="sqlite://")

    assert settings.policy_severities == {Severity.P1}
    assert settings.policy_max_duration_minutes == 15
    assert settings.policy_repeat_window_days == 30
    assert settings.policy_rules == {ReasonCode.SEVERITY, ReasonCode.DURATION}
    assert settings.policy_standard_reasons == {ReasonCode.DURATION}
    assert verdict(facts(duration_minutes=20, customer_facing=True), settings) == (["duration"], "standard")


def test_the_defaults_are_the_documented_ones() -> None:
    settings = Settings(database_url="sqlite://")

    assert settings.policy_severities == {Severity.P1, Severity.P2}
    assert settings.policy_max_duration_minutes == 30
    assert settings.policy_repeat_window_days == 90
    assert settings.policy_rules == set(ReasonCode)
    assert settings.policy_standard_reasons == {ReasonCode.DATA_LOSS, ReasonCode.SECURITY}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("policy_severities", ["P4"]),
        ("policy_max_duration_minutes", -1),
        ("policy_repeat_window_days", 0),
        ("policy_rules", ["blame"]),
        ("policy_standard_reasons", ["P1"]),
    ],
)
def test_invalid_settings_are_refused(name: str, value: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(database_url="sqlite://", **{name: value})
    assert {error["loc"][0] for error in refused.value.errors()} == {name}
