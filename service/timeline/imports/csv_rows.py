"""CSV: a timeline kept in a spreadsheet, with the header `occurred_at,kind,description,source`.

Columns may come in any order and `source` may be left out (or empty: the row's source is then
"CSV"). Times without an offset are UTC, as spreadsheets drop offsets. A row has no id of its own,
so its id is a hash of its values: the same row imported again is recognised, an edited one is new.
"""

import csv
import hashlib
import io
import json
import re

from service.timeline.imports.models import ImportOptions, Parsed
from service.timeline.imports.reading import Faults, unprocessable
from service.timeline.models import EventKind

DEFAULT_SOURCE = "CSV"
REQUIRED = ("occurred_at", "kind", "description")
COLUMNS = (*REQUIRED, "source")
KINDS = tuple(kind.value for kind in EventKind)
NAIVE_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


def read(body: bytes, options: ImportOptions) -> Parsed:
    try:
        text = body.decode("utf-8-sig")  # spreadsheets often start their CSV with a byte order mark
    except UnicodeDecodeError as exc:
        raise unprocessable(f"byte {exc.start} is not UTF-8", "encoding") from exc
    if not text.strip():
        raise unprocessable("the body is empty", "missing")
    faults = Faults()
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
        columns = _columns(header, faults)
        parsed = Parsed()
        line = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                _read_row(row, line, columns, parsed, faults)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise unprocessable(f"line {reader.line_num}: {exc}", "csv_invalid") from exc
    faults.raise_if_any()
    return parsed


def _columns(header: list[str], faults: Faults) -> dict[str, int]:
    for name in header:
        if name not in COLUMNS:
            faults.add(f"line 1: {name}", f"unknown column; the columns are {', '.join(COLUMNS)}", "unknown_column", 1)
    for name in REQUIRED:
        if name not in header:
            faults.add(f"line 1: {name}", "missing column", "missing", 1)
    faults.raise_if_any()  # the rows cannot be read without their columns
    return {name: header.index(name) for name in COLUMNS if name in header}


def _read_row(row: list[str], line: int, columns: dict[str, int], parsed: Parsed, faults: Faults) -> None:
    if len(row) > len(columns):
        faults.add(
            f"line {line}", f"{len(row)} cells, but the header names {len(columns)} columns", "extra_cells", line
        )
        return
    cells = {name: row[index].strip() if index < len(row) else "" for name, index in columns.items()}
    occurred_at = cells["occurred_at"]
    if NAIVE_TIMESTAMP.match(occurred_at):
        occurred_at = occurred_at.replace(" ", "T") + "Z"
    timestamp = faults.timestamp(occurred_at, f"line {line}: occurred_at", line)
    kind = cells["kind"].lower() or EventKind.OTHER.value
    if kind not in KINDS:
        faults.add(f"line {line}: kind", f"unknown kind; expected one of {', '.join(KINDS)}", "enum", line)
        return
    if timestamp is None:
        return
    source = cells.get("source") or DEFAULT_SOURCE
    row_id = json.dumps([timestamp.isoformat(), kind, cells["description"], source])
    values = {
        "occurred_at": timestamp,
        "kind": kind,
        "description": cells["description"],
        "source": source,
        "source_id": hashlib.sha256(row_id.encode()).hexdigest(),
    }
    event = faults.event(lambda name: f"line {line}: {name}", values, line)
    if event is not None:
        parsed.events.append(event)
