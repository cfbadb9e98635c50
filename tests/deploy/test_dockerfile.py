"""The container image, read from the Dockerfile: no container engine builds it here, so it is
linted (hadolint) and its commands, user and pins are checked against the project they package."""

import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.deploy.chart import ROOT, render
from tests.deploy.commands import accepted

DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = str(Path(sys.executable).parent / "hadolint")


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (INSTRUCTION, arguments), continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (keyword.upper(), arguments.strip())
        for keyword, _, arguments in (line.partition(" ") for line in lines if line and not line.startswith("#"))
    ]


def final_stage() -> list[tuple[str, str]]:
    """The instructions from the last FROM on: what the image is made of."""
    every = instructions()
    start = max(index for index, (keyword, _) in enumerate(every) if keyword == "FROM")
    return every[start:]


def last(keyword: str, stage: list[tuple[str, str]]) -> str:
    return [arguments for found, arguments in stage if found == keyword][-1]


def test_hadolint_finds_nothing(tmp_path: Path) -> None:
    empty_config = tmp_path / "hadolint.yaml"
    empty_config.write_text("{}\n")

    result = subprocess.run(  # noqa: S603 - the linter installed with the project
        [HADOLINT, "--config", str(empty_config), "--disable-ignore-pragma", "--format", "json", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert json.loads(result.stdout) == [], result.stdout
    assert result.returncode == 0, result.stderr


def test_the_image_serves_the_api_on_port_8000_by_default() -> None:
    stage = final_stage()
    entrypoint = json.loads(last("ENTRYPOINT", stage))
    command = json.loads(last("CMD", stage))

    assert entrypoint == ["postmortems"]
    assert command == ["serve", "--host", "0.0.0.0", "--port", "8000"]  # noqa: S104 - reached from outside the container
    assert accepted(command)
    assert last("EXPOSE", stage) == "8000"


@pytest.mark.parametrize("command", [["worker"], ["migrate"], ["apikey", "create", "--name", "a", "--scope", "admin"]])
def test_the_other_commands_run_from_the_same_image(command: list[str]) -> None:
    assert json.loads(last("ENTRYPOINT", final_stage())) == ["postmortems"]
    assert accepted(command)


def healthcheck_command() -> list[str]:
    arguments = last("HEALTHCHECK", final_stage())
    command: list[str] = json.loads(arguments[arguments.index("CMD ") + len("CMD ") :])
    return command


@contextmanager
def liveness_endpoint(status: int) -> Iterator[str]:
    """A /healthz answering `status`, on a free port; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/healthz"
    finally:
        server.shutdown()
        server.server_close()


def test_the_healthcheck_asks_the_api_liveness_endpoint_by_default() -> None:
    program, *arguments = healthcheck_command()

    assert program == "python"  # the slim image has no curl
    assert "'http://127.0.0.1:8000/healthz'" in arguments[-1]


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_healthcheck_passes_only_when_the_endpoint_answers_ok(status: int, healthy: bool) -> None:
    _, *arguments = healthcheck_command()
    with liveness_endpoint(status) as url:
        result = subprocess.run(  # noqa: S603 - the Dockerfile's own check, on this interpreter
            [sys.executable, *arguments],
            env=os.environ | {"HEALTHCHECK_URL": url},
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )

    assert (result.returncode == 0) is healthy, result.stderr


def test_the_image_runs_as_the_numeric_non_root_user_the_chart_declares() -> None:
    user, _, group = last("USER", final_stage()).partition(":")
    security = render().component("Deployment", "api")["spec"]["template"]["spec"]["securityContext"]

    assert user.isdigit(), "Kubernetes' runAsNonRoot can only verify a numeric user"
    assert int(user) != 0
    assert (int(user), int(group)) == (security["runAsUser"], security["runAsGroup"])


def test_the_final_stage_is_the_builder_interpreter_with_the_virtualenv_only() -> None:
    stages = [arguments.split() for keyword, arguments in instructions() if keyword == "FROM"]
    builder = next(stage for stage in stages if stage[-1] == "builder")
    python_image = next(
        arguments for keyword, arguments in instructions() if keyword == "ARG" and arguments.startswith("PYTHON_IMAGE=")
    )
    stage = final_stage()
    copies = [arguments for keyword, arguments in stage if keyword in {"COPY", "ADD"}]

    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.1[1-9]-slim(-[a-z]+)?", python_image)
    assert stage[0][1].split()[0] == builder[0] == "${PYTHON_IMAGE}", "the virtualenv links to the builder's python"
    assert copies == ["--from=builder /app/.venv /app/.venv"]
    assert "/app/.venv/bin" in last("ENV", stage)


def test_the_image_installs_with_the_uv_that_wrote_the_lock() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked_uv = next(package["version"] for package in lock["package"] if package["name"] == "uv")
    pinned = [
        arguments.partition("=")[2]
        for keyword, arguments in instructions()
        if keyword == "ARG" and arguments.startswith("UV_VERSION=")
    ]

    assert pinned == [locked_uv]


def test_the_build_context_holds_what_the_package_build_reads() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package_dirs = project["tool"]["setuptools"].get("package-dir", {}).values()
    packages = project["tool"]["setuptools"]["packages"]
    needed = {"pyproject.toml", "uv.lock", project["project"]["readme"]}
    needed |= {package.split(".")[0] for package in packages} | {path.split("/")[0] for path in package_dirs}
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}

    assert "*" in ignore, "the build context is an allowlist"
    assert needed <= allowed, f"allow these in .dockerignore: {sorted(needed - allowed)}"
