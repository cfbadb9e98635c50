"""A GitHub `issues` webhook delivery for the ingest benchmark, signed as GitHub signs it.

The payload is octokit's example of an `edited` event (the one tests/fakes/github.py builds its
deliveries from), about 13 kB as GitHub sends them, moved to the benchmark's repository.
"""

import hashlib
import hmac
import json

from tests.contracts.paths import GITHUB

EXAMPLE = GITHUB / "octokit-webhooks" / "payload-examples" / "api.github.com" / "issues" / "edited.payload.json"


def issues_event(owner: str, repo: str) -> bytes:
    payload = json.loads(EXAMPLE.read_text())
    payload["repository"].update(name=repo, full_name=f"{owner}/{repo}")
    payload["repository"]["owner"]["login"] = owner
    return json.dumps(payload, separators=(",", ":")).encode()


def signature(body: bytes, secret: str) -> str:
    """`X-Hub-Signature-256`: the hex HMAC-SHA256 of the exact body bytes with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
