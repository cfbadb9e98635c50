"""`postmortems`: serve the API, migrate the database, manage API and secret keys, import documents, export OpenAPI."""

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from service.auth.models import Scope
from service.db import DatabaseUnavailable
from service.observability.logs import configure_logging
from service.settings import get_settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    configure_logging(get_settings().log_level, get_settings().log_format)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        result: int = handler(args)
    except DatabaseUnavailable as exc:
        where = describe_database(get_settings().database_url)
        print(f"postmortems: {exc} ({where}); {DATABASE_ADVICE}", file=sys.stderr)
        return 1
    return result


DATABASE_ADVICE = (
    "check POSTMORTEMS_DATABASE_URL, that the server runs and takes connections, and that the database exists "
    "(PostgreSQL: createdb NAME)"
)


def describe_database(database_url: str) -> str:
    """The database a command uses, for people: the URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(database_url).render_as_string(hide_password=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="postmortems", description=__doc__)
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="server processes; about one per CPU core (default 1: on Kubernetes, scale with replicas instead)",
    )
    serve.add_argument("--access-log", action="store_true", help="log a line per request (off by default)")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="upgrade the database schema to the latest version")
    migrate.set_defaults(handler=_migrate)

    apikey = commands.add_parser("apikey", help="manage API keys").add_subparsers(title="apikey commands")
    create = apikey.add_parser("create", help="create a key and print it once, as the last line")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", required=True, choices=[scope.value for scope in Scope])
    create.set_defaults(handler=_apikey_create)

    worker = commands.add_parser("worker", help="deliver action items to the trackers (the outbox worker)")
    worker.add_argument("--once", action="store_true", help="process what is due, then exit")
    worker.set_defaults(handler=_worker)

    secrets = commands.add_parser(
        "secrets", help="the keys that encrypt tracker credentials and webhook secrets"
    ).add_subparsers(title="secrets commands")
    generate_key = secrets.add_parser("generate-key", help="print a new random key for POSTMORTEMS_SECRET_KEYS")
    generate_key.set_defaults(handler=_secrets_generate_key)
    rotate = secrets.add_parser(
        "rotate", help="encrypt every stored secret again with the newest key, in one transaction"
    )
    rotate.set_defaults(handler=_secrets_rotate)

    imports = commands.add_parser(
        "import", help="import Markdown postmortems as drafts: files, and folders of *.md files (recursively)"
    )
    imports.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    imports.set_defaults(handler=_import)

    openapi = commands.add_parser("openapi", help="print the OpenAPI document")
    openapi.set_defaults(handler=_openapi)
    return parser


def _schema_ready(database_url: str) -> bool:
    """SQLite is migrated on the spot (zero set-up); a PostgreSQL schema behind head is refused, with advice."""
    from service.db import is_sqlite
    from service.migrate import pending_revision, upgrade

    if is_sqlite(database_url):
        upgrade(database_url)
        return True
    if (behind := pending_revision(database_url)) is not None:
        print(
            f"the database schema is at {behind}, behind this version of the service: run `postmortems migrate` first",
            file=sys.stderr,
        )
        return False
    return True


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def _serve(args: argparse.Namespace) -> int:
    from service import server

    settings = get_settings()
    logging.getLogger("postmortems").info("database: %s", describe_database(settings.database_url))
    if not _schema_ready(settings.database_url):
        return 1
    server.run(
        "service.asgi:create",
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=args.access_log,
        log_level=settings.log_level,
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
    )
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from service.migrate import upgrade

    database_url = get_settings().database_url
    before, after = upgrade(database_url)
    where = describe_database(database_url)
    if before == after:
        print(f"{where}: already at the latest schema ({after})")
    else:
        print(f"{where}: upgraded from {before or 'an empty schema'} to {after}")
    return 0


def _apikey_create(args: argparse.Namespace) -> int:
    from service.auth import service as auth_service
    from service.core.database import Database
    from service.db import make_engine

    print(f"database: {describe_database(get_settings().database_url)}")
    if not _schema_ready(get_settings().database_url):
        return 1

    async def create() -> str:
        database = Database(make_engine(get_settings().database_url, pool_size=None))
        try:
            async with database.unit(write=True) as unit:
                api_key, plaintext = await auth_service.create(
                    await unit.session(), name=args.name, scope=Scope(args.scope)
                )
                await unit.commit()
            print(f"created {args.scope} key {api_key.name!r} ({api_key.id})")
            return plaintext
        finally:
            await database.dispose()

    print(asyncio.run(create()))
    return 0


def _worker(args: argparse.Namespace) -> int:
    import signal

    import uvloop

    from service.core.database import Database
    from service.db import make_engine
    from service.integrations.keys import secret_box
    from service.observability import worker_http
    from service.observability.metrics import Metrics
    from service.outbox.runner import worker_context

    settings = get_settings()
    if not _schema_ready(settings.database_url):
        return 1
    box = secret_box(settings)

    async def run() -> None:
        database = Database(make_engine(settings.database_url, pool_size=settings.db_pool_size))
        metrics = Metrics()
        try:
            async with worker_context(database, settings, box, metrics) as worker:
                if args.once:
                    await worker.run_until_idle()
                    return
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for signal_number in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(signal_number, stop.set)
                async with contextlib.AsyncExitStack() as stack:
                    if settings.worker_metrics_port:
                        await stack.enter_async_context(
                            worker_http.serving(metrics, host="0.0.0.0", port=settings.worker_metrics_port)  # noqa: S104 - probes and scrapes come from other pods
                        )
                    await worker.run(stop)
        finally:
            await database.dispose()

    uvloop.run(run())  # the event loop `serve` runs on: the worker's time goes to socket I/O
    return 0


def _secrets_generate_key(_: argparse.Namespace) -> int:
    from service.integrations.secrets import generate_key

    print(generate_key())
    return 0


def _secrets_rotate(_: argparse.Namespace) -> int:
    from service.core.database import Database
    from service.db import make_engine
    from service.integrations.keys import UnusableKeyFile, secret_box
    from service.integrations.rotation import RotationRefused, rotate

    settings = get_settings()
    if not _schema_ready(settings.database_url):
        return 1

    async def run() -> int:
        database = Database(make_engine(settings.database_url, pool_size=None))
        try:
            return await rotate(database, secret_box(settings))
        finally:
            await database.dispose()

    try:
        resealed = asyncio.run(run())
    except (RotationRefused, UnusableKeyFile) as exc:
        print(f"nothing was re-encrypted: {exc}", file=sys.stderr)
        return 1
    print(f"re-encrypted {resealed} secrets with the newest key")
    return 0


def _import(args: argparse.Namespace) -> int:
    from service.core.database import Database
    from service.db import make_engine
    from service.documents.files import Report, import_files, markdown_files

    settings = get_settings()
    if not _schema_ready(settings.database_url):
        return 1
    files, missing = markdown_files(args.paths)

    async def run() -> Report:
        database = Database(make_engine(settings.database_url, pool_size=None))
        try:
            with _progress(len(files)) as advance:
                return await import_files(
                    files, database, slo_days=settings.action_item_slo_days, on_done=lambda _: advance()
                )
        finally:
            await database.dispose()

    report = asyncio.run(run())
    report.failures[:0] = missing
    print("\n".join(report.lines()))
    return 1 if report.failures else 0


PROGRESS_LINE_EVERY = 100  # files, when progress goes to a log rather than a terminal


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[], None]]:
    """A bar on a terminal; elsewhere (CI, a log) a line per PROGRESS_LINE_EVERY files and one at the end."""
    import click

    if sys.stderr.isatty():
        with click.progressbar(length=total, label="importing", file=sys.stderr, show_pos=True) as bar:
            yield lambda: bar.update(1)
        return
    done = 0

    def advance() -> None:
        nonlocal done
        done += 1
        if done % PROGRESS_LINE_EVERY == 0 and done < total:
            print(f"imported {done} of {total} files", file=sys.stderr, flush=True)

    yield advance
    print(f"imported {done} of {total} files", file=sys.stderr, flush=True)


def _openapi(_: argparse.Namespace) -> int:
    from service.app import create_app
    from service.core.openapi import export_openapi

    sys.stdout.write(export_openapi(create_app(get_settings())))
    return 0
