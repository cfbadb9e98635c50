"""Where the keys that seal secrets at rest come from, first match wins:

    POSTMORTEMS_SECRET_KEYS (or _KEY)         those keys, newest first
    POSTMORTEMS_ALLOW_PLAINTEXT_SECRETS=true  no key: secrets are stored as sent (development only)
    a SQLite database file                    the key file beside it (`<database>.key`), made on first start
    an in-memory SQLite database              a key made for this process, gone with the database
    PostgreSQL                                no key: a request that would store a secret is refused (422)

Each process says which in its log when it starts, never the key itself.
"""

import functools
import logging
import os
import secrets
from pathlib import Path

from sqlalchemy import make_url

from service.db import DatabaseUnavailable
from service.integrations.secrets import FERNET_KEY, SecretBox, generate_key
from service.settings import Settings

logger = logging.getLogger(__name__)


class UnusableKeyFile(RuntimeError):
    """The key file beside the SQLite database exists but holds no key."""


def key_file_for(database_url: str) -> Path | None:
    """The key file of a SQLite database file; None for other databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(f"{url.database}.key")


def secret_box(settings: Settings) -> SecretBox:
    """The box the settings call for; logs where its keys come from."""
    if keys := settings.encryption_keys():
        logger.info(
            "secrets at rest are encrypted with POSTMORTEMS_SECRET_KEYS (%d keys; the first encrypts)", len(keys)
        )
        return SecretBox(keys)
    if settings.allow_plaintext_secrets:
        logger.warning(
            "secrets at rest are stored as sent: POSTMORTEMS_ALLOW_PLAINTEXT_SECRETS is true and no key is set "
            "(for development only)"
        )
        return SecretBox(allow_plaintext=True)
    if (path := key_file_for(settings.database_url)) is not None:
        return SecretBox([_key_in_file(path)])
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        logger.info("secrets at rest are encrypted with a key made for this process (an in-memory database)")
        return SecretBox([generate_key()])
    logger.warning(
        "no key to encrypt secrets with: tracker credentials and webhook secrets are refused until "
        "POSTMORTEMS_SECRET_KEYS is set"
    )
    return SecretBox()


class LazySecretBox:
    """An app's box, made when first needed: at start-up when the app is served (so the key file
    exists and the log names the key source before the first request), never by merely building
    the app (`postmortems openapi` makes no key file)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @functools.cached_property
    def box(self) -> SecretBox:
        return secret_box(self._settings)


def _key_in_file(path: Path) -> str:
    try:
        created = not path.exists() and _create_key_file(path)
    except OSError as exc:
        # Where no file can be made, the database cannot be opened either: the same outage (503, or no start).
        raise DatabaseUnavailable(f"cannot make the key file {path} beside the database: {exc}") from exc
    key = path.read_text(encoding="utf-8").strip()
    if not FERNET_KEY.fullmatch(key):
        raise UnusableKeyFile(
            f"the key file {path} holds no key: restore it from the backup of the database, "
            "or set POSTMORTEMS_SECRET_KEYS to the key the secrets were stored with"
        )
    if path.stat().st_mode & 0o077:
        logger.warning("the key file %s can be read by other users: chmod 600 it", path)
    made = "made now: back it up with the database" if created else "beside the database"
    logger.info("secrets at rest are encrypted with the key file %s (%s)", path, made)
    return key


def _create_key_file(path: Path) -> bool:
    """Write a new key to `path`, readable by its owner only; False if another process was first.

    The key is written to a file of its own, then linked to `path`: the link either makes a
    complete file appear or fails because one exists, so concurrent starts agree on one key.
    """
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(generate_key() + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            return False
        _sync_directory(path.parent)
        return True
    finally:
        draft.unlink(missing_ok=True)


def _sync_directory(directory: Path) -> None:
    """Make the new file's name durable: a key lost in a crash would lose every secret sealed with it."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
