"""A Markdown document back into a postmortem, its timeline and action items.

The inverse of `render`, and lenient with documents written by hand: headings and labels are
matched case-insensitively, sections may come in any order and under their standard or quick
heading, tables may omit optional columns or reorder them, and times without an offset are UTC.
Every line that cannot be read is reported, with its section, and so is every value that does
not validate; nothing is written unless the whole document is valid.
"""

import re
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from service.action_items.models import ActionItemCreate, ItemStatus
from service.core.errors import FieldError, Unprocessable
from service.documents import layout, text
from service.documents.models import (
    Origin,
    ParsedDocument,
    ParsedRecord,
    Path,
    ValidDocument,
)
from service.postmortems.models import PostmortemCreate
from service.timeline.models import TimelineEventCreate

WHITESPACE = text.EDGE_WHITESPACE  # only these: other spaces (NBSP, ...) are text
TITLE = "Title"
METADATA = "Metadata"

HEADING = re.compile(r"^ {0,3}(?P<level>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
FIELD_BULLET = re.compile(r"^[-*+][ \t]+\*\*(?P<key>(?:\\.|[^\\*])+?)(?::\*\*|\*\*[ \t]*:)[ \t]*(?P<value>.*)$")
LIST_ITEM = re.compile(r"^[-*+][ \t]+(?P<value>.*)$")
CHECKLIST_ITEM = re.compile(r"^[-*+][ \t]+\[(?P<box>[ xX])\](?:[ \t]+(?P<rest>.*))?$")
FIVE_WHY = re.compile(r"^\d{1,3}[.)][ \t]+\*\*(?P<question>(?:\\.|[^\\*])+)\*\*[ \t]*(?P<answer>.*)$")
BOLD_TITLE = re.compile(r"^\*\*(?P<title>(?:\\.|[^\\*])+)\*\*(?P<rest>.*)$")
DETAILS_HEADING = re.compile(r"^(?P<number>\d{1,4})[.)]?(?:[ \t].*)?$")
LINK = re.compile(r"\[(?P<title>(?:\\.|[^\\\]])*)\]\((?P<url>(?:\\.|[^\\)])*)\)")
DELIMITER_CELL = re.compile(r"^:?-+:?$")
NAIVE_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
TITLE_SEPARATORS = ("\u2014", "\u2013", "-")  # em dash, en dash, hyphen

M = TypeVar("M", bound=BaseModel)


class _Line:
    __slots__ = ("number", "text")

    def __init__(self, number: int, line: str) -> None:
        self.number = number
        self.text = line

    @property
    def blank(self) -> bool:
        return not self.text.strip(WHITESPACE)


def read(markdown: str) -> ValidDocument:
    """The document's values, validated; `Unprocessable` lists every line at fault otherwise."""
    reader = _Reader(markdown)
    parsed = reader.read()
    valid = None if reader.empty else _validate(parsed, reader.errors, reader.title_line)
    if reader.errors:
        errors = sorted(reader.errors, key=lambda error: error.line or 0)
        noun = "error" if len(errors) == 1 else "errors"
        raise Unprocessable(f"the document has {len(errors)} {noun}", errors)
    assert valid is not None
    return valid


def located(origin: Origin, field: str, message: str, code: str) -> FieldError:
    """An error at a line of the document: `field` names the section, the message starts with the line."""
    prefix = f"{field}: " if field else ""
    return FieldError(origin.section, f"line {origin.line}: {prefix}{message}", code, "body", origin.line)


def origin_of(path: Path, origins: dict[Path, Origin], fallback: Origin) -> Origin:
    """The origin of the longest recorded prefix of `path`."""
    for length in range(len(path), 0, -1):
        if (origin := origins.get(path[:length])) is not None:
            return origin
    return fallback


def _is_row(line: str) -> bool:
    """A table row: cells between pipes (the outer ones are optional, as in GitHub's tables)."""
    return len(text.split_unescaped(line.strip(WHITESPACE), "|")) > 1


def _timestamp(raw: str | None) -> str | None:
    """Times in a document are UTC: one written without an offset gets `Z`."""
    if raw is not None and NAIVE_TIMESTAMP.match(raw.strip()):
        return raw.strip() + "Z"
    return raw


def _without_none(values: dict[str, Any], *names: str) -> dict[str, Any]:
    """Drop `names` whose value is missing, so that the model's defaults apply."""
    return {name: value for name, value in values.items() if not (name in names and value is None)}


class _Reader:
    def __init__(self, markdown: str) -> None:
        markdown = markdown.removeprefix("\ufeff")
        self.lines = [_Line(number, line.removesuffix("\r")) for number, line in enumerate(markdown.split("\n"), 1)]
        self.errors: list[FieldError] = []
        self.document = ParsedDocument()
        self.title_line = 1
        self.seen_quick_heading = False
        self.table_rows = 0
        self.empty = False

    # Reporting

    def error(self, line: int, section: str, message: str, code: str) -> None:
        self.errors.append(located(Origin(line, section), "", message, code))

    def record(self, path: Path, line: int, section: str) -> None:
        self.document.origins[path] = Origin(line, section)

    # The document

    def read(self) -> ParsedDocument:
        content = [line for line in self.lines if not line.blank]
        if not content:
            self.error(1, TITLE, "the document is empty; it starts with a `# title` heading", "empty_document")
            self.empty = True
            return self.document
        first = content[0]
        match = HEADING.match(first.text)
        self.title_line = start = first.number  # 0-based index of the line after the title
        if match is not None and len(match["level"]) == 1:
            self.document.postmortem["title"] = text.decode_inline(match["text"] or "")
            self.record(("title",), first.number, TITLE)
        else:
            self.error(first.number, TITLE, "expected the title as a `# ` heading first", "missing_title")
            self.document.postmortem["title"] = None  # reported: not again as missing
            self.record(("title",), first.number, TITLE)
            if match is not None and len(match["level"]) == 2:
                start -= 1  # read it as the first section
        sections: list[tuple[_Line, list[_Line]]] = []
        metadata: list[_Line] = []
        current = metadata
        for line in self.lines[start:]:
            match = HEADING.match(line.text)
            if match is not None and len(match["level"]) == 1:
                section = sections[-1][0].text if sections else METADATA
                self.error(line.number, section, "a document has one `#` title; sections are `##` headings", "title")
            elif match is not None and len(match["level"]) == 2:
                current = []
                sections.append((line, current))
            else:
                current.append(line)
        self._metadata(metadata)
        seen: dict[str, int] = {}
        for heading, body in sections:
            self._section(heading, body, seen)
        if "template" not in self.document.postmortem and self.seen_quick_heading:
            self.document.postmortem["template"] = "quick"
        return self.document

    # Metadata

    def _metadata(self, lines: list[_Line]) -> None:
        handlers: dict[str, Callable[[str, _Line], None]] = {
            layout.normalize(layout.SEVERITY): self._scalar("severity"),
            layout.normalize(layout.TEMPLATE): self._scalar("template"),
            layout.normalize(layout.INCIDENT): self._scalar("incident_ref"),
            layout.normalize(layout.FAILURE_MODE): self._scalar("failure_mode"),
            layout.normalize(layout.TRACKER): self._scalar("integration_id"),
            layout.normalize(layout.CUSTOMER_DATA): self._customer_data,
            layout.normalize(layout.RELATED): self._list_value("related_postmortem_ids"),
            layout.normalize(layout.LINKS): self._links,
            layout.normalize(layout.REVIEW_MEETING): self._review("scheduled_at", timestamp=True),
            layout.normalize(layout.REVIEW_FACILITATOR): self._review("facilitator"),
            layout.normalize(layout.REVIEW_ATTENDEES): self._review("attendees", listed=True),
            layout.normalize(layout.REVIEW_NOTES): self._review("notes"),
        }
        for name, field in layout.LIST_LABELS.items():
            handlers[layout.normalize(name)] = self._list_value(field)
        for name, field in layout.TIMESTAMP_LABELS.items():
            handlers[layout.normalize(name)] = self._scalar(field, timestamp=True)
        seen: set[str] = set()
        for line in lines:
            if line.blank:
                continue
            match = FIELD_BULLET.match(line.text)
            if match is None:
                self.error(line.number, METADATA, "expected a metadata line `- **Field:** value`", "malformed_line")
                continue
            key = layout.normalize(text.decode(match["key"]))
            if key in seen:
                self.error(line.number, METADATA, f"{match['key']!r} is given twice", "duplicate_field")
                continue
            seen.add(key)
            if key in layout.INFORMATIONAL:
                continue
            handler = handlers.get(key)
            if handler is None:
                self.error(line.number, METADATA, f"unknown field {match['key']!r}", "unknown_field")
                continue
            handler(match["value"], line)

    def _scalar(self, field: str, *, timestamp: bool = False) -> Callable[[str, _Line], None]:
        def handle(raw: str, line: _Line) -> None:
            value = text.decode_inline(raw)
            self.document.postmortem[field] = _timestamp(value) if timestamp else value
            self.record((field,), line.number, METADATA)

        return handle

    def _list_value(self, field: str) -> Callable[[str, _Line], None]:
        def handle(raw: str, line: _Line) -> None:
            self.document.postmortem[field] = self._split_list(raw)
            self.record((field,), line.number, METADATA)

        return handle

    @staticmethod
    def _split_list(raw: str) -> list[str | None]:
        if text.decode_inline(raw) is None:
            return []
        return [text.decode_inline(part) for part in text.split_unescaped(raw, text.LIST_SEPARATOR)]

    def _customer_data(self, raw: str, line: _Line) -> None:
        value = text.decode_inline(raw)
        if value is None:
            return
        word = value.strip().lower()
        if word not in layout.CUSTOMER_DATA_WORDS:
            self.error(line.number, METADATA, "customer data affected is yes, no or unknown", "invalid_choice")
            return
        self.document.postmortem["customer_data_affected"] = layout.CUSTOMER_DATA_WORDS[word]
        self.record(("customer_data_affected",), line.number, METADATA)

    def _links(self, raw: str, line: _Line) -> None:
        links: list[dict[str, Any]] = []
        rest = raw.strip(WHITESPACE)
        if text.decode_inline(rest) is not None:
            while rest:
                match = LINK.match(rest)
                if match is None:
                    self.error(line.number, METADATA, "expected links as `[title](url)`, separated by commas", "links")
                    return
                links.append({"title": text.decode_inline(match["title"]), "url": text.decode_url(match["url"])})
                rest = rest[match.end() :].strip(WHITESPACE)
                if rest.startswith(","):
                    rest = rest[1:].strip(WHITESPACE)
                elif rest:
                    self.error(line.number, METADATA, "expected a comma between links", "links")
                    return
        self.document.postmortem["links"] = links
        self.record(("links",), line.number, METADATA)

    def _review(self, field: str, *, timestamp: bool = False, listed: bool = False) -> Callable[[str, _Line], None]:
        def handle(raw: str, line: _Line) -> None:
            meeting = self.document.postmortem.setdefault("review_meeting", {})
            assert isinstance(meeting, dict)
            if listed:
                meeting[field] = self._split_list(raw)
            else:
                value = text.decode_inline(raw)
                meeting[field] = _timestamp(value) if timestamp else value
            self.document.origins.setdefault(("review_meeting",), Origin(line.number, METADATA))
            self.record(("review_meeting", field), line.number, METADATA)

        return handle

    # Sections

    def _section(self, heading: _Line, body: list[_Line], seen: dict[str, int]) -> None:
        match = HEADING.match(heading.text)
        assert match is not None
        name = layout.heading_text(match["text"] or "")
        normalized = layout.normalize(name)
        key = layout.SECTION_KEYS.get(normalized)
        if key is None:
            expected = ", ".join(layout.SECTION_NAMES)
            self.error(
                heading.number, name, f"unknown section {name!r}; expected one of: {expected}", "unknown_section"
            )
            return
        if key in seen:
            self.error(
                heading.number, name, f"section {name!r} repeats the one on line {seen[key]}", "duplicate_section"
            )
            return
        seen[key] = heading.number
        self.seen_quick_heading |= normalized in layout.QUICK_ONLY
        if key in (layout.SUMMARY, layout.LESSONS_LEARNED):
            self._block(key, body, name, heading)
        elif key == layout.ROOT_CAUSE:
            self._root_cause(body, name, heading)
        elif key == layout.IMPACT:
            self._impact(body, name)
        elif key == layout.TIMELINE:
            self._timeline(body, name)
        elif key == layout.ACTION_ITEMS:
            self._action_items(body, name)
        else:
            self._list(key, body, name)

    def _block(self, field: str, body: list[_Line], section: str, heading: _Line) -> None:
        self.document.postmortem[field] = text.decode_block([line.text for line in body])
        first = next((line.number for line in body if not line.blank), heading.number)
        self.record((field,), first, section)

    def _root_cause(self, body: list[_Line], section: str, heading: _Line) -> None:
        split = next(
            (
                index
                for index, line in enumerate(body)
                if (match := HEADING.match(line.text)) is not None
                and len(match["level"]) == 3
                and layout.normalize(layout.heading_text(match["text"] or "")) == layout.normalize(layout.FIVE_WHYS)
            ),
            None,
        )
        if split is None:
            self._block("root_cause", body, section, heading)
            return
        self._block("root_cause", body[:split], section, heading)
        five_whys: list[dict[str, Any]] = []
        for line in body[split + 1 :]:
            if line.blank:
                continue
            match = FIVE_WHY.match(line.text)
            if match is None:
                self.error(line.number, layout.FIVE_WHYS, "expected `1. **Question?** Answer`", "malformed_line")
                continue
            self.record(("five_whys", len(five_whys)), line.number, layout.FIVE_WHYS)
            five_whys.append(
                {"question": text.decode_inline(match["question"]), "answer": text.decode_inline(match["answer"])}
            )
        self.document.postmortem["five_whys"] = five_whys

    def _list(self, field: str, body: list[_Line], section: str) -> None:
        values: list[str | None] = []
        for line in body:
            if line.blank:
                continue
            match = LIST_ITEM.match(line.text)
            if match is not None:
                self.record((field, len(values)), line.number, section)
                values.append(text.decode_inline(match["value"]))
            elif line.text[:1] in (" ", "\t") and values:  # a wrapped item goes on
                previous = values[-1]
                values[-1] = f"{previous}\n{text.decode_inline(line.text)}" if previous is not None else None
            else:
                self.error(line.number, section, "expected a list item `- ...`", "malformed_line")
        self.document.postmortem[field] = values
        self.record((field,), body[0].number if body else self.title_line, section)

    def _impact(self, body: list[_Line], section: str) -> None:
        if all(line.blank for line in body):
            self.document.postmortem["impact"] = None
            return
        impact: dict[str, Any] = {}
        labels = {layout.normalize(name): field for name, field in layout.IMPACT_LABELS.items()}
        index = 0
        while index < len(body):
            line = body[index]
            match = FIELD_BULLET.match(line.text)
            if not line.blank and match is None:
                break
            index += 1
            if match is None:
                continue
            field = labels.get(layout.normalize(text.decode(match["key"])))
            if field is None:
                self.error(line.number, section, f"unknown field {match['key']!r}", "unknown_field")
                continue
            if field in impact:
                self.error(line.number, section, f"{match['key']!r} is given twice", "duplicate_field")
                continue
            value = text.decode_inline(match["value"])
            if field == "users_affected" and value is not None:
                digits = re.sub(r"[,_ ]", "", value)
                impact[field] = int(digits) if digits.isdigit() else value
            else:
                impact[field] = value
            self.record(("impact", field), line.number, section)
        description = body[index:]
        if description:
            impact["description"] = text.decode_block([line.text for line in description])
            self.record(("impact", "description"), description[0].number, section)
        self.document.postmortem["impact"] = impact
        self.record(("impact",), body[0].number, section)

    # Tables

    def _table(
        self, body: list[_Line], section: str, columns: dict[str, str], aliases: dict[str, str], required: set[str]
    ) -> tuple[dict[int, tuple[_Line, dict[str, str]]], list[_Line]]:
        """The rows of the table that opens `body` by position (from 1), as {field: raw cell}, and the lines after it.

        A row with the wrong number of cells is reported and left out.
        """
        lines = list(body)
        while lines and lines[0].blank:
            lines.pop(0)
        if not lines:
            return {}, []
        header = lines[0]
        if not _is_row(header.text):
            self.error(header.number, section, "expected a table (`| ... |` rows)", "malformed_table")
            return {}, lines[1:]
        keys: list[str | None] = []
        for cell in self._cells(header.text):
            key = layout.column_key(text.decode_inline(cell) or "", columns, aliases)
            if key is None or key in keys:
                expected = ", ".join(columns)
                problem = "repeated" if key is not None else "unknown"
                self.error(header.number, section, f"{problem} column {cell.strip()!r}; expected: {expected}", "column")
            keys.append(key)
        for missing in sorted(required - set(keys)):
            name = next(heading for heading, key in columns.items() if key == missing)
            self.error(header.number, section, f"the table needs a {name!r} column", "missing_column")
        rest = lines[1:]
        if not rest or not all(DELIMITER_CELL.match(cell.strip()) for cell in self._cells(rest[0].text)):
            number = rest[0].number if rest else header.number
            self.error(number, section, "expected the table's delimiter row `| --- | --- |`", "malformed_table")
        else:
            rest = rest[1:]
        rows: dict[int, tuple[_Line, dict[str, str]]] = {}
        position = 0
        while rest and _is_row(rest[0].text):
            line = rest.pop(0)
            position += 1
            cells = self._cells(line.text)
            if len(cells) != len(keys):
                self.error(line.number, section, f"expected {len(keys)} table cells, found {len(cells)}", "table_cells")
                continue
            rows[position] = (line, {key: cell for key, cell in zip(keys, cells, strict=True) if key is not None})
        self.table_rows = position
        return rows, rest

    @staticmethod
    def _cells(row: str) -> list[str]:
        """The cells of a table row; its outer pipes are optional, `\\|` is a pipe inside a cell."""
        row = row.strip(WHITESPACE).removeprefix("|")
        if row.endswith("|"):
            backslashes = len(row[:-1]) - len(row[:-1].rstrip("\\"))
            if backslashes % 2 == 0:
                row = row[:-1]
        return text.split_unescaped(row, "|")

    def _timeline(self, body: list[_Line], section: str) -> None:
        rows, rest = self._table(
            body, section, layout.TIMELINE_COLUMNS, layout.TIMELINE_ALIASES, {"occurred_at", "description"}
        )
        for line in rest:
            if not line.blank:
                self.error(line.number, section, "expected only the timeline table here", "malformed_line")
        for line, cells in rows.values():
            values = {field: text.decode_inline(raw) for field, raw in cells.items()}
            values["occurred_at"] = _timestamp(values.get("occurred_at"))
            origin = Origin(line.number, section)
            self.document.events.append(
                ParsedRecord(_without_none(values, "kind"), {(field,): origin for field in values}, origin)
            )

    def _action_items(self, body: list[_Line], section: str) -> None:
        first = next((line for line in body if not line.blank), None)
        if first is None:
            return
        if CHECKLIST_ITEM.match(first.text):
            self._checklist(body, section)
        else:
            self._action_item_table(body, section)

    def _action_item_table(self, body: list[_Line], section: str) -> None:
        rows, rest = self._table(body, section, layout.ACTION_ITEM_COLUMNS, layout.ACTION_ITEM_ALIASES, {"title"})
        items: dict[int, ParsedRecord] = {}
        for position, (line, cells) in rows.items():
            values = {field: text.decode_inline(raw) for field, raw in cells.items() if field != "ticket"}
            origin = Origin(line.number, section)
            items[position] = ParsedRecord(
                _without_none(values, "status", "kind"), {(field,): origin for field in values}, origin
            )
            self.document.items.append(items[position])
        # After the table: `### N. title` per item that has a description or a tracker integration.
        groups: list[tuple[str | None, _Line | None, list[_Line]]] = [(None, None, [])]
        for line in rest:
            match = HEADING.match(line.text)
            if match is not None and len(match["level"]) >= 3:
                groups.append((match["text"] or "", line, []))
            else:
                groups[-1][2].append(line)
        described: set[int] = set()
        for heading_text, heading, lines in groups:
            if heading_text is None or heading is None:
                for line in lines:
                    if not line.blank:
                        self.error(line.number, section, "expected `### N. title`: details of item N", "malformed_line")
                continue
            number = DETAILS_HEADING.match(heading_text)
            index = int(number["number"]) if number else 0
            if index in described or not 1 <= index <= self.table_rows:
                problem = f"repeats item {index}" if index in described else "names no row of the table"
                self.error(heading.number, section, f"`### N. title` {problem}", "malformed_line")
                continue
            described.add(index)
            if index in items:  # else its row was reported already
                self._item_details(items[index], lines, section)

    def _item_details(self, item: ParsedRecord, lines: list[_Line], section: str) -> None:
        index = 0
        while index < len(lines) and (lines[index].blank or FIELD_BULLET.match(lines[index].text)):
            line = lines[index]
            index += 1
            match = FIELD_BULLET.match(line.text)
            if match is None:
                continue
            if layout.normalize(text.decode(match["key"])) != layout.normalize(layout.TRACKER):
                self.error(line.number, section, f"unknown field {match['key']!r}", "unknown_field")
                continue
            item.values["integration_id"] = text.decode_inline(match["value"])
            item.origins[("integration_id",)] = Origin(line.number, section)
        description = lines[index:]
        if any(not line.blank for line in description):
            item.values["description"] = text.decode_block([line.text for line in description])
            item.origins[("description",)] = Origin(description[0].number, section)

    def _checklist(self, body: list[_Line], section: str) -> None:
        index = 0
        while index < len(body):
            line = body[index]
            index += 1
            if line.blank:
                continue
            match = CHECKLIST_ITEM.match(line.text)
            if match is None:
                self.error(
                    line.number, section, "expected a checklist item `- [ ] **title** — owner: ...`", "malformed_line"
                )
                continue
            description: list[_Line] = []
            while index < len(body) and (body[index].blank or body[index].text[:1] in (" ", "\t")):
                description.append(body[index])
                index += 1
            self._checklist_item(line, match["box"] != " ", match["rest"] or "", description, section)

    def _checklist_item(self, line: _Line, checked: bool, rest: str, description: list[_Line], section: str) -> None:
        origin = Origin(line.number, section)
        bold = BOLD_TITLE.match(rest)
        if bold is not None:
            raw_title, attributes = bold["title"], bold["rest"].strip(WHITESPACE)
        else:
            raw_title, _, attributes = rest.partition(f" {layout.TITLE_SEPARATOR} ")
            attributes = f"{layout.TITLE_SEPARATOR} {attributes}" if attributes else ""
        values: dict[str, Any] = {"title": text.decode_inline(raw_title)}
        if attributes:
            if not attributes.startswith(TITLE_SEPARATORS):
                self.error(
                    line.number, section, "expected ` — owner: ...; priority: ...` after the title", "malformed_line"
                )
            else:
                self._attributes(attributes[1:], values, line, section)
        implied = ItemStatus.DONE if checked else ItemStatus.OPEN
        status = values.setdefault("status", implied.value)
        allowed = {ItemStatus.DONE, ItemStatus.WONT_DO} if checked else {ItemStatus.OPEN, ItemStatus.IN_PROGRESS}
        if status in set(ItemStatus) and status not in allowed:
            box = "[x]" if checked else "[ ]"
            self.error(line.number, section, f"a {box} item cannot have status {status}", "status_mismatch")
        if any(not description_line.blank for description_line in description):
            values["description"] = text.decode_block([description_line.text for description_line in description])
        origins: dict[Path, Origin] = {(field,): origin for field in values}
        if "description" in values:
            first = next(description_line for description_line in description if not description_line.blank)
            origins[("description",)] = Origin(first.number, section)
        self.document.items.append(ParsedRecord(_without_none(values, "kind"), origins, origin))

    def _attributes(self, raw: str, values: dict[str, Any], line: _Line, section: str) -> None:
        for part in text.split_unescaped(raw, layout.ATTRIBUTE_SEPARATOR):
            if not part.strip(WHITESPACE):
                continue
            name, colon, value = part.partition(":")
            field = layout.CHECKLIST_ATTRIBUTES.get(name.strip().lower())
            if not colon or field is None:
                expected = ", ".join(layout.CHECKLIST_ATTRIBUTES)
                self.error(
                    line.number, section, f"unknown attribute {name.strip()!r}; expected: {expected}", "unknown_field"
                )
                continue
            if field in values:
                self.error(line.number, section, f"attribute {name.strip()!r} is given twice", "duplicate_field")
                continue
            if field != "ticket":
                values[field] = text.decode_inline(value)


# Validation


UPPERCASE_VALUES = frozenset({"severity", "priority"})
LOWERCASE_VALUES = frozenset({"template", "kind", "status"})


def _canonical(values: dict[str, Any]) -> dict[str, Any]:
    """Enumerated values as the API spells them: `p1` is P1, `In progress` is in_progress."""
    canonical = dict(values)
    for name, value in values.items():
        if isinstance(value, str) and name in UPPERCASE_VALUES:
            canonical[name] = value.strip().upper()
        elif isinstance(value, str) and name in LOWERCASE_VALUES:
            canonical[name] = "_".join(value.lower().split())
    return canonical


def _validate(parsed: ParsedDocument, errors: list[FieldError], title_line: int) -> ValidDocument | None:
    fallback = Origin(title_line, METADATA)
    postmortem = _model(PostmortemCreate, parsed.postmortem, parsed.origins, fallback, errors)
    events = [_model(TimelineEventCreate, event.values, event.origins, event.row, errors) for event in parsed.events]
    items = [_model(ActionItemCreate, item.values, item.origins, item.row, errors) for item in parsed.items]
    if postmortem is None or any(event is None for event in events) or any(item is None for item in items):
        return None
    return ValidDocument(
        postmortem=postmortem,
        events=[event for event in events if event is not None],
        items=[item for item in items if item is not None],
        parsed=parsed,
    )


def _model(
    model: type[M], values: dict[str, Any], origins: dict[Path, Origin], fallback: Origin, errors: list[FieldError]
) -> M | None:
    try:
        return model.model_validate(_canonical(values))
    except ValidationError as exc:
        for error in exc.errors():
            path = tuple(error["loc"])
            if error["type"] == "missing":
                message = "is required"
            elif error.get("input", "") is None:
                if path == ("title",):
                    continue  # the document has no title heading, as reported
                message = "is missing"
            else:
                message = str(error["msg"])
            field = ".".join(str(part) for part in path)
            errors.append(located(origin_of(path, origins, fallback), field, message, error["type"]))
        return None
