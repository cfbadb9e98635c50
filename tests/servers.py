"""`postmortems serve` as a user runs it (a subprocess with its environment, its log in a file), and an
app served in-process for clients that need a real socket."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

from bench.processes import free_port

POSTMORTEMS = str(Path(sys.executable).parent / "postmortems")
STARTUP_POLLS = 600  # at 0.1 s each
STOP_TIMEOUT_SECONDS = 60


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_until_up(self) -> httpx.Response:
        with httpx.Client(base_url=self.base_url, trust_env=False) as http:
            for _ in range(STARTUP_POLLS):
                try:
                    return http.get("/healthz")
                except httpx.TransportError:
                    try:
                        self.process.wait(timeout=0.1)
                    except subprocess.TimeoutExpired:
                        continue
                    pytest.fail(f"`postmortems serve` exited with {self.process.returncode}:\n{self.log()}")
        pytest.fail(f"`postmortems serve` did not answer:\n{self.log()}")


@contextmanager
def serving(database_url: str, directory: Path, *args: str, **environment: str) -> Iterator[Server]:
    """A running server, up (its /healthz answers); stopped with SIGTERM at the end if still running."""
    port = free_port()
    env = os.environ | {"POSTMORTEMS_DATABASE_URL": database_url} | environment
    log_path = directory / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [POSTMORTEMS, "serve", "--port", str(port), *args], env=env, cwd=directory, stdout=log, stderr=log
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        server.wait_until_up()
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=STOP_TIMEOUT_SECONDS)


@contextmanager
def serving_in_thread(app: ASGIApp, port: int | None = None) -> Iterator[str]:
    """An app served by uvicorn on a thread and event loop of its own, for clients that need a socket; its URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(STARTUP_POLLS):
            if server.started or not thread.is_alive():
                break
            time.sleep(0.1)
        if not server.started:
            pytest.fail("the app did not start serving")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STOP_TIMEOUT_SECONDS)
