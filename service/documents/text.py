"""Plain text in Markdown and back, without loss.

Every value of a postmortem is plain text, and the document shows it literally:

- characters Markdown would act on (`\\ ` * _ [ ] < > | ~ & # $`) are backslash-escaped, as
  CommonMark allows for any ASCII punctuation (`\\*` renders as `*`); so are `-`, `+` and `=` and
  the `.` or `)` after digits where they would start a list or a heading underline;
- spaces and tabs at the edges of a value (or of a line of a paragraph) and control characters are
  numeric character references (`&#32;`), which Markdown renders as the character itself;
- inside a one-line context (a heading, a list item, a table cell) a newline is `<br>`;
- a missing value (`null`) is `—`, and the empty string is `<!-- empty -->`.

`decode_inline` and `decode_block` invert `inline` and `block` exactly; they also read what people
write by hand (unescaped text, `-` for nothing, named entities such as `&amp;`).
"""

import re
from collections.abc import Iterable, Sequence

NONE = "—"
EMPTY = "<!-- empty -->"
BREAK = "<br>"
LIST_SEPARATOR = ","

ALWAYS_ESCAPED = frozenset("\\`*_[]<>|~&#$")
LINE_START_ESCAPED = frozenset("-+=")
EDGE_WHITESPACE = " \t"
URL_ESCAPED = frozenset("\\()<>|;")
_NONE_SPELLINGS = frozenset({NONE, "-", "\u2013"})  # em dash, hyphen, en dash
_ORDERED_MARKER = re.compile(r"\d{1,9}(?=[.)](?:[ \t]|$))")  # "1. " starts a list, "99.9%" does not
_NAMED_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "nbsp": "\u00a0"}
_TOKEN = re.compile(
    r"\\([!-/:-@\[-`{-~])"  # a backslash escape of ASCII punctuation
    r"|<br\s*/?>"
    r"|&#([0-9]{1,7});"
    r"|&#[xX]([0-9a-fA-F]{1,6});"
    r"|&(amp|lt|gt|quot|apos|nbsp);",
    re.IGNORECASE,
)


def _needs_reference(character: str) -> bool:
    """Characters editors or line splitters could change: controls, line separators, a byte-order mark."""
    code = ord(character)
    return (code < 0x20 and character != "\t") or 0x7F <= code <= 0x9F or character in "\u2028\u2029\ufeff"


def _reference(character: str) -> str:
    return f"&#{ord(character)};"


def _escape_segment(text: str, extra: frozenset[str], *, line_start: bool) -> str:
    """One line of text (no newline) escaped; `line_start` when it begins a line of the document."""
    body = text.strip(EDGE_WHITESPACE)
    if not body:
        return "".join(_reference(character) for character in text)
    lead = text[: len(text) - len(text.lstrip(EDGE_WHITESPACE))]
    trail = text[len(text.rstrip(EDGE_WHITESPACE)) :]
    forced: set[int] = set()
    if line_start and not lead:
        if body[0] in LINE_START_ESCAPED:
            forced.add(0)
        elif marker := _ORDERED_MARKER.match(body):
            forced.add(marker.end())
    out = [_reference(character) for character in lead]
    for index, character in enumerate(body):
        if character in ALWAYS_ESCAPED or character in extra or index in forced:
            out.append("\\" + character)
        elif _needs_reference(character):
            out.append(_reference(character))
        else:
            out.append(character)
    out.extend(_reference(character) for character in trail)
    return "".join(out)


def inline(value: str | None, *, extra: Iterable[str] = (), line_start: bool = True) -> str:
    """`value` on one line: newlines become `<br>`; `extra` characters are escaped too (separators)."""
    if value is None:
        return NONE
    if value == "":
        return EMPTY
    if value in _NONE_SPELLINGS:
        return "".join(_reference(character) for character in value)
    escaped = frozenset(extra)
    segments = value.split("\n")
    return BREAK.join(
        _escape_segment(segment, escaped, line_start=line_start and index == 0)
        for index, segment in enumerate(segments)
    )


def inline_list(values: Sequence[str]) -> str:
    """Labels separated by `, `; a comma inside a label is escaped."""
    return ", ".join(inline(value, extra=LIST_SEPARATOR, line_start=index == 0) for index, value in enumerate(values))


def url(value: str) -> str:
    """A link destination: only what would end it or change it is escaped."""
    return "".join("\\" + character if character in URL_ESCAPED else character for character in value)


def block(value: str | None) -> list[str]:
    """`value` as the lines of a paragraph block; none for `None`.

    Each line of the value is a line of the document. Newlines at its very start or end, which a
    blank line could not carry, are `<br>`.
    """
    if value is None:
        return []
    if value == "":
        return [EMPTY]
    core = value.strip("\n")
    leading = len(value) - len(value.lstrip("\n"))
    trailing = len(value) - len(value.rstrip("\n"))
    if not core:
        return [BREAK * len(value)]
    lines = [_escape_segment(line, frozenset(), line_start=True) for line in core.split("\n")]
    lines[0] = BREAK * leading + lines[0]
    lines[-1] = lines[-1] + BREAK * trailing
    if len(lines) == 1 and lines[0] in _NONE_SPELLINGS:
        lines = ["".join(_reference(character) for character in lines[0])]
    return lines


def _replace(match: re.Match[str]) -> str:
    escaped, decimal, hexadecimal, named = match.groups()
    if escaped is not None:
        return escaped
    if decimal is not None or hexadecimal is not None:
        code = int(decimal) if decimal is not None else int(hexadecimal, 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return "\ufffd"  # as CommonMark reads them (NUL is kept, for validation to refuse)
        return chr(code)
    if named is not None:
        return _NAMED_ENTITIES[named.lower()]
    return "\n"


def decode(raw: str) -> str:
    """Undo escapes, character references and `<br>`."""
    return _TOKEN.sub(_replace, raw)


def decode_inline(raw: str) -> str | None:
    """A one-line value as written by `inline`: `None` for nothing, `—` or `-`."""
    raw = raw.strip(EDGE_WHITESPACE)
    if raw == "" or raw in _NONE_SPELLINGS:
        return None
    if raw == EMPTY:
        return ""
    return decode(raw)


def decode_url(raw: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", raw.strip(EDGE_WHITESPACE))


def decode_block(lines: Sequence[str]) -> str | None:
    """A paragraph block as written by `block`: `None` when it has no text."""
    stripped = [line.strip(EDGE_WHITESPACE) for line in lines]
    while stripped and not stripped[0]:
        stripped.pop(0)
    while stripped and not stripped[-1]:
        stripped.pop()
    if not stripped or (len(stripped) == 1 and stripped[0] in _NONE_SPELLINGS):
        return None
    if stripped == [EMPTY]:
        return ""
    return decode("\n".join(stripped))


_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|amp|lt|gt|quot|apos|nbsp);", re.IGNORECASE)


def split_unescaped(raw: str, separator: str) -> list[str]:
    """`raw` split at each `separator` character that is not backslash-escaped or inside a `&#...;` reference."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(raw):
        character = raw[index]
        if character == "\\" and index + 1 < len(raw):
            current.append(raw[index : index + 2])
            index += 2
            continue
        if character == "&" and (reference := _REFERENCE.match(raw, index)) is not None:
            current.append(reference.group())
            index = reference.end()
            continue
        if character == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(character)
        index += 1
    parts.append("".join(current))
    return parts
