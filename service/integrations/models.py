import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import ConfigDict, Field, SecretStr, StrictBool, computed_field, field_validator
from sqlmodel import Field as SQLField

from service.action_items.models import ItemStatus
from service.core.base import IdMixin, TimestampMixin, version_column
from service.core.schemas import InputModel, OutputModel
from service.core.types import JSONValue, enum_type


class TrackerKind(StrEnum):
    JIRA = "jira"
    LINEAR = "linear"
    GITHUB = "github"


class PushPolicy(StrEnum):
    ON_CREATE = "on_create"
    ON_COMPLETE = "on_complete"


Name = Annotated[str, Field(min_length=1, max_length=100, examples=["payments-jira"])]
BaseUrl = Annotated[str, Field(pattern=r"^https?://[^\s/]+(:\d+)?(/\S*)?$", max_length=500)]
StatusMap = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=100)], ItemStatus],
    Field(
        max_length=100,
        description="Overrides of the tracker-state -> status mapping, keyed by the state shown on links.",
    ),
]
SETTINGS_DESCRIPTION = (
    "Per kind. jira: project_key, issue_type (default Task), email (for basic auth), won't-do resolutions; "
    "linear: team_id; github: owner, repo."
)

KIND_DESCRIPTION = "The tracker: `jira` (Jira Cloud), `linear` or `github` (GitHub Issues)."
NAME_DESCRIPTION = "A name for the integration, unique among integrations."
CREDENTIALS_DESCRIPTION = "How to authenticate to the tracker; write-only, stored encrypted."
WEBHOOK_SECRET_DESCRIPTION = "The secret the tracker signs its webhooks with; write-only, stored encrypted."  # noqa: S105 - a description, not a secret
PUSH_POLICY_DESCRIPTION = "When action items become tickets: `on_create`, or `on_complete` of their postmortem."
DEFAULT_DESCRIPTION = "Items with no integration of their own go here."


class Credentials(InputModel):
    token: SecretStr = Field(min_length=1, max_length=2000, description="API token or key; write-only.")


class IntegrationCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "github",
                    "name": "payments-github",
                    "settings": {"owner": "acme", "repo": "payments-followups"},
                    "credentials": {"token": "github_pat_11AAEXAMPLE0token0for0docs"},
                    "webhook_secret": "5f0c1e9a7b3d4c2e8f6a0b1c9d7e3f2a",
                    "push_policy": "on_create",
                    "status_map": {"label:in-progress": "in_progress"},
                    "default": True,
                },
                {
                    "kind": "linear",
                    "name": "platform-linear",
                    "settings": {"team_id": "9cfb482a-81e3-4154-b5b9-2c805e70a02d"},
                    "credentials": {"token": "lin_api_EXAMPLEkeyForDocs0123456789"},
                    "webhook_secret": "lin_wh_EXAMPLEsecretForDocs0123456789",
                    "push_policy": "on_complete",
                },
            ]
        }
    )

    kind: TrackerKind = Field(description=KIND_DESCRIPTION)
    name: Name = Field(description=NAME_DESCRIPTION)
    base_url: BaseUrl | None = Field(
        default=None, description="Defaults to the tracker's public API; required for Jira (the site URL)."
    )
    settings: dict[str, Any] = Field(default_factory=dict, description=SETTINGS_DESCRIPTION)
    credentials: Credentials = Field(description=CREDENTIALS_DESCRIPTION)
    webhook_secret: SecretStr | None = Field(
        default=None, min_length=1, max_length=500, description=WEBHOOK_SECRET_DESCRIPTION
    )
    push_policy: PushPolicy = Field(default=PushPolicy.ON_CREATE, description=PUSH_POLICY_DESCRIPTION)
    status_map: StatusMap = Field(default_factory=dict)
    default: StrictBool = Field(default=False, description=DEFAULT_DESCRIPTION)


class IntegrationUpdate(InputModel):
    """Partial update: only the fields sent change; the kind cannot change."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"credentials": {"token": "github_pat_11AAROTATED0token0for0docs"}, "push_policy": "on_complete"}
            ]
        }
    )

    non_nullable = frozenset({"name", "settings", "credentials", "push_policy", "status_map", "default"})

    name: Name | None = Field(default=None, description=NAME_DESCRIPTION)
    base_url: BaseUrl | None = Field(default=None, description="The tracker's API or site URL; null resets it.")
    settings: dict[str, Any] | None = Field(default=None, description=SETTINGS_DESCRIPTION)
    credentials: Credentials | None = Field(default=None, description=CREDENTIALS_DESCRIPTION)
    webhook_secret: SecretStr | None = Field(
        default=None, min_length=1, max_length=500, description=WEBHOOK_SECRET_DESCRIPTION + " Null removes it."
    )
    push_policy: PushPolicy | None = Field(default=None, description=PUSH_POLICY_DESCRIPTION)
    status_map: StatusMap | None = None
    default: StrictBool | None = Field(default=None, description=DEFAULT_DESCRIPTION)


class IntegrationRead(OutputModel):
    id: uuid.UUID = Field(description="The integration's id; part of its webhook path.")
    kind: TrackerKind = Field(description=KIND_DESCRIPTION)
    name: str = Field(description=NAME_DESCRIPTION)
    base_url: str = Field(description="The tracker's API or site URL that requests go to.")
    settings: dict[str, Any] = Field(description=SETTINGS_DESCRIPTION)
    push_policy: PushPolicy = Field(description=PUSH_POLICY_DESCRIPTION)
    status_map: dict[str, ItemStatus] = Field(
        description="Overrides of the tracker-state -> status mapping, keyed by the state shown on links."
    )
    default: bool = Field(validation_alias="is_default", description=DEFAULT_DESCRIPTION)
    has_webhook_secret: bool = Field(description="Whether a webhook secret is set (the secret is never shown).")
    created_at: datetime = Field(description="When the integration was created (UTC).")
    updated_at: datetime = Field(description="When the integration last changed (UTC).")
    version: int = Field(description="How many times the integration has been written; starts at 1.")

    @field_validator("settings", "status_map")
    @classmethod
    def _keys_in_order(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Keys in code-point order, however the database keeps them (JSONB has an order of its own): an
        integration read back shows the bytes it showed when written, and so keeps its ETag."""
        return dict(sorted(value.items()))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def webhook_path(self) -> str:
        """Where the tracker must send its webhooks (prefix it with this service's public URL)."""
        return f"/v1/webhooks/{self.kind.value}/{self.id}"


_version = version_column()


class Integration(IdMixin, TimestampMixin, table=True):
    __tablename__ = "integration"
    __mapper_args__ = {"version_id_col": _version}  # noqa: RUF012

    kind: TrackerKind = SQLField(sa_type=enum_type(TrackerKind))
    name: str = SQLField(max_length=100, unique=True)
    base_url: str = SQLField(max_length=500)
    settings: dict[str, Any] = SQLField(default_factory=dict, sa_type=JSONValue)
    credentials: str = SQLField(sa_type=sa.Text, description="Sealed token (see integrations.secrets).")
    webhook_secret: str | None = SQLField(default=None, sa_type=sa.Text, description="Sealed secret.")
    push_policy: PushPolicy = SQLField(sa_type=enum_type(PushPolicy))
    status_map: dict[str, str] = SQLField(default_factory=dict, sa_type=JSONValue)
    is_default: bool = SQLField(default=False)
    version: int = SQLField(default=1, sa_column=_version)

    @property
    def has_webhook_secret(self) -> bool:
        return self.webhook_secret is not None
