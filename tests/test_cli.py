"""The `postmortems` console script, run as a user would: a subprocess with its environment."""

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from service.migrate import pending_revision
from tests.backends import postgres_server_url, scratch_database

COMMITTED_OPENAPI = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
POSTMORTEMS = str(Path(sys.executable).parent / "postmortems")
COMMAND_TIMEOUT_SECONDS = 120
STARTUP_POLLS = 600  # at 0.1 s each


def run(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = os.environ | {"POSTMORTEMS_DATABASE_URL": database_url}
    return subprocess.run(  # noqa: S603 - our own console script
        [POSTMORTEMS, *args], env=environment, cwd=cwd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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
    port = free_port()
    environment = os.environ | {"POSTMORTEMS_DATABASE_URL": database_url}
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log, httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as http:
        server = subprocess.Popen(  # noqa: S603 - our own console script
            [POSTMORTEMS, "serve", "--port", str(port)], env=environment, cwd=tmp_path, stdout=log, stderr=log
        )
        try:
            healthz = _poll_until_up(server, http, "/healthz", log_path)
            readyz = http.get("/readyz")
        finally:
            server.terminate()
            server.wait(timeout=COMMAND_TIMEOUT_SECONDS)
    assert healthz.status_code == 200
    assert healthz.json() == {"status": "ok"}
    assert readyz.status_code == 200, readyz.text
    assert readyz.json() == {"status": "ready"}
    assert pending_revision(database_url) is None


def _poll_until_up(server: subprocess.Popen[bytes], http: httpx.Client, path: str, log_path: Path) -> httpx.Response:
    for _ in range(STARTUP_POLLS):
        try:
            return http.get(path)
        except httpx.TransportError:
            try:
                server.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"`postmortems serve` exited with {server.returncode}:\n{log_path.read_text()}")
    pytest.fail(f"`postmortems serve` did not answer {path}:\n{log_path.read_text()}")


@pytest.mark.skipif(postgres_server_url() is None, reason="needs POSTMORTEMS_TEST_DATABASE_URL (PostgreSQL)")
def test_serve_on_postgresql_refuses_a_schema_behind_head(empty_database: str, tmp_path: Path) -> None:
    result = run(empty_database, "serve", "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode != 0
    assert "postmortems migrate" in result.stderr
    assert pending_revision(empty_database) == "an empty schema"
