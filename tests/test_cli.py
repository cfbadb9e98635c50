"""The `postmortems` console script, run as a user would: a subprocess with its environment."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bench.processes import free_port
from service.cli import describe_database
from service.migrate import head, pending_revision
from tests.backends import postgres_server_url, scratch_database
from tests.servers import POSTMORTEMS, serving

COMMITTED_OPENAPI = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
COMMAND_TIMEOUT_SECONDS = 120


def run(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_with({"POSTMORTEMS_DATABASE_URL": database_url}, *args, cwd=cwd)


def run_with(environment: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command with `environment` over this one's, and no database setting of its own."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("POSTMORTEMS_")}
    return subprocess.run(  # noqa: S603 - our own console script
        [POSTMORTEMS, *args],
        env=inherited | environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
    )


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    with scratch_database(tmp_path) as url:
        yield url


def test_migrate_brings_an_empty_database_to_head(empty_database: str, tmp_path: Path) -> None:
    assert pending_revision(empty_database) is not None

    result = run(empty_database, "migrate", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert pending_revision(empty_database) is None


def test_migrate_twice_is_harmless_and_says_what_it_did(empty_database: str, tmp_path: Path) -> None:
    first = run(empty_database, "migrate", cwd=tmp_path)
    second = run(empty_database, "migrate", cwd=tmp_path)

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert pending_revision(empty_database) is None
    where = describe_database(empty_database)
    assert first.stdout == f"{where}: upgraded from an empty schema to {head()}\n"
    assert second.stdout == f"{where}: already at the latest schema ({head()})\n"


@pytest.mark.parametrize(
    "command", [["migrate"], ["serve", "--port", "1"], ["apikey", "create", "--name", "x", "--scope", "read"]]
)
def test_an_unreachable_database_is_one_line_saying_what_to_check(tmp_path: Path, command: list[str]) -> None:
    database_url = f"postgresql://pm:hunter2@127.0.0.1:{free_port()}/postmortems"

    result = run(database_url, *command, cwd=tmp_path)

    assert result.returncode == 1
    [line] = [line for line in result.stderr.splitlines() if line.startswith("postmortems:")]
    assert "cannot connect to the database" in line
    assert "postgresql://pm:***@127.0.0.1" in line
    assert "check POSTMORTEMS_DATABASE_URL" in line
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


def test_every_command_uses_one_database_whatever_directory_it_runs_in(tmp_path: Path) -> None:
    data_home, here, elsewhere = tmp_path / "data", tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    environment = {"XDG_DATA_HOME": str(data_home)}

    first = run_with(environment, "apikey", "create", "--name", "first", "--scope", "read", cwd=here)
    second = run_with(environment, "apikey", "create", "--name", "second", "--scope", "read", cwd=elsewhere)

    database = data_home / "postmortems" / "postmortems.db"
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert first.stdout.splitlines()[0] == second.stdout.splitlines()[0] == f"database: sqlite:///{database}"
    assert database.exists()
    assert list(here.iterdir()) == list(elsewhere.iterdir()) == []


def test_the_data_directory_can_be_set(tmp_path: Path) -> None:
    result = run_with({"POSTMORTEMS_DATA_DIR": str(tmp_path / "pm")}, "migrate", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"sqlite:///{tmp_path / 'pm' / 'postmortems.db'}: upgraded from an empty schema")


async def test_apikey_create_prints_a_working_key_last(
    database_url: str, app: FastAPI, anonymous_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    result = run(database_url, "apikey", "create", "--name", "deploy-bot", "--scope", "write", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    key = result.stdout.splitlines()[-1]
    assert key.startswith("pm_")
    assert result.stdout.count(key) == 1
    headers = {"Authorization": f"Bearer {key}"}
    created = await anonymous_client.post(
        "/v1/postmortems", json={"title": "Deploy stuck", "severity": "P3"}, headers=headers
    )
    assert created.status_code == 201, created.text
    assert (await anonymous_client.get("/v1/api-keys", headers=headers)).status_code == 403


@pytest.mark.parametrize("args", [["--name", "bot", "--scope", "root"], ["--scope", "read"]], ids=["scope", "name"])
def test_apikey_create_refuses_bad_arguments(empty_database: str, tmp_path: Path, args: list[str]) -> None:
    result = run(empty_database, "apikey", "create", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_openapi_prints_the_committed_document(tmp_path: Path) -> None:
    result = run(f"sqlite:///{tmp_path / 'unused.db'}", "openapi", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == COMMITTED_OPENAPI.read_text(encoding="utf-8")


def test_serve_on_sqlite_migrates_and_answers_probes(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'serve.db'}"
    with serving(database_url, tmp_path) as server:
        healthz = server.wait_until_up()
        readyz = httpx.get(f"{server.base_url}/readyz", trust_env=False)
    assert healthz.status_code == 200
    assert healthz.json() == {"status": "ok"}
    assert readyz.status_code == 200, readyz.text
    assert readyz.json() == {"status": "ready"}
    assert pending_revision(database_url) is None
    assert f"database: {database_url}" in server.log()


@pytest.mark.skipif(postgres_server_url() is None, reason="needs POSTMORTEMS_TEST_DATABASE_URL (PostgreSQL)")
def test_serve_on_postgresql_refuses_a_schema_behind_head(empty_database: str, tmp_path: Path) -> None:
    result = run(empty_database, "serve", "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode != 0
    assert "postmortems migrate" in result.stderr
    assert pending_revision(empty_database) == "an empty schema"
