"""Tracker credentials and webhook secrets at rest.

A stored value says how it was sealed:

    fernet:<token>   encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with one of the box's keys
    plain:<value>    as sent: with POSTMORTEMS_ALLOW_PLAINTEXT_SECRETS and no key, or stored by an
                     earlier release without a key; it still opens, and `secrets rotate` seals it

Keys are newest first: the first seals, any of them opens (MultiFernet), so a new key can be put
in front of the old one and the old one dropped once `postmortems secrets rotate` has sealed
everything again. A key is a Fernet key (`postmortems secrets generate-key`), used as it is, or
any other string, stretched to one with HKDF-SHA256. Earlier releases made the key the SHA-256 of
the string; values sealed that way still open with the same string, and are sealed anew on rotation.
"""

import base64
import hashlib
import re
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.core.errors import FieldError, Unprocessable

ENCRYPTED = "fernet:"
PLAIN = "plain:"
KEYS_SETTING = "POSTMORTEMS_SECRET_KEYS"
FERNET_KEY = re.compile(r"[A-Za-z0-9_-]{43}=")  # urlsafe base64 of 32 bytes, as Fernet.generate_key() writes it
_HKDF_SALT = b"postmortems/secret-box/v1"
_HKDF_INFO = b"postmortems: tracker credentials and webhook secrets at rest"


class SecretKeyMissing(Unprocessable):
    """A secret was sent to a service that has no key to seal it with, and may not store it as sent.

    422, not 503: in this API a 503 means "try again shortly", and only the operator can help here.
    """

    slug = "secret-key-missing"
    title = "No key to encrypt secrets with"


def generate_key() -> str:
    return Fernet.generate_key().decode()


def fernet_key(key: str) -> bytes:
    """The Fernet key a configured key stands for: itself when it is one, else its HKDF-SHA256 stretch."""
    if FERNET_KEY.fullmatch(key):
        return key.encode()
    stretch = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(stretch.derive(key.encode()))


def _legacy_fernet_key(key: str) -> bytes:
    """How releases before HKDF derived the key; only ever used to open."""
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())


class SecretBox:
    def __init__(self, keys: Sequence[str] = (), *, allow_plaintext: bool = False) -> None:
        """`keys` newest first; without any, secrets are stored as sent if `allow_plaintext`, else refused."""
        self._allow_plaintext = allow_plaintext
        self._fernet = None
        if keys:
            fernets = [Fernet(fernet_key(key)) for key in keys] + [Fernet(_legacy_fernet_key(key)) for key in keys]
            self._fernet = MultiFernet(fernets)  # encrypts with the first, decrypts with any

    @property
    def encrypts(self) -> bool:
        return self._fernet is not None

    def seal(self, value: str, *, field: str) -> str:
        """The value as it is stored; `field` is the request field it came in, named if it is refused."""
        if self._fernet is not None:
            return ENCRYPTED + self._fernet.encrypt(value.encode()).decode()
        if self._allow_plaintext:
            return PLAIN + value
        reason = f"no key is configured to encrypt it with: set {KEYS_SETTING}"
        raise SecretKeyMissing(
            f"secrets cannot be stored: {reason} (or, for development only, POSTMORTEMS_ALLOW_PLAINTEXT_SECRETS=true)",
            [FieldError(field, f"cannot be stored: {reason}", "secret_key_missing")],
        )

    def open(self, stored: str) -> str:
        """The plaintext; raises ValueError when none of the keys opens it (or there is none)."""
        if stored.startswith(PLAIN):
            return stored.removeprefix(PLAIN)
        if self._fernet is None:
            raise ValueError(
                f"this secret is encrypted and no key is set: add the key it was stored with to {KEYS_SETTING}"
            )
        try:
            return self._fernet.decrypt(stored.removeprefix(ENCRYPTED).encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                f"none of the keys in use opens this secret: add the key it was stored with to {KEYS_SETTING}"
            ) from exc
