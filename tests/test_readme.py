"""The README's API tour, run as written: every shell example in order, against a live service on a fresh
SQLite database, from the repository's root.

What the text asks the reader to fill in (`PM=<the id from the response>`) is filled in as the text says,
from the answer before it (PLACEHOLDERS); an unknown placeholder fails the test, so a new one is explained
here too. Each call's status and the key fields of its answer are checked against EXPECTED, in order.
"""

import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import serving

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TOUR = "## API tour"  # the section run: from this heading to the next of its level
DOCUMENTED_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 120

ANSWER_FIELD = r"""python3 -c '
import json, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
answer = json.loads(re.split(r"\n\s*\n", text, maxsplit=1)[1] if text.startswith("HTTP/") else text)
for key in sys.argv[2:]:
    answer = answer[int(key) if key.isdigit() else key]
print(answer)' "$LAST" """
"""Bash that prints a field of the last answer's JSON body, by the keys after it (headers skipped)."""

PLACEHOLDERS = {
    "the id from the response": ANSWER_FIELD + "id",
    "the id of a delivery from that list": ANSWER_FIELD + "items 0 id",
    "the next_cursor from the response": ANSWER_FIELD + "next_cursor",
}


@dataclass(frozen=True)
class Call:
    status: int
    method: str
    url: str
    body: str

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def content(self) -> str:
        """The body, without the status line and headers `curl -i` shows."""
        return re.split(r"\n\s*\n", self.body, maxsplit=1)[1] if self.body.startswith("HTTP/") else self.body


def tour_section(text: str) -> str:
    """The tour's lines: from its heading to the next heading of its level outside a code block."""
    lines = text.splitlines(keepends=True)
    start = lines.index(f"{TOUR}\n")
    fenced = False
    for number, line in enumerate(lines[start + 1 :], start=start + 1):
        fenced ^= line.startswith("```")
        if not fenced and line.startswith("## "):
            return "".join(lines[start:number])
    return "".join(lines[start:])


def tour_script() -> str:
    """The tour's shell examples, in order, with each placeholder replaced by what fills it."""
    section = tour_section(README.read_text(encoding="utf-8"))
    blocks = re.findall(r"^```sh\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    lines = []
    for line in "".join(blocks).splitlines():
        if (placeholder := re.fullmatch(r"(\w+)=<(.+)>", line)) is not None:
            name, wanted = placeholder.groups()
            if wanted not in PLACEHOLDERS:
                pytest.fail(f"the README asks for <{wanted}>: say in PLACEHOLDERS how the tour fills it in")
            line = f"{name}=$({PLACEHOLDERS[wanted]})"
        lines.append(line)
    return "\n".join(lines) + "\n"


RECORDING_CURL = """
set -eo pipefail
CALLS="$TOUR_DIR/calls"
curl() {
  # Each call's answer as the reader sees it, and its status, method and URL beside it, in order.
  local number
  number=$(printf '%03d' "$(find "$TOUR_DIR" -name 'answer-*' | wc -l)")
  LAST="$TOUR_DIR/answer-$number"
  command curl -w '%{stderr}%{http_code} %{method} %{url_effective}\\n' "$@" 2>>"$CALLS" | tee "$LAST"
}
"""


def run_tour(tmp_path: Path) -> list[Call]:
    database_url = f"sqlite:///{tmp_path / 'tour.db'}"
    recordings = tmp_path / "tour"
    recordings.mkdir()
    script = RECORDING_CURL + tour_script().replace(DOCUMENTED_URL, "$SERVICE_URL")
    with serving(database_url, tmp_path) as server:
        environment = os.environ | {
            "POSTMORTEMS_DATABASE_URL": database_url,
            "SERVICE_URL": server.base_url,
            "TOUR_DIR": str(recordings),
        }
        result = subprocess.run(  # noqa: S603 - the README's own commands
            ["/bin/bash", "-c", script],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
    assert result.returncode == 0, f"the tour stopped:\n{result.stderr}\n{result.stdout[-2000:]}"
    calls = []
    for number, line in enumerate((recordings / "calls").read_text().splitlines()):
        status, method, url = line.split(" ", 2)
        body = (recordings / f"answer-{number:03}").read_text(encoding="utf-8")
        calls.append(Call(int(status), method, url.removeprefix(server.base_url), body))
    return calls


Check = Callable[[Call], Any]


def fields(**expected: Any) -> Check:
    """The answer holds these values."""

    def check(call: Call) -> None:
        answer = call.json()
        assert {name: answer.get(name) for name in expected} == expected, call

    return check


def items(count: int | None = None) -> Check:
    """The answer is a page, of `count` items when given."""

    def check(call: Call) -> None:
        page = call.json()
        assert set(page) >= {"items", "next_cursor"}, call
        assert count is None or len(page["items"]) == count, call

    return check


def contains(*texts: str) -> Check:
    def check(call: Call) -> None:
        assert all(text in call.body for text in texts), call

    return check


def public_report(call: Call) -> None:
    assert call.body.startswith("# Incident report: "), call
    assert "INC-4711" not in call.body


SUGGESTED_TIMES = {
    "started_at": "2025-01-15T08:40:00Z",
    "detected_at": "2025-01-15T08:52:10Z",
    "mitigated_at": "2025-01-15T09:20:00Z",
    "resolved_at": "2025-01-15T09:35:00Z",
}
ID = "[0-9a-f-]{36}"
PM = f"/v1/postmortems/{ID}"
EXPECTED: list[tuple[str, str, int, Check | None]] = [
    ("POST", "/v1/postmortems", 201, fields(status="draft", started_at="2025-01-15T08:50:00Z", duration_minutes=45)),
    ("POST", f"{PM}/timeline", 201, fields(kind="alert", occurred_at="2025-01-15T09:00:00Z")),
    ("POST", f"{PM}/action-items", 201, fields(owner="@payments", priority="P1", due_date="2025-02-15")),
    ("GET", PM, 200, contains("etag: ")),
    ("PATCH", PM, 200, fields(lessons_learned="Config is code: it gets the same review and tests.", version=2)),
    ("GET", "/v1/postmortems", 200, contains("etag: ")),
    ("GET", "/v1/postmortems", 304, lambda call: call.content == ""),
    ("PATCH", PM, 200, fields(customer_data_affected=False)),
    ("GET", f"{PM}/readiness", 200, fields(status="draft", ready=True, errors=[])),
    ("POST", f"{PM}/submit", 200, fields(status="in_review")),
    ("POST", f"{PM}/approve", 200, lambda call: [a["name"] for a in call.json()["approvals"]] == ["alice"]),
    ("POST", f"{PM}/complete", 200, fields(status="complete")),
    ("GET", f"{PM}/history", 200, items(3)),
    ("GET", r"/v1/postmortems\?severity=P2&service=checkout&created_after=.*", 200, items(1)),
    ("GET", r"/v1/action-items\?owner=@payments&overdue=true", 200, items(1)),
    ("GET", f"{PM}/review", 200, contains('"findings"')),
    (
        "POST",
        "/v1/postmortems",
        201,
        fields(
            draft_due_at="2025-01-18T10:00:00Z",
            review_due_at="2025-01-20T10:00:00Z",
            complete_due_at="2025-01-24T10:00:00Z",
            overdue=True,
        ),
    ),
    ("GET", r"/v1/postmortems\?overdue=true&severity=P1", 200, items(0)),
    ("POST", f"{PM}/action-items", 201, fields(priority="P0", due_date=None, slo_breached=False)),
    ("GET", r"/v1/action-items\?slo_breached=true&owner=@payments-oncall", 200, items(0)),
    ("GET", r"/v1/postmortems\?q=.*", 200, items()),
    ("GET", r"/v1/postmortems\?q=.*&severity=P1&service=orders", 200, items(0)),
    ("GET", "/v1/stats", 200, lambda call: call.json()["window"]["service"] is None),  # incidents of 2025: none
    ("GET", r"/v1/stats\?from=.*", 200, lambda call: call.json()["window"]["service"] == "checkout"),
    ("GET", f"{PM}/export", 200, contains("# Checkout errors after config push", "## Timeline")),
    ("GET", f"{PM}/export\\?format=json", 200, lambda call: len(call.json()["timeline"]) == 1),
    ("GET", f"{PM}/export\\?audience=public", 200, public_report),
    ("POST", "/v1/postmortems/import", 201, contains("location: /v1/postmortems/", '"status":"draft"')),
    ("POST", "/v1/postmortems", 201, fields(status="draft")),
    ("POST", f"{PM}/timeline/import\\?source=pagerduty&dry_run=true", 200, fields(dry_run=True, skipped=4)),
    ("POST", f"{PM}/timeline/import\\?source=pagerduty", 200, lambda call: len(call.json()["added"]) == 5),
    ("POST", f"{PM}/timeline/import\\?source=slack", 200, lambda call: len(call.json()["added"]) == 9),
    ("POST", f"{PM}/timeline/import\\?source=github-deployments", 200, lambda call: len(call.json()["added"]) == 4),
    ("POST", f"{PM}/timeline/import\\?source=csv", 200, fields(suggested_times=SUGGESTED_TIMES)),
    ("GET", f"{PM}/readiness", 200, fields(suggested_times=SUGGESTED_TIMES)),
    ("PATCH", PM, 200, fields(**SUGGESTED_TIMES)),
    ("POST", "/v1/integrations", 201, fields(kind="github", default=True, has_webhook_secret=True)),
    ("POST", f"{PM}/action-items", 201, lambda call: call.json()["integration_id"] is not None),
    ("GET", r"/v1/deliveries\?status=dead", 200, items(0)),
    ("GET", "/v1/deliveries", 200, items(1)),
    ("POST", f"/v1/deliveries/{ID}/retry", 409, contains("only dead deliveries can be retried")),
    ("POST", f"/v1/action-items/{ID}/sync", 409, contains("no ticket to sync with yet")),
    ("POST", "/v1/subscriptions", 201, lambda call: call.json()["secret"].startswith("whsec_")),
    ("POST", f"{PM}/action-items", 201, fields(title="Alert on queue depth")),
    ("POST", f"/v1/subscriptions/{ID}/rotate-secret", 200, lambda call: call.json()["secret"].startswith("whsec_")),
    (
        "GET",
        f"/v1/subscriptions/{ID}/deliveries",
        200,
        lambda call: call.json()["items"][0]["event_type"] == "action_item.created",
    ),
    ("POST", f"/v1/subscriptions/{ID}/deliveries/{ID}/retry", 409, contains("pending")),
    ("PATCH", f"/v1/subscriptions/{ID}", 200, fields(enabled=True)),
    ("GET", r"/v1/events\?limit=100", 200, lambda call: call.json()["items"][0]["type"] == "postmortem.created"),
    ("GET", r"/v1/events\?after=.*&type=action_item.overdue", 200, items(0)),
    ("POST", "/v1/policy/evaluate", 200, fields(required=True, template="quick")),
    ("DELETE", "/v1/postmortems", 405, contains("allow: GET, HEAD, OPTIONS, POST")),
]


def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    calls = run_tour(tmp_path)

    assert [(call.method, call.status) for call in calls] == [(method, status) for method, _, status, _ in EXPECTED]
    for call, (_, path, _, check) in zip(calls, EXPECTED, strict=True):
        assert re.fullmatch(path, call.url), (path, call.url)
        if check is not None:
            assert check(call) is not False, call
