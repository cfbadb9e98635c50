"""Import Markdown postmortems from files and folders, one transaction per file (`postmortems import`)."""

import asyncio
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import service.models  # noqa: F401 - every table mapped, as in the app: an import reaches the outbox and the index
from service.action_items.slo import SloDays
from service.core.database import Database
from service.core.errors import DomainError
from service.documents import service as documents_service


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a file was not imported; `line` and `section` when a line of it is at fault."""

    path: Path
    reason: str
    line: int | None = None
    section: str | None = None

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.reason}"
        return f"{self.path}:{self.line}: {self.section}: {self.reason}"


@dataclass(slots=True)
class Report:
    imported: list[tuple[Path, uuid.UUID]]
    failures: list[Failure]

    def lines(self) -> list[str]:
        """What was imported, the counts, then every failure: file, line, section and reason."""
        failed = len({failure.path for failure in self.failures})
        return [
            *(f"imported {path} as {postmortem_id}" for path, postmortem_id in self.imported),
            f"{len(self.imported)} imported, {failed} failed",
            *(f"failed: {failure}" for failure in self.failures),
        ]


def markdown_files(paths: Iterable[Path]) -> tuple[list[Path], list[Failure]]:
    """Files as given, and the `*.md` files in folders (recursively, sorted); missing paths are failures."""
    files: dict[Path, None] = {}
    missing = []
    for path in paths:
        if path.is_dir():
            files |= dict.fromkeys(sorted(found for found in path.rglob("*.md") if found.is_file()))
        elif path.is_file():
            files[path] = None
        else:
            missing.append(Failure(path, "no such file or folder"))
    return list(files), missing


async def import_files(
    files: Sequence[Path],
    database: Database,
    *,
    slo_days: SloDays,
    on_done: Callable[[Path], None] = lambda _: None,
) -> Report:
    """Each file in its own transaction, through the same code as `POST /v1/postmortems/import`."""
    report = Report(imported=[], failures=[])
    for path in files:
        outcome = await _import_file(path, database, slo_days)
        if isinstance(outcome, uuid.UUID):
            report.imported.append((path, outcome))
        else:
            report.failures += outcome
        on_done(path)
    return report


async def _import_file(path: Path, database: Database, slo_days: SloDays) -> uuid.UUID | list[Failure]:
    """The new postmortem's id, or why the file was not imported."""
    try:
        markdown = (await asyncio.to_thread(path.read_bytes)).decode("utf-8")
    except OSError as exc:
        return [Failure(path, f"cannot be read: {exc.strerror}")]
    except UnicodeDecodeError as exc:
        return [Failure(path, f"is not UTF-8 (byte {exc.start})")]
    async with database.unit(write=True) as unit:
        try:
            document = await documents_service.import_markdown(unit, markdown, slo_days=slo_days, actor=None)
        except DomainError as exc:
            await unit.rollback()
            if not exc.errors:
                return [Failure(path, exc.detail)]
            return [
                Failure(path, error.message.removeprefix(f"line {error.line}: "), error.line, error.field)
                for error in exc.errors
            ]
        await unit.commit()
    return document.id
