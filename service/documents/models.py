from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import ConfigDict, Field

from service.action_items.models import ActionItemCreate, ActionItemRead
from service.core.schemas import InputModel
from service.postmortems.models import PostmortemCreate, PostmortemRead
from service.timeline.models import TimelineEventCreate, TimelineEventRead

MARKDOWN_MEDIA_TYPE = "text/markdown"


class ExportFormat(StrEnum):
    MARKDOWN = "markdown"
    JSON = "json"


class Audience(StrEnum):
    INTERNAL = "internal"
    PUBLIC = "public"


class MarkdownImport(InputModel):
    """A Markdown document to import, sent as JSON: the same import as a `text/markdown` body."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "markdown": "# Checkout outage after config push\n\n- **Severity:** P3\n\n## Summary\n\n"
                    "Checkout failed for 45 minutes after a config push.\n"
                }
            ]
        }
    )

    markdown: str = Field(
        min_length=1, description="A postmortem in the standard or quick Markdown template, as exported."
    )


class PostmortemDocument(PostmortemRead):
    """A postmortem with its whole timeline and every action item."""

    timeline: list[TimelineEventRead] = Field(description="Every event, in `occurred_at` order.")
    action_items: list[ActionItemRead] = Field(description="Every action item, in creation order.")


Path = tuple[str | int, ...]
"""Where a value goes in the create models, e.g. `("five_whys", 2, "answer")`."""


@dataclass(frozen=True, slots=True)
class Origin:
    """The line of the document a value came from, and its section."""

    line: int
    section: str


@dataclass(slots=True)
class ParsedRecord:
    """A timeline event or an action item: its values, where each came from, and its own line."""

    values: dict[str, object]
    origins: dict[Path, Origin]
    row: Origin


@dataclass(slots=True)
class ParsedDocument:
    """A document read into the values of the create models, each traced back to its line."""

    postmortem: dict[str, object] = field(default_factory=dict)
    origins: dict[Path, Origin] = field(default_factory=dict)
    events: list[ParsedRecord] = field(default_factory=list)
    items: list[ParsedRecord] = field(default_factory=list)


@dataclass(slots=True)
class ValidDocument:
    """A parsed document whose values all validated, ready to be written."""

    postmortem: PostmortemCreate
    events: list[TimelineEventCreate]
    items: list[ActionItemCreate]
    parsed: ParsedDocument
