"""The server's log as an operator reads it: one JSON object per line, each request's id in the
lines written for it, and never a secret, even at DEBUG."""

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.servers import POSTMORTEMS, serving

TRACKER_TOKEN = "ghp_tracker-token-SECRET-1"
WEBHOOK_SECRET = "whsec-webhook-SECRET-2"
SECRET_KEY = "secret-key-SECRET-3"
WRONG_API_KEY = "pm_wrong-key-SECRET-4"
DELIVERY_POLLS = 100  # at 0.1 s each


def create_api_key(database_url: str, directory: Path) -> str:
    result = subprocess.run(  # noqa: S603 - our own console script
        [POSTMORTEMS, "apikey", "create", "--name", "ops", "--scope", "admin"],
        env={"POSTMORTEMS_DATABASE_URL": database_url, "PATH": ""},
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()[-1]


def json_lines(log: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.splitlines() if line.strip()]


def test_every_line_is_json_and_a_request_log_names_its_request(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'logs.db'}"
    api_key = create_api_key(database_url, tmp_path)
    with serving(database_url, tmp_path, "--access-log") as server:
        with httpx.Client(base_url=server.base_url, trust_env=False) as http:
            headers = {"Authorization": f"Bearer {api_key}", "X-Request-ID": "portal-7f3a"}
            created = http.post("/v1/postmortems", json={"title": "Checkout down", "severity": "P2"}, headers=headers)
            answered = http.get("/v1/postmortems", headers={"Authorization": f"Bearer {api_key}"})
        server.process.terminate()
        assert server.process.wait(timeout=60) == 0

    assert created.status_code == 201
    assert created.headers["X-Request-ID"] == "portal-7f3a"  # the caller's id is kept ...
    generated = answered.headers["X-Request-ID"]  # ... or one is made
    assert len(generated) == 32
    lines = json_lines(server.log())
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    request_log = [line for line in lines if line.get("request_id") == "portal-7f3a"]
    assert len(request_log) == 1
    assert request_log[0] | {"time": None, "duration_ms": None} == {
        "time": None,
        "level": "INFO",
        "logger": "postmortems.requests",
        "message": "POST /v1/postmortems 201",
        "request_id": "portal-7f3a",
        "method": "POST",
        "route": "/v1/postmortems",
        "status": 201,
        "duration_ms": None,
    }
    assert request_log[0]["duration_ms"] > 0
    assert any(line.get("request_id") == generated for line in lines)


def test_no_secret_is_logged_even_at_debug(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'secrets.db'}"
    api_key = create_api_key(database_url, tmp_path)
    environment = {"POSTMORTEMS_LOG_LEVEL": "DEBUG", "POSTMORTEMS_SECRET_KEY": SECRET_KEY}
    with serving(database_url, tmp_path, "--access-log", **environment) as server:
        with httpx.Client(base_url=server.base_url, trust_env=False) as http:
            http.headers["Authorization"] = f"Bearer {api_key}"
            integration = http.post(
                "/v1/integrations",
                json={
                    "name": "github",
                    "kind": "github",
                    "base_url": "http://127.0.0.1:9",  # nothing listens: the push fails and is retried
                    "credentials": {"token": TRACKER_TOKEN},
                    "settings": {"owner": "acme", "repo": "ops"},
                    "webhook_secret": WEBHOOK_SECRET,
                    "default": True,
                },
            )
            assert integration.status_code == 201, integration.text
            postmortem = http.post("/v1/postmortems", json={"title": "Checkout down", "severity": "P2"}).json()
            item = http.post(
                f"/v1/postmortems/{postmortem['id']}/action-items",
                json={"title": "Add a canary", "owner": "ana", "priority": "P1", "due_date": "2030-01-01"},
            )
            assert item.status_code == 201, item.text
            _wait_for_a_failed_push(http)
            refused = http.get("/v1/postmortems", headers={"Authorization": f"Bearer {WRONG_API_KEY}"})
            forged = http.post(
                f"/v1/webhooks/github/{integration.json()['id']}",
                content=b'{"action": "closed"}',
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
            )
        server.process.terminate()
        server.process.wait(timeout=60)

    assert (refused.status_code, forged.status_code) == (401, 401)
    log = server.log()
    assert '"level":"DEBUG"' in log  # it did log at DEBUG ...
    assert "POST /v1/integrations 201" in log  # ... while the secrets went by
    for secret in (api_key, TRACKER_TOKEN, WEBHOOK_SECRET, SECRET_KEY, WRONG_API_KEY):
        assert secret not in log


def _wait_for_a_failed_push(http: httpx.Client) -> None:
    for _ in range(DELIVERY_POLLS):
        deliveries = http.get("/v1/deliveries").json()["items"]
        if deliveries and deliveries[0]["attempts"] >= 1:
            return
        time.sleep(0.1)
    raise AssertionError(f"the worker inside `serve` never tried the push: {deliveries}")
