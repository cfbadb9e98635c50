"""The operations measured with wrk: what the service is asked, and the baseline request it is judged against.

The baseline of a read is the one-row read (`GET /rows/{id}`), of a write the one-row insert
(`POST /rows`): one round trip to the database through plain FastAPI, the least any endpoint costs.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.scripts import Script
from bench.seed import OWNERS, SEARCH_WORDS, SERVICES


def action_item(title: str) -> dict[str, Any]:
    """A complete action item; on a draft postmortem it is pushed to the default integration's tracker."""
    due = date.today() + timedelta(days=30)
    return {"title": title, "owner": "@team-7", "priority": "P1", "due_date": due.isoformat(), "kind": "prevent"}


@dataclass(frozen=True)
class Requests:
    """The requests of each operation, made of the run's data."""

    key: str
    postmortem_ids: list[str]  # any status: reads
    draft_ids: list[str]  # editable, many more than connections: patched, and given action items
    etags: Callable[[], dict[str, str]]  # the current ETag of each draft
    webhook_path: str
    webhook_body: Path
    webhook_signature: str

    # -- the service -------------------------------------------------------------------------------
    def get_postmortem(self) -> Script:
        return self._get([f"/v1/postmortems/{postmortem_id}" for postmortem_id in self.postmortem_ids])

    def list_postmortems(self) -> Script:
        return self._get([_query("/v1/postmortems", service=name, severity="P2", limit=50) for name in SERVICES])

    def action_items_by_owner(self) -> Script:
        return self._get([_query("/v1/action-items", owner=owner, overdue="true", limit=50) for owner in OWNERS])

    def search(self) -> Script:
        return self._get([_query("/v1/postmortems", q=word, limit=50) for word in SEARCH_WORDS])

    def create_postmortem(self) -> Script:
        return self._post(["/v1/postmortems"], {"title": "Checkout errors %d", "severity": "P3"})

    def create_action_item(self) -> Script:
        paths = [f"/v1/postmortems/{postmortem_id}/action-items" for postmortem_id in self.draft_ids]
        return self._post(paths, action_item("Add a canary stage %d"))

    def patch_postmortem(self) -> Script:
        body = {"summary": "Checkout failed after a config push (revision %d)."}
        values = {"ids": self.draft_ids, "etags": self.etags, "body": json.dumps(body), "headers": self._json}
        return Script("patch", values)

    def webhook_ingest(self) -> Script:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/bench",
            "X-GitHub-Event": "issues",
            "X-Hub-Signature-256": self.webhook_signature,
        }
        values = {
            "path": self.webhook_path,
            "body_file": str(self.webhook_body),
            "headers": headers,
            "delivery_prefix": lambda: uuid.uuid4().hex,  # new for every run: every request a new delivery
        }
        return Script("webhook", values)

    def stats(self) -> Script:
        return self._get(["/v1/stats"])

    # -- the baseline ------------------------------------------------------------------------------
    def one_row_read(self) -> Script:
        return self._get([f"/rows/{postmortem_id}" for postmortem_id in self.postmortem_ids])

    def one_row_insert(self) -> Script:
        return self._post(["/rows"], {"title": "Row %d"})

    def constant(self) -> Script:
        return self._get(["/constant"])

    # -- helpers -----------------------------------------------------------------------------------
    @property
    def _authorization(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def _json(self) -> dict[str, str]:
        return self._authorization | {"Content-Type": "application/json"}

    def _get(self, paths: list[str]) -> Script:
        return Script("get", {"paths": paths, "headers": self._authorization})

    def _post(self, paths: list[str], body: dict[str, Any]) -> Script:
        return Script("post", {"paths": paths, "body": json.dumps(body), "headers": self._json})


def _query(path: str, **params: Any) -> str:
    return f"{path}?{urlencode(params)}"


ScriptOf = Callable[[Requests], Script]


@dataclass(frozen=True)
class Operation:
    name: str
    service: ScriptOf | None
    baseline: ScriptOf | None
    connections: int | None = None  # None: the run's --connections


OPERATIONS = [
    Operation("get postmortem", Requests.get_postmortem, Requests.one_row_read),
    Operation("list postmortems", Requests.list_postmortems, Requests.one_row_read),
    Operation("action items by owner", Requests.action_items_by_owner, Requests.one_row_read),
    Operation("search", Requests.search, Requests.one_row_read),
    Operation("create postmortem", Requests.create_postmortem, Requests.one_row_insert),
    Operation("create action item", Requests.create_action_item, Requests.one_row_insert),
    Operation("patch postmortem", Requests.patch_postmortem, Requests.one_row_insert),
    Operation("webhook ingest", Requests.webhook_ingest, Requests.one_row_insert),
    Operation("stats 90 days", Requests.stats, None, connections=1),  # latency, one request at a time
    Operation("baseline constant", None, Requests.constant),
]
