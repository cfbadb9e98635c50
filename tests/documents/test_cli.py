"""`postmortems import PATH...`, run as a user would: a subprocess on the test database."""

from pathlib import Path

import httpx

from tests.documents.helpers import comparable, export_json, export_markdown, full_postmortem
from tests.documents.test_router import QUICK_DOCUMENT
from tests.problems import UNKNOWN_ID
from tests.test_cli import run

BROKEN = """\
# Broken

- **Severity:** P2

## Timeline

| Time (UTC) | Kind | Description | Source |
| --- | --- | --- | --- |
| 2025-01-15T09:00:00Z | alert | three cells |

## Pipeline
"""

UNKNOWN_REFERENCE = f"""\
# Refers to nothing

- **Severity:** P3
- **Related postmortems:** {UNKNOWN_ID}
"""


async def test_import_takes_files_and_folders_and_reports_every_failure(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    original = await full_postmortem(client, admin_client, severity="P1", template="standard")
    folder = tmp_path / "postmortems"
    (folder / "2025").mkdir(parents=True)
    standard = folder / "2025" / "checkout.md"
    standard.write_text(await export_markdown(client, original["id"]), encoding="utf-8")
    quick = folder / "deploy.md"
    quick.write_text(QUICK_DOCUMENT, encoding="utf-8")
    broken = folder / "broken.md"
    broken.write_text(BROKEN, encoding="utf-8")
    unknown = folder / "refers.md"
    unknown.write_text(UNKNOWN_REFERENCE, encoding="utf-8")
    latin = folder / "latin.md"
    latin.write_bytes("# Café\n".encode("latin-1"))
    (folder / "notes.txt").write_text("not a postmortem", encoding="utf-8")
    single = tmp_path / "single.markdown"
    single.write_text(QUICK_DOCUMENT.replace("Deploy stuck", "Deploy slow"), encoding="utf-8")
    missing = tmp_path / "missing"

    result = run(database_url, "import", str(folder), str(single), str(missing), cwd=tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines()[-1] == "imported 6 of 6 files"  # not a terminal: no bar, a count
    lines = result.stdout.splitlines()
    imported = [line.split(" ") for line in lines if line.startswith("imported ")]
    assert [(words[1], words[2]) for words in imported] == [
        (str(standard), "as"),
        (str(quick), "as"),
        (str(single), "as"),
    ]
    assert lines[len(imported) :] == [
        "3 imported, 4 failed",
        f"failed: {missing}: no such file or folder",
        f"failed: {broken}:9: Timeline: expected 4 table cells, found 3",
        f"failed: {broken}:11: Pipeline: unknown section 'Pipeline'; expected one of: Summary, Impact, Timeline, "
        "Root Cause, Contributing Factors, What Went Well, What Went Poorly, Action Items, Lessons Learned, "
        "What happened?, What broke?",
        f"failed: {latin}: is not UTF-8 (byte 5)",
        f"failed: {unknown}:4: Metadata: related_postmortem_ids: postmortem {UNKNOWN_ID} does not exist",
    ]
    ids = {Path(words[1]): words[3] for words in imported}
    copy = await export_json(client, ids[standard])
    assert copy["status"] == "draft"
    assert comparable(copy) == comparable(await export_json(client, original["id"]))
    titles = sorted(postmortem["title"] for postmortem in (await client.get("/v1/postmortems")).json()["items"])
    assert titles == sorted(
        [original["title"], original["title"], "An earlier outage", "Deploy stuck in staging", "Deploy slow in staging"]
    )


async def test_import_succeeds_with_exit_code_0_when_every_file_imports(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    document = tmp_path / "deploy.md"
    document.write_text(QUICK_DOCUMENT, encoding="utf-8")

    result = run(database_url, "import", str(document), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    [imported, summary] = result.stdout.splitlines()
    assert summary == "1 imported, 0 failed"
    postmortem_id = imported.removeprefix(f"imported {document} as ")
    assert (await client.get(f"/v1/postmortems/{postmortem_id}")).json()["title"] == "Deploy stuck in staging"


def test_import_needs_a_path(database_url: str, tmp_path: Path) -> None:
    result = run(database_url, "import", cwd=tmp_path)

    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_a_long_import_off_a_terminal_reports_every_hundred_files(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "postmortems"
    folder.mkdir()
    for number in range(205):
        (folder / f"{number:03}.md").write_text(QUICK_DOCUMENT.replace("Deploy stuck", f"Deploy {number}"))

    result = run(database_url, "import", str(folder), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("imported ")]
    assert progress == ["imported 100 of 205 files", "imported 200 of 205 files", "imported 205 of 205 files"]
    assert result.stdout.splitlines()[-1] == "205 imported, 0 failed"
