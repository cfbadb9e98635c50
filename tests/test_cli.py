"""The `postmortems` console script, run as a user would: a subprocess with its environment."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bench.processes import free_port
from service.migrate import pending_revision
from tests.backends import postgres_server_url, scratch_database
from tests.servers import POSTMORTEMS, serving

COMMITTED_OPENAPI = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
COMMAND_TIMEOUT_SECONDS = 120


def run(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = os.environ | {"POSTMORTEMS_DATABASE_URL": database_url}
    return subprocess.run(  # noqa: S603 - our own console script
        [POSTMORTEMS, *args], env=environment, cwd=cwd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS
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


def test_migrate_twice_is_harmless(empty_database: str, tmp_path: Path) -> None:
    assert run(empty_database, "migrate", cwd=tmp_path).returncode == 0
    result = run(empty_database, "migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert pending_revision(empty_database) is None


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


@pytest.mark.skipif(postgres_server_url() is None, reason="needs POSTMORTEMS_TEST_DATABASE_URL (PostgreSQL)")
def test_serve_on_postgresql_refuses_a_schema_behind_head(empty_database: str, tmp_path: Path) -> None:
    result = run(empty_database, "serve", "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode != 0
    assert "postmortems migrate" in result.stderr
    assert pending_revision(empty_database) == "an empty schema"
