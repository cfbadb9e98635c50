from enum import StrEnum

from pydantic import BaseModel, Field


class Rule(StrEnum):
    BLAME_LANGUAGE = "blame-language"
    HUMAN_ERROR_ROOT_CAUSE = "human-error-root-cause"
    VAGUE_ACTION_ITEM = "vague-action-item"
    IMPRECISE_DATA = "imprecise-data"
    LENGTH_MISMATCH = "length-mismatch"
    MISSING_WHAT_WENT_WELL = "missing-what-went-well"
    UNLINKED_REPEAT_INCIDENT = "unlinked-repeat-incident"
    FACILITATOR_INVOLVED = "facilitator-involved"


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Finding(BaseModel):
    rule: Rule = Field(description="The rule that found it.")
    level: Level = Field(
        description="`error` findings of the rules in `POSTMORTEMS_REVIEW_BLOCKING_RULES` block `complete`."
    )
    field: str = Field(
        description="Where: a field (`root_cause`), a list entry (`contributing_factors[2]`, `five_whys[0].answer`) "
        "or a timeline event or action item by id (`timeline[<id>].description`, `action_items[<id>].owner`).",
        examples=["root_cause"],
    )
    excerpt: str | None = Field(
        description="The text at fault, usually its sentence; null when something is missing.",
        examples=["Dave pushed a bad config to production."],
    )
    message: str = Field(
        description="What is wrong.", examples=["'Dave' is made the actor of a failure: 'pushed a bad config'."]
    )
    suggestion: str = Field(
        description="How to fix it.",
        examples=["Make the system the subject: 'A config change reached production without validation'."],
    )


class Review(BaseModel):
    findings: list[Finding] = Field(description="Errors first, then warnings, then info; each in document order.")
