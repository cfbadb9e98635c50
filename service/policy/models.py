import uuid

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from service.core.schemas import InputModel, Label, WholeNumber
from service.policy.enums import NearMissPotential, ReasonCode
from service.postmortems.enums import Severity, Template


class IncidentFacts(InputModel):
    """What is known about an incident when it closes.

    The impact facts are required, so that a forgotten one is a 422 rather than a silent "no".
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "severity": "P3",
                    "duration_minutes": 45,
                    "customer_facing": False,
                    "data_loss": False,
                    "security_involved": False,
                    "near_miss": False,
                    "failure_mode": "config-push",
                },
                {
                    "severity": "P3",
                    "duration_minutes": 0,
                    "customer_facing": False,
                    "data_loss": False,
                    "security_involved": False,
                    "near_miss": True,
                    "near_miss_potential": "high",
                },
            ]
        }
    )

    severity: Severity = Field(description="The incident's severity, as a postmortem records it.")
    duration_minutes: WholeNumber = Field(ge=0, description="Minutes from start to resolution.", examples=[45])
    customer_facing: StrictBool = Field(description="Customers noticed: errors, slowness or missing features.")
    data_loss: StrictBool = Field(description="Data was lost or corrupted.")
    security_involved: StrictBool = Field(description="A security control failed or was bypassed.")
    near_miss: StrictBool = Field(default=False, description="Caught before it did harm.")
    near_miss_potential: NearMissPotential | None = Field(
        default=None,
        description="How bad it could have been; required when `near_miss` is true, ignored otherwise.",
    )
    failure_mode: Label | None = Field(
        default=None,
        description=(
            "The incident's failure mode, as postmortems record it (exact match). A postmortem with the same "
            "`failure_mode` in the repeat window makes this incident a repeat."
        ),
        examples=["config-push"],
    )


class Reason(BaseModel):
    code: ReasonCode = Field(description="The rule that applies.")
    message: str = Field(
        description="The rule, said of this incident.", examples=["It lasted 45 minutes, longer than 30."]
    )


class PolicyDecision(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "required": True,
                    "template": "quick",
                    "reasons": [
                        {"code": "duration", "message": "It lasted 45 minutes, longer than 30."},
                        {
                            "code": "repeat",
                            "message": "Failure mode 'config-push' already has a postmortem from the last 90 days.",
                        },
                    ],
                    "related_postmortem_ids": ["0190c6a0-5b3c-7d2e-8f41-6a7b8c9d0e1f"],
                }
            ]
        }
    )

    required: bool = Field(description="Whether a postmortem is owed.")
    template: Template | None = Field(description="The template to write it with; null when none is owed.")
    reasons: list[Reason] = Field(description="Every rule that applies, in a fixed order; empty when none does.")
    related_postmortem_ids: list[uuid.UUID] = Field(
        default_factory=list,
        description=(
            "Postmortems with the same `failure_mode` in the repeat window, newest first (at most ten): "
            "pass them as `related_postmortem_ids` when writing the new one."
        ),
    )
