import subprocess
from collections.abc import Iterator

import pytest

from tests.outage.postgres import PrivatePostgres, private_postgres
from tests.servers import POSTMORTEMS


def postmortems(database_url: str, *args: str) -> str:
    """Run a `postmortems` command on the database; its standard output."""
    result = subprocess.run(  # noqa: S603 - our own console script
        [POSTMORTEMS, *args],
        env={"POSTMORTEMS_DATABASE_URL": database_url, "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.fixture(scope="package")
def migrated_postgres() -> Iterator[PrivatePostgres]:
    """One private server for the package, migrated with `postmortems migrate`."""
    with private_postgres() as server:
        postmortems(server.url, "migrate")
        yield server


@pytest.fixture
def postgres(migrated_postgres: PrivatePostgres) -> Iterator[PrivatePostgres]:
    """The private server, running; a test that stops it may leave it stopped."""
    yield migrated_postgres
    if not migrated_postgres.running:
        migrated_postgres.start()


@pytest.fixture(scope="package")
def api_key(migrated_postgres: PrivatePostgres) -> str:
    return postmortems(migrated_postgres.url, "apikey", "create", "--name", "ops", "--scope", "admin").splitlines()[-1]
