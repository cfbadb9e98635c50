"""The trackers the sync scenarios run against, one adapter per fake.

An adapter says how to connect the tracker, which faults to inject, what a person does in the
tracker (change, finish, delete an issue), how the tracker signs its webhooks, and how an issue
reads once it is back from the fake. The fakes check every request against the trackers' contracts.
"""

import json
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Generic, TypeVar

import httpx

from service.outbox.worker import Worker
from tests.contracts.paths import JIRA
from tests.factories import add_action_item, create_postmortem
from tests.fakes import github as fake_github
from tests.fakes import jira as fake_jira
from tests.fakes import linear as fake_linear
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import FakeJira
from tests.fakes.linear import FakeIssue, FakeLinear, GraphQLFault
from tests.fakes.server import FakeTracker, Fault
from tests.sync.helpers import SECRET, connect, deliveries, drain, item_of, post_webhook

AnyFault = Fault | GraphQLFault
Payload = dict[str, Any]
Signed = tuple[dict[str, str], bytes]  # headers and body
FakeT = TypeVar("FakeT", bound=FakeTracker)

COMMON_TRANSIENT_FAULTS: Mapping[str, AnyFault] = {
    "500": Fault(status=500),
    "429": Fault(status=429, headers={"Retry-After": "0"}),
    "dropped": Fault(drop=True),
}


@dataclass(frozen=True)
class Issue:
    """An issue read back from a fake, in the terms the trackers share."""

    title: str
    due_date: str | None
    labels: frozenset[str]
    links: tuple[str, ...]  # link targets in the description
    state: str  # Jira's status, Linear's workflow state, GitHub's open or closed
    resolution: str | None = None  # Jira's resolution, GitHub's state_reason
    priority: int | None = None  # Linear's priority field (elsewhere the priority is a label)
    issue_type: str | None = None  # Jira's issue type


@dataclass(frozen=True)
class Pushed:
    """What the tracker shows after a local status change is pushed, and the state the link records."""

    state: str
    resolution: str | None
    link_state: str


class Tracker(ABC, Generic[FakeT]):
    """One tracker's fake, and what the shared scenarios need to know about the tracker."""

    kind: ClassVar[str]
    integration_name: ClassVar[str]
    token: ClassVar[str]  # the tracker credential the fake accepts
    lost_create: ClassVar[AnyFault]  # the tracker creates the issue, but the answer never arrives
    transient_faults: ClassVar[Mapping[str, AnyFault]]
    permanent_faults: ClassVar[Mapping[str, tuple[AnyFault, str]]]  # the fault, and what the error names
    native_priority: ClassVar[Mapping[str, int]] = {}  # item priority -> the tracker's own priority field
    issue_type: ClassVar[str | None] = None
    pushed: ClassVar[Mapping[str, Pushed]]  # by local status change (see test_tracker_sync.STATUS_CHANGES)
    remote_change: ClassVar[tuple[str, str]]  # (item status, link state) after `change_on_tracker`
    local_change: ClassVar[tuple[str, str]]  # (a status set here, the tracker's state once it is pushed)
    optional_delivery_header: ClassVar[bool] = False  # deliveries may come without a delivery id header
    signature_headers: ClassVar[frozenset[str]]  # lower-case
    forged_state: ClassVar[tuple[bytes, bytes]]  # in a finished issue's webhook body: a state, and another
    unmapped_state: ClassVar[str | None] = None  # the link state of `move_to_unmapped_state`, if it has one
    deletion_routes: ClassVar[tuple[str, ...]]  # how the deletion reaches us: "sync" or a kind of webhook

    def __init__(self, fake: FakeT) -> None:
        self.fake = fake

    async def connect(self, admin_client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
        """The default integration for this fake, with its webhook secret."""
        body = {
            "kind": self.kind,
            "name": self.integration_name,
            "base_url": self.fake.base_url,
            "settings": self.settings(),
            "credentials": {"token": self.token},
        }
        return await connect(admin_client, body | overrides)

    async def send(
        self,
        anonymous_client: httpx.AsyncClient,
        integration: dict[str, Any],
        payload: Payload,
        *,
        delivery_id: str | None = None,
        attempt: int = 0,
        delivery_header: bool = True,
    ) -> httpx.Response:
        """The event, signed with the integration's secret, posted to the integration's webhook."""
        signed = self.signed(payload, delivery_id=delivery_id, attempt=attempt, delivery_header=delivery_header)
        return await post_webhook(anonymous_client, self.kind, integration, *signed)

    def inject(self, fault: AnyFault) -> None:
        assert isinstance(fault, Fault)
        self.fake.faults.append(fault)

    def hold_create(self, release: threading.Event) -> None:
        """The tracker makes the next issue at once, but answers only once `release` is set."""
        assert isinstance(self.lost_create, Fault)
        self.inject(replace(self.lost_create, after=False, drop=False, hold=release))

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """The integration's tracker settings for this fake."""

    @abstractmethod
    def creates(self) -> int:
        """How many create requests the tracker received."""

    @abstractmethod
    def issue_ids(self) -> list[str]: ...

    @abstractmethod
    def issue(self, issue_id: str) -> Issue: ...

    @abstractmethod
    def new_link(self, issue_id: str) -> dict[str, Any]:
        """The link saved for the first issue created, without `synced_at`."""

    def signed(
        self,
        payload: Payload,
        secret: str = SECRET,
        *,
        delivery_id: str | None = None,
        attempt: int = 0,
        delivery_header: bool = True,
    ) -> Signed:
        """Headers and body of a delivery signed like the tracker signs it: the `attempt`-th delivery
        of `delivery_id` (a fresh id unless given), or one without a delivery id header."""
        assert delivery_header or self.optional_delivery_header, f"{self.kind} names every delivery"
        return self.sign(payload, secret, delivery_id, attempt, delivery_header)

    @abstractmethod
    def sign(self, payload: Payload, secret: str, delivery_id: str | None, attempt: int, with_id: bool) -> Signed: ...

    @abstractmethod
    def webhook(self, issue_id: str) -> Payload:
        """The event the tracker sends about the issue as it is now."""

    @abstractmethod
    def change_on_tracker(self, issue_id: str) -> Payload:
        """A person changes the issue's state (to what `remote_change` maps); the event about it."""

    @abstractmethod
    def finish_on_tracker(self, issue_id: str) -> None:
        """A person marks the issue done."""

    @abstractmethod
    def unrelated_webhooks(self, issue_id: str) -> list[Payload]:
        """An event about an issue no item is linked to, and one of a kind that says nothing of an issue's state."""

    def stranger_webhook(self) -> Payload:
        """An event about an issue the fake does not hold (trackers whose fake can tell of one)."""
        raise NotImplementedError(f"{self.kind}'s fake tells only of its own issues")

    @abstractmethod
    def delete_on_tracker(self, issue_id: str, route: str) -> Payload | None:
        """A person deletes the issue; the event that says so, for the webhook routes."""

    def move_to_unmapped_state(self, issue_id: str) -> None:
        """A person moves the issue into a state the status map does not name (trackers with `unmapped_state`)."""
        raise NotImplementedError(f"{self.kind} has no state outside the status map")


def markdown_links(text: str | None) -> tuple[str, ...]:
    return tuple(re.findall(r"\]\(([^)\s]+)\)", text or ""))


class JiraTracker(Tracker[FakeJira]):
    kind = "jira"
    integration_name = "ops-jira"
    token = fake_jira.TOKEN
    create_path: ClassVar[str] = "/rest/api/3/issue"
    lost_create = Fault(after=True, drop=True, method="POST", path_contains=create_path)
    transient_faults: ClassVar[Mapping[str, AnyFault]] = {
        **COMMON_TRANSIENT_FAULTS,
        "503-on-create": Fault(status=503, method="POST", path_contains=create_path),
    }
    permanent_faults: ClassVar[Mapping[str, tuple[AnyFault, str]]] = {
        "400": (Fault(status=400, method="POST", path_contains=create_path), "400"),
        "401": (Fault(status=401, method="POST", path_contains=create_path), "401"),
    }
    issue_type = "Task"
    pushed: ClassVar[Mapping[str, Pushed]] = {
        "in_progress": Pushed("In Progress", None, "In Progress"),
        "done": Pushed("Done", "Done", "Done"),
        "wont_do": Pushed("Done", "Won't Do", "Done"),
        "reopened": Pushed("To Do", None, "To Do"),
    }
    remote_change = ("wont_do", "Done")
    local_change = ("open", "To Do")
    signature_headers = frozenset({"x-hub-signature"})
    forged_state = (b'"Done"', b'"To Do"')
    unmapped_state = "Blocked"
    deletion_routes = ("webhook", "sync")

    def settings(self) -> dict[str, Any]:
        return {"project_key": "OPS", "email": fake_jira.EMAIL}

    def creates(self) -> int:
        return sum(r.method == "POST" and r.path == self.create_path for r in self.fake.requests)

    def issue_ids(self) -> list[str]:
        return list(self.fake.issues)

    def issue(self, issue_id: str) -> Issue:
        fields = self.fake.issue(issue_id)["fields"]
        return Issue(
            title=fields["summary"],
            due_date=fields["duedate"],
            labels=frozenset(fields["labels"]),
            links=tuple(adf_links(fields["description"] or {})),
            state=fields["status"]["name"],
            resolution=(fields["resolution"] or {}).get("name"),
            issue_type=fields["issuetype"]["name"],
        )

    def new_link(self, issue_id: str) -> dict[str, Any]:
        url = f"{self.fake.base_url}/browse/OPS-1"
        return {"tracker": "jira", "id": issue_id, "key": "OPS-1", "url": url, "state": "To Do", "unmapped": 0}

    def sign(self, payload: Payload, secret: str, delivery_id: str | None, attempt: int, with_id: bool) -> Signed:
        return fake_jira.signed_webhook(payload, secret, delivery_id=delivery_id, retry=attempt)

    def webhook(self, issue_id: str) -> Payload:
        return self.fake.webhook(issue_id)

    def change_on_tracker(self, issue_id: str) -> Payload:
        self.fake.move(issue_id, "Done", resolution="Won't Do")
        return self.fake.webhook(issue_id)

    def finish_on_tracker(self, issue_id: str) -> None:
        self.fake.move(issue_id, "Done", resolution="Done")

    def unrelated_webhooks(self, issue_id: str) -> list[Payload]:
        unknown = self.fake.webhook(issue_id)
        unknown["issue"] = unknown["issue"] | {"id": "99999", "key": "OPS-999"}
        return [unknown, self.fake.webhook(issue_id) | {"webhookEvent": "comment_created"}]

    def stranger_webhook(self) -> Payload:
        payload: Payload = json.loads((JIRA / "webhook-examples" / "webhook-issue-updated-reopened.json").read_text())
        return payload

    def move_to_unmapped_state(self, issue_id: str) -> None:
        self.fake.add_status("Blocked", "undefined", transition_id="41")
        self.fake.move(issue_id, "Blocked")

    def delete_on_tracker(self, issue_id: str, route: str) -> Payload | None:
        self.fake.delete_issue(issue_id)
        return self.fake.webhook(issue_id, "jira:issue_deleted") if route == "webhook" else None


def adf_links(document: dict[str, Any]) -> list[str]:
    """Every link in an ADF document."""
    found: list[str] = []
    for node in document.get("content", []):
        found += [mark["attrs"]["href"] for mark in node.get("marks", []) if mark["type"] == "link"]
        found += adf_links(node)
    return found


def linear_internal_error(**options: Any) -> GraphQLFault:
    return GraphQLFault("Internal server error", "INTERNAL_SERVER_ERROR", "internal error", status=500, **options)


def linear_rate_limited() -> GraphQLFault:
    """Linear's rate limit answer: HTTP 400, code RATELIMITED, and the exhausted budget's reset (epoch ms)."""
    headers = {"X-RateLimit-Requests-Remaining": "0", "X-RateLimit-Requests-Reset": str(fake_linear.now_ms())}
    return GraphQLFault("Rate limit exceeded", "RATELIMITED", "ratelimited", status=400, headers=headers)


class LinearTracker(Tracker[FakeLinear]):
    kind = "linear"
    integration_name = "eng-linear"
    token = fake_linear.API_KEY
    lost_create = linear_internal_error(after=True, field="issueCreate")
    transient_faults: ClassVar[Mapping[str, AnyFault]] = {
        **COMMON_TRANSIENT_FAULTS,
        "ratelimited": linear_rate_limited(),
        "internal-error-on-create": linear_internal_error(field="issueCreate"),
    }
    permanent_faults: ClassVar[Mapping[str, tuple[AnyFault, str]]] = {
        "unauthorized": (Fault(status=401), "401"),
        "invalid-input": (
            GraphQLFault("Argument Validation Error", "INPUT_ERROR", "invalid input", field="issueCreate"),
            "Argument",
        ),
    }
    native_priority: ClassVar[Mapping[str, int]] = {"P0": 1, "P2": 3}
    pushed: ClassVar[Mapping[str, Pushed]] = {
        "in_progress": Pushed("In Progress", None, "started"),
        "done": Pushed("Done", None, "completed"),
        "wont_do": Pushed("Canceled", None, "canceled"),
        "reopened": Pushed("Todo", None, "unstarted"),
    }
    remote_change = ("in_progress", "started")
    local_change = ("done", "Done")
    optional_delivery_header = True
    signature_headers = frozenset({"linear-signature"})
    forged_state = (b'"completed"', b'"canceled"')
    unmapped_state = "paused"
    deletion_routes = ("remove-webhook", "trashed-webhook", "sync")

    def inject(self, fault: AnyFault) -> None:
        if isinstance(fault, GraphQLFault):
            self.fake.graphql_faults.append(fault)
        else:
            self.fake.faults.append(fault)

    def settings(self) -> dict[str, Any]:
        return {"team_id": self.fake.team_id}

    def creates(self) -> int:
        return self.fake.operations.count("issueCreate")

    def issue_ids(self) -> list[str]:
        return list(self.fake.issues)

    def issue(self, issue_id: str) -> Issue:
        issue = self.fake.issues[issue_id]
        return Issue(
            title=issue.title,
            due_date=issue.due_date,
            labels=frozenset(self.fake.label_names(issue)),
            links=markdown_links(issue.description),
            state=self.fake.state_of(issue).name,
            priority=issue.priority,
        )

    def new_link(self, issue_id: str) -> dict[str, Any]:
        url = self.fake.url(self.fake.issues[issue_id])
        return {"tracker": "linear", "id": issue_id, "key": "ENG-1", "url": url, "state": "backlog", "unmapped": 0}

    def sign(self, payload: Payload, secret: str, delivery_id: str | None, attempt: int, with_id: bool) -> Signed:
        return fake_linear.sign_webhook(payload, secret, delivery_id=delivery_id, with_delivery=with_id)

    def move(self, issue: FakeIssue, state: str) -> None:
        """What a person does in Linear: put the issue into another workflow state."""
        self.fake.update_issue(issue.id, {"stateId": self.fake.state_named(state).id})

    def webhook(self, issue_id: str) -> Payload:
        return self.fake.issue_webhook(self.fake.issues[issue_id])

    def change_on_tracker(self, issue_id: str) -> Payload:
        issue = self.fake.issues[issue_id]
        before = self.fake.state_of(issue).id
        self.move(issue, "In Review")
        return self.fake.issue_webhook(issue, updated_from={"stateId": before})

    def finish_on_tracker(self, issue_id: str) -> None:
        self.move(self.fake.issues[issue_id], "Done")

    def unrelated_webhooks(self, issue_id: str) -> list[Payload]:
        stranger = self.fake.add_issue("Made in Linear", state="Done")
        comment = {
            "id": "c0ffee00-0000-4000-8000-000000000000",
            "body": "Looks good",
            "issueId": issue_id,
            "createdAt": fake_linear.now_iso(),
            "updatedAt": fake_linear.now_iso(),
            "reactionData": {},
        }
        return [self.fake.issue_webhook(stranger), self.fake.entity_webhook("Comment", "create", comment)]

    def move_to_unmapped_state(self, issue_id: str) -> None:
        self.fake.add_state("Paused", "paused", 3.5)
        self.move(self.fake.issues[issue_id], "Paused")

    def delete_on_tracker(self, issue_id: str, route: str) -> Payload | None:
        issue = self.fake.issues[issue_id]
        issue.trashed = True
        if route == "sync":
            return None
        return self.fake.issue_webhook(issue, "remove" if route == "remove-webhook" else "update")


class GitHubTracker(Tracker[FakeGitHub]):
    kind = "github"
    integration_name = "followups"
    token = fake_github.TOKEN
    # POST only: before creating, the worker looks for the issue with a GET of the same path.
    lost_create = Fault(after=True, drop=True, method="POST", path_contains="/issues")
    transient_faults: ClassVar[Mapping[str, AnyFault]] = {**COMMON_TRANSIENT_FAULTS, "502": Fault(status=502)}
    permanent_faults: ClassVar[Mapping[str, tuple[AnyFault, str]]] = {"422": (Fault(status=422), "422")}
    pushed: ClassVar[Mapping[str, Pushed]] = {
        "in_progress": Pushed("open", None, "label:in-progress"),
        "done": Pushed("closed", "completed", "closed:completed"),
        "wont_do": Pushed("closed", "not_planned", "closed:not_planned"),
        "reopened": Pushed("open", None, "open"),
    }
    remote_change = ("wont_do", "closed:not_planned")
    local_change = ("open", "open")
    signature_headers = frozenset({"x-hub-signature", "x-hub-signature-256"})
    forged_state = (b'"closed"', b'"open"')
    deletion_routes = ("webhook", "sync")

    def settings(self) -> dict[str, Any]:
        return {"owner": self.fake.owner, "repo": self.fake.repo}

    def creates(self) -> int:
        return sum(r.method == "POST" and r.path.endswith("/issues") for r in self.fake.requests)

    def issue_ids(self) -> list[str]:
        return [str(number) for number in self.fake.issues]

    def issue(self, issue_id: str) -> Issue:
        issue = self.fake.issues[int(issue_id)]
        labels = frozenset(label["name"] for label in issue["labels"])
        due_dates = sorted(label.removeprefix("due:") for label in labels if label.startswith("due:"))
        return Issue(
            title=issue["title"],
            due_date=",".join(due_dates) or None,  # GitHub has no due date field: the date travels as a label
            labels=labels,
            links=markdown_links(issue["body"]),
            state=issue["state"],
            resolution=issue["state_reason"],
        )

    def new_link(self, issue_id: str) -> dict[str, Any]:
        url = f"https://github.com/{self.fake.full_name}/issues/1"
        return {"tracker": "github", "id": issue_id, "key": "#1", "url": url, "state": "open", "unmapped": 0}

    def sign(self, payload: Payload, secret: str, delivery_id: str | None, attempt: int, with_id: bool) -> Signed:
        return fake_github.signed_delivery(payload, secret, delivery_id=delivery_id)

    def webhook(self, issue_id: str) -> Payload:
        number = int(issue_id)
        return self.fake.issue_payload(
            number, "closed" if self.fake.issues[number]["state"] == "closed" else "reopened"
        )

    def change_on_tracker(self, issue_id: str) -> Payload:
        self.fake.edit_on_github(int(issue_id), state="closed", state_reason="not_planned")
        return self.webhook(issue_id)

    def finish_on_tracker(self, issue_id: str) -> None:
        self.fake.edit_on_github(int(issue_id), state="closed", state_reason="completed")

    def unrelated_webhooks(self, issue_id: str) -> list[Payload]:
        stranger = self.fake.seed_issue("Made on GitHub", state="closed", state_reason="completed")
        pinned = self.fake.issue_payload(int(issue_id), "pinned")  # an action that says nothing of the state
        return [self.fake.issue_payload(stranger["number"], "closed"), pinned]

    def stranger_webhook(self) -> Payload:
        return self.fake.issue_payload(4242, "reopened")

    def delete_on_tracker(self, issue_id: str, route: str) -> Payload | None:
        payload = self.fake.issue_payload(int(issue_id), "deleted") if route == "webhook" else None
        self.fake.delete_issue(int(issue_id))
        return payload


TRACKERS: Mapping[str, type[Tracker[Any]]] = {
    tracker.kind: tracker for tracker in (JiraTracker, LinearTracker, GitHubTracker)
}


async def linked_item(
    client: httpx.AsyncClient, admin_client: httpx.AsyncClient, tracker: Tracker[Any], worker: Worker
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A connected integration, and an action item whose issue exists in the tracker."""
    integration = await tracker.connect(admin_client)
    postmortem = await create_postmortem(client)
    created = await add_action_item(client, postmortem["id"])
    await drain(worker)
    item = await item_of(client, created["id"])
    assert item["sync_status"] == "synced"
    return integration, item


async def assert_refused_and_nothing_changed(
    response: httpx.Response, client: httpx.AsyncClient, worker: Worker, item: dict[str, Any]
) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    await drain(worker)
    assert (await item_of(client, item["id"]))["status"] == "open"
    assert [d["kind"] for d in await deliveries(client)] == ["tracker.push"]
