"""A PostgreSQL server of the test's own, in a temporary directory, that the test stops and starts.

It is made with PostgreSQL's own `initdb` and `pg_ctl`, which refuse to run as root: as root they
run as the `postgres` account (`runuser`), on a directory that account owns.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.processes import free_port

SEARCH_PATHS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)  # Debian's layout, newest first
SERVER_ACCOUNT = "postgres"


def _program(name: str) -> str | None:
    for directory in SEARCH_PATHS:
        if (directory / name).exists():
            return str(directory / name)
    return shutil.which(name)


class PrivatePostgres:
    def __init__(self, directory: Path, bin_dir: Path, account: str | None) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.bin_dir = bin_dir
        self.account = account
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.running = False

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self.account is not None:
            command = ["runuser", "-u", self.account, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)  # noqa: S603 - PostgreSQL's own tools

    def init(self) -> None:
        self._run("initdb", "--pgdata", str(self.data), "--username", "postgres", "--auth", "trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        self._run("pg_ctl", "start", "--wait", "--pgdata", str(self.data), "--log", str(self.log_path), "-o", options)
        self.running = True

    def stop(self) -> None:
        """Stop at once, as an outage does: sessions are ended and open transactions rolled back."""
        self._run("pg_ctl", "stop", "--wait", "--mode", "fast", "--pgdata", str(self.data))
        self.running = False

    @property
    def log_path(self) -> Path:
        return self.directory / "server.log"


def skip_reason() -> str | None:
    """Why a private server cannot be run here, or None."""
    if _program("initdb") is None or _program("pg_ctl") is None:
        return "PostgreSQL's initdb and pg_ctl are not installed (Debian: the postgresql package)"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root without runuser, and pg_ctl refuses to run as root"
        try:
            pwd.getpwnam(SERVER_ACCOUNT)
        except KeyError:
            return f"running as root, and there is no {SERVER_ACCOUNT!r} account for pg_ctl to run as"
    return None


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running server on a free port, initialised for the test and removed afterwards."""
    reason = skip_reason()
    if reason is not None:
        pytest.skip(reason)
    initdb = _program("initdb")
    assert initdb is not None
    account = SERVER_ACCOUNT if os.geteuid() == 0 else None
    # Not under pytest's tmp_path: its parents are private to the user running the tests.
    directory = Path(tempfile.mkdtemp(prefix="postmortems-pg-"))
    if account is not None:
        entry = pwd.getpwnam(account)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    server = PrivatePostgres(directory, Path(initdb).parent, account)
    try:
        server.init()
        server.start()
        yield server
    finally:
        if server.running:
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)
