"""Configuration, read from `POSTMORTEMS_*` environment variables."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.action_items.models import Priority
from service.action_items.slo import DEFAULT_SLO_DAYS, MAX_SLO_DAYS
from service.db import DEFAULT_POOL_SIZE
from service.observability.logs import LogFormat
from service.policy.enums import ReasonCode
from service.postmortems.enums import Severity
from service.review.models import Rule

EMBEDDED_DATABASE_NAME = "postmortems.db"


def default_data_dir() -> Path:
    """The per-user data directory (XDG Base Directory): one embedded database for `serve` and every command."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "postmortems"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSTMORTEMS_", env_ignore_empty=True, extra="ignore")

    data_dir: Path | None = Field(
        default=None,
        description="Where the embedded SQLite database lives when `database_url` is unset; default: "
        "$XDG_DATA_HOME/postmortems, else ~/.local/share/postmortems.",
    )
    database_url: str = Field(
        default="",
        description="SQLite file or PostgreSQL URL; the async driver is chosen automatically. Unset: "
        "`postmortems.db` in `data_dir`, the same file whatever directory a command runs in.",
    )
    db_pool_size: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=DEFAULT_POOL_SIZE,
        description="Database connections each process keeps open (no overflow); a burst beyond them waits.",
    )
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    required_approvals: dict[Severity, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: dict.fromkeys(Severity, 1),
        description='Approvals needed to complete, per severity, e.g. {"P1": 2}.',
    )
    auth_cache_seconds: Annotated[float, Field(ge=0)] = Field(
        default=10.0, description="How long a replica trusts a key it has checked; 0 checks on every request."
    )
    log_level: str = "INFO"
    log_format: LogFormat = Field(default="json", description="`json`: one object per line; `text` for reading by eye.")
    access_log: bool = Field(default=False, description="Log a line per request (`serve --access-log`).")
    shutdown_grace_seconds: Annotated[float, Field(gt=0)] = Field(
        default=20.0,
        description="On SIGTERM, how long `serve` lets requests in progress and `worker` its deliveries finish.",
    )
    secret_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Keys that encrypt tracker credentials and webhook secrets at rest, comma-separated, newest "
        "first: the first encrypts, any decrypts. None: a key file beside a SQLite database; on PostgreSQL, "
        "secrets are refused.",
    )
    secret_key: SecretStr | None = Field(default=None, description="One key: the same as a one-key `secret_keys`.")
    allow_plaintext_secrets: bool = Field(
        default=False, description="Without a key, store secrets as sent instead of encrypted (development only)."
    )
    run_worker: bool | None = Field(
        default=None, description="Run the outbox worker inside `serve`; default: yes on SQLite, no on PostgreSQL."
    )
    worker_poll_seconds: Annotated[float, Field(gt=0)] = 1.0
    worker_metrics_port: Annotated[int, Field(ge=0, le=65535)] = Field(
        default=9000, description="The port of `postmortems worker`'s /metrics and /healthz; 0: none."
    )
    worker_concurrency: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=32, description="Deliveries one worker has in flight at once (each mostly waits on its tracker)."
    )
    outbox_backoff_seconds: Annotated[float, Field(gt=0)] = 2.0
    outbox_backoff_max_seconds: Annotated[float, Field(gt=0)] = 300.0
    outbox_max_attempts: Annotated[int, Field(ge=1)] = 12
    outbox_lease_seconds: Annotated[float, Field(gt=0)] = Field(
        default=300.0, description="A claimed delivery whose worker died is taken up again after this long."
    )
    reconcile_after_seconds: Annotated[float, Field(gt=0)] = Field(
        default=3600.0, description="Poll a linked ticket whose state was not confirmed for this long."
    )
    tracker_timeout_seconds: Annotated[float, Field(gt=0)] = 15.0
    jira_search_lag_seconds: Annotated[float, Field(ge=0)] = Field(
        default=300.0,
        description="How long after a create was sent Jira's search may still miss the new issue: a retry that "
        "finds none waits this long since the create before it creates again; 0 trusts the search at once.",
    )
    review_blocking_rules: list[Rule] = Field(
        default_factory=lambda: [Rule.BLAME_LANGUAGE, Rule.HUMAN_ERROR_ROOT_CAUSE],
        description='Review rules whose `error` findings block `complete`, e.g. ["blame-language"]; [] blocks none.',
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="This service's URL as people reach it, for links in tickets."
    )
    policy_severities: set[Severity] = Field(
        default_factory=lambda: {Severity.P1, Severity.P2},
        description="Incidents of these severities always owe a postmortem.",
    )
    policy_max_duration_minutes: Annotated[int, Field(ge=0)] = Field(
        default=30, description="An incident that lasted longer than this owes a postmortem."
    )
    policy_repeat_window_days: Annotated[int, Field(ge=1)] = Field(
        default=90, description="An earlier postmortem with the same failure mode within this window makes a repeat."
    )
    policy_rules: set[ReasonCode] = Field(
        default_factory=lambda: set(ReasonCode), description="The rules of the postmortem policy in force."
    )
    public_redact_terms: list[str] = Field(
        default_factory=list,
        description="Terms left out of public incident reports (whole words or phrases, any case), "
        'e.g. ["Project Falcon", "eu-west-1"].',
    )
    policy_standard_reasons: set[ReasonCode] = Field(
        default_factory=lambda: {ReasonCode.DATA_LOSS, ReasonCode.SECURITY},
        description="Reasons that call for the standard template even for a P3 incident.",
    )
    action_item_slo_days: dict[Priority, Annotated[int, Field(ge=1, le=MAX_SLO_DAYS)]] = Field(
        default_factory=lambda: dict(DEFAULT_SLO_DAYS),
        description='Calendar days an action item may take from its creation, per priority, e.g. {"P0": 3}; '
        "missing priorities keep their default (P0 7, P1 14, P2 90).",
    )

    subscription_allowed_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Networks event subscriptions may send to although they are private, shared or link-local, "
        'as a JSON list of CIDRs, e.g. ["10.20.0.0/16"]; none by default.',
    )
    subscription_disable_after_failing_hours: Annotated[float, Field(gt=0)] = Field(
        default=72.0,
        description="A subscription whose endpoint failed every delivery attempt for this long is disabled, "
        "with the reason in `disabled_reason`.",
    )
    timeline_slack_markers: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: ["#timeline"],
        description="A timeline import from Slack takes, beside pinned and starred messages, those whose text "
        'holds one of these markers (any case), e.g. ["#timeline", ":pushpin:"]; [] takes none by text.',
    )

    cors_allow_origins: list[str] = Field(
        default_factory=list,
        description='Browser origins allowed to call the API (CORS), e.g. ["https://portal.example.com"]; '
        "none by default.",
    )

    stats_sla_target: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.9, description="`GET /v1/stats`: share of postmortems to complete within 5 business days."
    )
    stats_time_to_postmortem_target_business_days: Annotated[float, Field(gt=0)] = Field(
        default=5.0, description="`GET /v1/stats`: the median time from resolution to completion to stay below."
    )
    stats_action_item_target: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.7, description="`GET /v1/stats`: share of action items to have done by their due date."
    )
    stats_mttd_target_minutes: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="`GET /v1/stats`: the mean time to detect to stay below; unset: no target."
    )
    stats_mttr_target_minutes: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="`GET /v1/stats`: the mean time to restore to stay below; unset: no target."
    )

    @model_validator(mode="after")
    def _embedded_database_by_default(self) -> Self:
        if not self.database_url:
            directory = self.data_dir or default_data_dir()
            directory.mkdir(parents=True, exist_ok=True)
            self.database_url = f"sqlite:///{directory.resolve() / EMBEDDED_DATABASE_NAME}"
        return self

    @field_validator("secret_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        """The environment gives the keys as one comma-separated string (keys hold no commas)."""
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @model_validator(mode="after")
    def _keys_one_way(self) -> Self:
        if self.secret_key is not None and self.secret_keys:
            raise ValueError(
                "set POSTMORTEMS_SECRET_KEYS or POSTMORTEMS_SECRET_KEY, not both "
                "(POSTMORTEMS_SECRET_KEY is a POSTMORTEMS_SECRET_KEYS of one key)"
            )
        return self

    def encryption_keys(self) -> list[str]:
        """The configured keys, newest first."""
        keys = self.secret_keys if self.secret_key is None else [self.secret_key]
        return [key.get_secret_value() for key in keys]

    @field_validator("required_approvals")
    @classmethod
    def _fill_missing_severities(cls, value: dict[Severity, int]) -> dict[Severity, int]:
        return {severity: value.get(severity, 1) for severity in Severity}

    @field_validator("action_item_slo_days")
    @classmethod
    def _fill_missing_priorities(cls, value: dict[Priority, int]) -> dict[Priority, int]:
        return DEFAULT_SLO_DAYS | value


@lru_cache
def get_settings() -> Settings:
    return Settings()
