"""GitHub: a deployment's statuses, as `gh api repos/OWNER/REPO/deployments/ID/statuses` prints them.

Each status is a step of the deploy (started, succeeded, failed, replaced) and becomes an `action`
event. The statuses do not name what was deployed; a `deployment` object beside them (as webhook
payloads carry) adds its ref or sha.
"""

from typing import Any

from service.timeline.imports.models import ImportOptions, Parsed
from service.timeline.imports.reading import Faults, clip, entries, load_json, renamed
from service.timeline.models import EventKind

SOURCE = "GitHub"
OUTCOMES = {
    "success": "succeeded",
    "failure": "failed",
    "error": "failed",
    "in_progress": "started",
    "queued": "started",
    "pending": "started",
    "inactive": "was replaced",
}
FIELDS = {"occurred_at": "created_at", "source_id": "id"}
SHORT_SHA = 7


def read(body: bytes, options: ImportOptions) -> Parsed:
    faults = Faults()
    parsed = Parsed()
    for path, status in entries(load_json(body), "", faults):
        status_id = status.get("id")
        if not isinstance(status_id, int | str) or isinstance(status_id, bool) or status_id == "":
            faults.add(f"{path}.id", "required: the status's id", "missing")
        state = faults.text(status, "state", f"{path}.state", required=True)
        if state is not None and state not in OUTCOMES:
            faults.add(f"{path}.state", f"unknown state; expected one of {', '.join(OUTCOMES)}", "enum")
        occurred_at = faults.timestamp(status.get("created_at"), f"{path}.created_at")
        description = _description(status, OUTCOMES.get(state or "", ""), path, faults)
        if occurred_at is None or state not in OUTCOMES or not isinstance(status_id, int | str):
            continue
        values = {"occurred_at": occurred_at, "kind": EventKind.ACTION, "description": description, "source": SOURCE}
        event = faults.event(renamed(path, FIELDS), values | {"source_id": str(status_id)})
        if event is not None:
            parsed.events.append(event)
    faults.raise_if_any()
    return parsed


def _description(status: dict[str, Any], outcome: str, path: str, faults: Faults) -> str:
    """ "Deploy of v1.4.2 to production succeeded: Deployed by Argo", from what the status (and deployment) say."""
    deployment = status.get("deployment")
    deployment = deployment if isinstance(deployment, dict) else {}
    environment = faults.text(status, "environment", f"{path}.environment") or _string(deployment, "environment")
    sha = _string(deployment, "sha")
    what = _string(deployment, "ref") or (sha[:SHORT_SHA] if sha else None) or _string(deployment, "description")
    note = (faults.text(status, "description", f"{path}.description") or "").strip()
    text = "Deploy" + (f" of {what}" if what else "") + (f" to {environment}" if environment else "") + f" {outcome}"
    return clip(f"{text}: {note}" if note else text)


def _string(values: dict[str, Any], key: str) -> str | None:
    value = values.get(key)
    return value if isinstance(value, str) and value else None
