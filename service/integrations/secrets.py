"""Tracker credentials and webhook secrets at rest.

With `POSTMORTEMS_SECRET_KEY` set, values are encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with
a key derived from it; without it they are stored as sent, and the README says so.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

ENCRYPTED = "fernet:"
PLAIN = "plain:"


class SecretBox:
    def __init__(self, secret_key: SecretStr | None) -> None:
        self._fernet = None
        if secret_key is not None:
            digest = hashlib.sha256(secret_key.get_secret_value().encode()).digest()
            self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, value: str) -> str:
        if self._fernet is None:
            return PLAIN + value
        return ENCRYPTED + self._fernet.encrypt(value.encode()).decode()

    def open(self, stored: str) -> str:
        """The plaintext; raises ValueError when it was encrypted with another key (or none is set)."""
        if stored.startswith(PLAIN):
            return stored.removeprefix(PLAIN)
        if self._fernet is None:
            raise ValueError("this secret is encrypted: set POSTMORTEMS_SECRET_KEY to the key it was stored with")
        try:
            return self._fernet.decrypt(stored.removeprefix(ENCRYPTED).encode()).decode()
        except InvalidToken as exc:
            raise ValueError("this secret was encrypted with another POSTMORTEMS_SECRET_KEY") from exc
