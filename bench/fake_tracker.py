"""A fake GitHub for the outbox benchmark: the issues API the worker calls, answering after 50 ms.

    .venv/bin/python -m bench.fake_tracker --port 8913

The delay stands for GitHub's latency, so deliveries/s measures how well the workers overlap
waiting; everything else is kept cheap (issues are stored with their JSON already encoded) so the
fake takes little of the CPU being measured. Unlike tests/fakes/github.py it checks no contract.

    POST  /repos/{owner}/{repo}/issues            create; 201 with the issue
    GET   /repos/{owner}/{repo}/issues            newest first; per_page (default 30), page, state
    GET   /repos/{owner}/{repo}/issues/{number}   one issue, or 404
    PATCH /repos/{owner}/{repo}/issues/{number}   change title, body, labels, state, state_reason
    GET   /search/issues                          issues whose body holds the quoted phrase of q
    GET   /bench/issues-per-marker                {marker: issues}, for the duplicate and missing check

The service writes `postmortems sync ref: postmortems-<action item id>` into every body it
creates (service/trackers/github.py `marker_line`); that marker is what issues are counted by.
"""

import argparse
import asyncio
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service import server

DELAY_SECONDS = 0.05
MARKER = re.compile(r"postmortems sync ref: (\S+?)</sub>")
PHRASE = re.compile(r'"([^"]+)"')

Endpoint = Callable[[Request], Awaitable[Response]]


class Repository:
    """Every issue of every repository asked for, by number, with its JSON encoded once."""

    def __init__(self) -> None:
        self.issues: dict[int, dict[str, Any]] = {}
        self.encoded: dict[int, bytes] = {}
        self.by_marker: dict[str, list[int]] = {}

    def create(self, api: str, owner: str, repo: str, body: dict[str, Any]) -> bytes:
        number = len(self.issues) + 1
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        issue: dict[str, Any] = {
            "id": 100_000_000 + number,
            "node_id": f"I_kwDO{number}",
            "number": number,
            "url": f"{api}/repos/{owner}/{repo}/issues/{number}",
            "repository_url": f"{api}/repos/{owner}/{repo}",
            "html_url": f"https://github.com/{owner}/{repo}/issues/{number}",
            "title": str(body.get("title", "")),
            "body": str(body.get("body") or ""),
            "state": "open",
            "state_reason": None,
            "labels": [],
            "user": {"login": "postmortems-bot", "id": 90210, "type": "Bot"},
            "comments": 0,
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
        }
        self.issues[number] = issue
        self.update(number, body)
        if match := MARKER.search(issue["body"]):
            self.by_marker.setdefault(match.group(1), []).append(number)
        return self.encoded[number]

    def update(self, number: int, changes: dict[str, Any]) -> bytes:
        issue = self.issues[number]
        for field in ("title", "body", "state", "state_reason"):
            if field in changes:
                issue[field] = changes[field]
        if "labels" in changes:
            issue["labels"] = [{"name": name, "color": "ededed", "default": False} for name in changes["labels"]]
        self.encoded[number] = json.dumps(issue).encode()
        return self.encoded[number]

    def listing(self, numbers: list[int]) -> bytes:
        return b"[" + b",".join(self.encoded[number] for number in numbers) + b"]"

    def issues_per_marker(self) -> Counter[str]:
        return Counter({marker: len(numbers) for marker, numbers in self.by_marker.items()})


def delayed(endpoint: Endpoint) -> Endpoint:
    async def answer(request: Request) -> Response:
        await asyncio.sleep(DELAY_SECONDS)
        return await endpoint(request)

    return answer


def create() -> Starlette:
    repository = Repository()

    def json_bytes(content: bytes, status_code: int = 200) -> Response:
        return Response(content, status_code, media_type="application/json")

    def number_of(request: Request) -> int | None:
        number = int(request.path_params["number"])
        return number if number in repository.issues else None

    async def create_issue(request: Request) -> Response:
        api = str(request.base_url).rstrip("/")
        params = request.path_params
        return json_bytes(repository.create(api, params["owner"], params["repo"], await request.json()), 201)

    async def list_issues(request: Request) -> Response:
        query = request.query_params
        per_page, page = int(query.get("per_page", "30")), int(query.get("page", "1"))
        state = query.get("state", "open")
        newest_first = (n for n in reversed(repository.issues) if state in ("all", repository.issues[n]["state"]))
        return json_bytes(repository.listing(list(islice(newest_first, per_page * (page - 1), per_page * page))))

    async def get_issue(request: Request) -> Response:
        number = number_of(request)
        if number is None:
            return JSONResponse({"message": "Not Found"}, 404)
        return json_bytes(repository.encoded[number])

    async def update_issue(request: Request) -> Response:
        number = number_of(request)
        if number is None:
            return JSONResponse({"message": "Not Found"}, 404)
        return json_bytes(repository.update(number, await request.json()))

    async def search(request: Request) -> Response:
        phrase = PHRASE.search(request.query_params.get("q", ""))
        numbers = repository.by_marker.get(phrase.group(1), []) if phrase else []
        items = repository.listing(numbers)
        return json_bytes(b'{"total_count":%d,"incomplete_results":false,"items":%s}' % (len(numbers), items))

    async def issues_per_marker(_: Request) -> Response:
        return JSONResponse(repository.issues_per_marker())

    return Starlette(
        routes=[
            Route("/repos/{owner}/{repo}/issues", delayed(create_issue), methods=["POST"]),
            Route("/repos/{owner}/{repo}/issues", delayed(list_issues), methods=["GET"]),
            Route("/repos/{owner}/{repo}/issues/{number:int}", delayed(get_issue), methods=["GET"]),
            Route("/repos/{owner}/{repo}/issues/{number:int}", delayed(update_issue), methods=["PATCH"]),
            Route("/search/issues", delayed(search), methods=["GET"]),
            Route("/bench/issues-per-marker", issues_per_marker, methods=["GET"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8913)
    args = parser.parse_args()
    server.run("bench.fake_tracker:create", host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
