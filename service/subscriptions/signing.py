"""Signatures as Standard Webhooks defines them (https://www.standardwebhooks.com), so receivers can use
its libraries: `webhook-signature` holds `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`
for each secret in use, space-separated, keyed with the secret's base64-decoded bytes after `whsec_`."""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix Standard Webhooks gives secrets, not one
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(message_id: str, timestamp: int, body: bytes, secrets_in_use: Sequence[str]) -> dict[str, str]:
    """The three headers of a delivery attempt; one signature per secret, the newest first."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_in_use),
    }
