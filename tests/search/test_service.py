"""What is searched, how results are ranked and paged, and how the index follows every change."""

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from service.core.pagination import SEARCH_CURSOR_PREFIX
from service.postmortems.models import Postmortem
from service.timeline.models import EventKind, TimelineEvent
from tests.database import committed_session
from tests.factories import add_action_item, add_event, create_postmortem, submittable_postmortem
from tests.problems import UNKNOWN_ID, assert_invalid, problem_errors
from tests.search.searching import found, search, walk


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


# --- what is searched ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "Zeppelin hangar outage"},
        {"summary": "The zeppelin feed stopped for an hour."},
        {"root_cause": "A zeppelin schema change removed a column."},
        {"contributing_factors": ["No canary stage", "The zeppelin client retried forever"]},
        {"lessons_learned": "Zeppelin needs its own dashboard."},
    ],
)
async def test_each_searched_field_is_found(client: httpx.AsyncClient, fields: dict[str, Any]) -> None:
    await create_postmortem(client, title="Unrelated outage", summary="Checkout failed.")
    wanted = await create_postmortem(client, **({"title": "Wanted"} | fields))

    page = await search(client, "zeppelin")

    assert ids(page) == [wanted["id"]]


async def test_timeline_descriptions_are_found(client: httpx.AsyncClient) -> None:
    await create_postmortem(client, title="Unrelated outage")
    wanted = await create_postmortem(client, title="Wanted")
    await add_event(client, wanted["id"], description="Rolled back the zeppelin deploy")

    assert ids(await search(client, "zeppelin")) == [wanted["id"]]


async def test_found_postmortems_read_as_in_the_list(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client, title="Zeppelin hangar outage", services=["hangar"])
    await add_action_item(client, postmortem["id"])

    searched = (await search(client, "zeppelin"))["items"]
    listed = (await client.get("/v1/postmortems")).json()["items"]

    assert searched == listed
    assert searched[0]["action_items_summary"]["total"] == 1


async def test_other_fields_are_not_searched(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(
        client,
        title="Checkout outage",
        incident_ref="ZEPPELIN-1",
        services=["zeppelin"],
        tags=["zeppelin"],
        failure_mode="zeppelin",
        authors=["zeppelin"],
        impact={"description": "Zeppelin users saw errors"},
        five_whys=[{"question": "Why zeppelin?", "answer": "Zeppelin."}],
        what_went_well=["Zeppelin paged quickly"],
        what_went_poorly=["Zeppelin had no runbook"],
    )
    await add_event(client, postmortem["id"], description="Alert fired", source="zeppelin")
    await add_action_item(client, postmortem["id"], title="Give zeppelin a runbook")

    assert await found(client, "zeppelin") == []
    assert await found(client, "checkout") == ["Checkout outage"]


# --- ranking -----------------------------------------------------------------------------------------------------


async def test_a_title_match_ranks_above_a_summary_match_above_a_timeline_match(client: httpx.AsyncClient) -> None:
    """Created best match first, so newest-first order would be the reverse."""
    title = await create_postmortem(client, title="Zeppelin outage", summary="Checkout failed for ten minutes.")
    summary = await create_postmortem(client, title="Checkout outage", summary="Zeppelin failed for ten minutes.")
    timeline = await create_postmortem(client, title="Checkout outage", summary="Checkout failed for ten minutes.")
    await add_event(client, timeline["id"], description="Zeppelin failed")
    await create_postmortem(client, title="Checkout outage", summary="Checkout failed for ten minutes.")

    assert ids(await search(client, "zeppelin")) == [title["id"], summary["id"], timeline["id"]]


async def test_root_cause_weighs_like_the_summary_and_more_than_lessons(client: httpx.AsyncClient) -> None:
    lessons = await create_postmortem(client, title="One", lessons_learned="Zeppelin needs a canary.")
    root_cause = await create_postmortem(client, title="Two", root_cause="Zeppelin needs a canary.")

    assert ids(await search(client, "zeppelin")) == [root_cause["id"], lessons["id"]]


async def test_equal_matches_come_newest_first(client: httpx.AsyncClient) -> None:
    created = [(await create_postmortem(client, title="Zeppelin outage"))["id"] for _ in range(4)]

    assert ids(await search(client, "zeppelin")) == created[::-1]


# --- filters and pages -------------------------------------------------------------------------------------------


async def test_search_combines_with_every_filter(client: httpx.AsyncClient) -> None:
    wanted = await create_postmortem(
        client, title="Zeppelin outage", severity="P1", services=["hangar"], tags=["airship"], failure_mode="wind"
    )
    for different in [
        {"severity": "P2"},
        {"services": ["dock"]},
        {"tags": ["ground"]},
        {"failure_mode": "rain"},
        {"title": "Checkout outage"},
    ]:
        fields = {"title": "Zeppelin outage", "severity": "P1", "services": ["hangar"], "tags": ["airship"]}
        await create_postmortem(client, **(fields | {"failure_mode": "wind"} | different))
    in_review = await submittable_postmortem(client, title="Zeppelin outage", severity="P1")
    assert (await client.post(f"/v1/postmortems/{in_review['id']}/submit")).status_code == 200

    filters = {"severity": "P1", "service": "hangar", "tag": "airship", "failure_mode": "wind", "status": "draft"}
    assert ids(await search(client, "zeppelin", **filters)) == [wanted["id"]]
    assert ids(await search(client, "zeppelin", status="in_review")) == [in_review["id"]]
    assert ids(await search(client, "zeppelin", created_before=wanted["created_at"])) == []
    assert ids(await search(client, "zeppelin", created_after=in_review["created_at"])) == [in_review["id"]]


async def _ranked_corpus(client: httpx.AsyncClient) -> list[str]:
    """Ten matches of 'zeppelin' with distinct ranks and ties, and one postmortem that does not match."""
    created = []
    for title, summary, events in [
        ("Zeppelin outage", "Zeppelin zeppelin failed.", 0),
        ("Checkout outage", "Zeppelin failed.", 1),
        ("Zeppelin outage", "Checkout failed.", 0),
        ("Checkout outage", "Checkout failed.", 1),
        ("Checkout outage", "Zeppelin failed.", 0),
        ("Zeppelin outage", "Zeppelin zeppelin failed.", 2),
        ("Checkout outage", "Checkout failed.", 0),
        ("Checkout outage", "Checkout failed.", 2),
        ("Zeppelin outage", "Checkout failed.", 0),
        ("Checkout outage", "Zeppelin failed.", 3),
        ("Checkout outage", "Checkout failed.", 1),
    ]:
        postmortem = await create_postmortem(client, title=title, summary=summary)
        for _ in range(events):
            await add_event(client, postmortem["id"], description="Zeppelin paged")
        created.append(postmortem["id"])
    return created


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 9, 10])
async def test_walking_ranked_pages_returns_every_match_once_in_rank_order(
    client: httpx.AsyncClient, limit: int
) -> None:
    await _ranked_corpus(client)
    everything = ids(await search(client, "zeppelin", limit=200))
    assert len(everything) == 10

    assert await walk(client, "zeppelin", limit) == everything


async def test_pages_stay_exact_while_other_postmortems_are_written(client: httpx.AsyncClient) -> None:
    """Writes between pages change SQLite's bm25 statistics; the next page must still start where the last ended."""
    await _ranked_corpus(client)
    for n in range(10):
        await create_postmortem(client, title=f"Checkout outage {n}")
    everything = ids(await search(client, "zeppelin", limit=200))
    seen: list[str] = []
    cursor = None
    while True:
        page = await search(client, "zeppelin", limit=2, **({"cursor": cursor} if cursor else {}))
        seen.extend(ids(page))
        for n in range(8):
            await create_postmortem(client, title=f"Checkout outage {n}", summary="Checkout failed again.")
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == everything


async def _title_matches(client: httpx.AsyncClient, count: int) -> list[str]:
    """Postmortems matching 'zeppelin' in the title, ranked by how often the summary repeats it (no ties).

    Others that do not match make 'zeppelin' rare, so that on SQLite its bm25 weight (idf) changes with every
    postmortem that stops matching.
    """
    for _ in range(2 * count):
        await create_postmortem(client, title="Checkout outage", summary="Checkout failed.")
    created = []
    for n in range(count):
        summary = " ".join(["Zeppelin"] * n + ["failed."])
        created.append((await create_postmortem(client, title="Zeppelin outage", summary=summary))["id"])
    everything = ids(await search(client, "zeppelin", limit=200))
    assert sorted(everything) == sorted(created)
    return everything


@pytest.mark.parametrize("limit", [1, 3])
async def test_deleting_the_last_match_of_a_page_does_not_break_the_next_page(
    client: httpx.AsyncClient, limit: int
) -> None:
    everything = await _title_matches(client, 8)
    seen: list[str] = []
    cursor = None
    while True:
        page = await search(client, "zeppelin", limit=limit, **({"cursor": cursor} if cursor else {}))
        seen.extend(ids(page))
        assert (await client.delete(f"/v1/postmortems/{ids(page)[-1]}")).status_code == 204
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == everything


async def test_a_page_continues_after_its_last_match_stopped_matching(client: httpx.AsyncClient) -> None:
    everything = await _title_matches(client, 8)
    first = await search(client, "zeppelin", limit=3)
    unmatched = {"title": "Checkout outage", "summary": "Checkout failed."}
    assert (await client.patch(f"/v1/postmortems/{ids(first)[-1]}", json=unmatched)).status_code == 200

    rest = await search(client, "zeppelin", limit=200, cursor=first["next_cursor"])

    assert ids(rest) == everything[3:]


async def test_a_cursor_whose_postmortems_are_gone_continues_after_its_rank(client: httpx.AsyncClient) -> None:
    everything = await _title_matches(client, 6)
    cursor = (await search(client, "zeppelin", limit=2))["next_cursor"]
    encoded = cursor.removeprefix(SEARCH_CURSOR_PREFIX)
    rank, _, _, fingerprint = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))

    rest = await search(client, "zeppelin", limit=200, cursor=_cursor(rank, UNKNOWN_ID, UNKNOWN_ID, fingerprint))

    assert ids(rest) == everything[2:]


async def test_a_cursor_continues_only_the_search_it_came_from(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await create_postmortem(client, title="Zeppelin hangar outage")
    cursor = (await search(client, "zeppelin", limit=1))["next_cursor"]
    assert cursor is not None

    for other in ["hangar", "zeppelin hangar", "zeppelin -dock", "zeppelin or dock"]:
        response = await client.get("/v1/postmortems", params={"q": other, "cursor": cursor})
        assert_invalid(response, "cursor", location="query")
    [error] = problem_errors(await client.get("/v1/postmortems", params={"cursor": cursor}), 422)
    assert (error["field"], error["code"], error["message"]) == (
        "cursor",
        "cursor_needs_q",
        "was returned for a search; send it with the same q",
    )

    for same in ["zeppelin", "  Zeppelin ", "ZEPPELIN"]:
        assert len((await search(client, same, limit=5, cursor=cursor))["items"]) == 2


async def test_a_cursor_of_the_unsearched_list_is_refused_by_a_search(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        await create_postmortem(client, title="Zeppelin outage")
    cursor = (await client.get("/v1/postmortems", params={"limit": 1})).json()["next_cursor"]

    [error] = problem_errors(await client.get("/v1/postmortems", params={"q": "zeppelin", "cursor": cursor}), 422)
    assert (error["field"], error["code"]) == ("cursor", "cursor_without_q")


def _cursor(*values: Any) -> str:
    """A search cursor holding `values`."""
    return SEARCH_CURSOR_PREFIX + base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        _cursor("1.0", UNKNOWN_ID),
        _cursor("1.0", UNKNOWN_ID, "", "0123456789abcdef", "x"),
        _cursor(1.0, UNKNOWN_ID, "", "0123456789abcdef"),
        _cursor("1.0", UNKNOWN_ID, None, "0123456789abcdef"),
        _cursor("high", UNKNOWN_ID, "", "0123456789abcdef"),
        _cursor("nan", UNKNOWN_ID, "", "0123456789abcdef"),
        _cursor("-inf", UNKNOWN_ID, UNKNOWN_ID, "0123456789abcdef"),
        _cursor("1.0", "not-a-uuid", "", "0123456789abcdef"),
        _cursor("1.0", UNKNOWN_ID, "not-a-uuid", "0123456789abcdef"),
        _cursor("1.0", UNKNOWN_ID, UNKNOWN_ID, "0123456789abcdef"),
    ],
)
async def test_a_forged_cursor_names_the_cursor(client: httpx.AsyncClient, cursor: str) -> None:
    await create_postmortem(client, title="Zeppelin outage")

    assert_invalid(
        await client.get("/v1/postmortems", params={"q": "zeppelin", "cursor": cursor}), "cursor", location="query"
    )


async def test_readers_can_search(client: httpx.AsyncClient, reader_client: httpx.AsyncClient) -> None:
    await create_postmortem(client, title="Zeppelin outage")

    assert await found(reader_client, "zeppelin") == ["Zeppelin outage"]


# --- the index follows every change ------------------------------------------------------------------------------


async def test_the_index_follows_a_patch(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client, title="Zeppelin outage", summary="Hangar doors jammed.")
    patch = {"title": "Airship outage", "summary": "Dock doors jammed.", "lessons_learned": "Mind the mast."}
    assert (await client.patch(f"/v1/postmortems/{postmortem['id']}", json=patch)).status_code == 200

    assert await found(client, "zeppelin") == []
    assert await found(client, "hangar") == []
    assert await found(client, "airship dock mast") == ["Airship outage"]

    assert (await client.patch(f"/v1/postmortems/{postmortem['id']}", json={"tags": ["mast"]})).status_code == 200
    assert await found(client, "airship dock mast") == ["Airship outage"]

    assert (await client.patch(f"/v1/postmortems/{postmortem['id']}", json={"summary": None})).status_code == 200
    assert await found(client, "dock") == []
    assert await found(client, "airship") == ["Airship outage"]


async def test_a_refused_patch_leaves_the_index_as_it_was(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client, title="Zeppelin outage", started_at="2025-01-15T09:00:00Z")
    refused = {"title": "Airship outage", "resolved_at": "2025-01-15T08:00:00Z"}
    assert (await client.patch(f"/v1/postmortems/{postmortem['id']}", json=refused)).status_code == 422

    assert await found(client, "zeppelin") == ["Zeppelin outage"]
    assert await found(client, "airship") == []


async def test_the_index_follows_the_timeline(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client, title="Checkout outage")
    path = f"/v1/postmortems/{postmortem['id']}/timeline"
    event = await add_event(client, postmortem["id"], description="Zeppelin alert fired")
    await add_event(client, postmortem["id"], description="Hangar paged")
    assert await found(client, "zeppelin hangar") == ["Checkout outage"]

    assert (await client.patch(f"{path}/{event['id']}", json={"description": "Airship alert fired"})).status_code == 200
    assert await found(client, "zeppelin") == []
    assert await found(client, "airship hangar") == ["Checkout outage"]

    assert (await client.patch(f"{path}/{event['id']}", json={"kind": "signal"})).status_code == 200
    assert await found(client, "airship") == ["Checkout outage"]

    assert (await client.delete(f"{path}/{event['id']}")).status_code == 204
    assert await found(client, "airship") == []
    assert await found(client, "hangar") == ["Checkout outage"]


async def _search_rows(app: FastAPI) -> list[tuple[str, str, str]]:
    async with app.state.engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT title, body, details FROM postmortem_search ORDER BY id"))
        return [(row.title, row.body, row.details) for row in rows]


async def _indexed(app: FastAPI, word: str) -> int:
    """How many entries of the backend's own index (tsvector, FTS5) hold `word`, with no join to the documents."""
    async with app.state.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            statement = "SELECT count(*) FROM postmortem_search_fts WHERE postmortem_search_fts MATCH :word"
        else:
            statement = "SELECT count(*) FROM postmortem_search WHERE document @@ plainto_tsquery('english', :word)"
        return int((await connection.execute(sa.text(statement), {"word": word})).scalar_one())


async def test_the_database_keeps_the_index_whoever_writes(app: FastAPI, client: httpx.AsyncClient) -> None:
    """Triggers keep the documents: rows written straight into the tables are found too."""
    postmortem = await create_postmortem(client, title="Checkout outage")
    async with committed_session(app.state.engine) as session:
        event = TimelineEvent(
            postmortem_id=uuid.UUID(postmortem["id"]),
            occurred_at=datetime(2025, 1, 15, 9, 0, tzinfo=UTC),
            kind=EventKind.ALERT,
            description="Zeppelin paged",
        )
        session.add(event)
        await session.flush()
        await session.exec(sa.update(Postmortem).values(lessons_learned="Mind the hangar."))

    assert await found(client, "zeppelin hangar") == ["Checkout outage"]


async def test_deleting_a_postmortem_removes_it_from_the_index(app: FastAPI, client: httpx.AsyncClient) -> None:
    kept = await create_postmortem(client, title="Checkout outage", summary="Zeppelin failed.")
    deleted = await create_postmortem(client, title="Zeppelin outage")
    await add_event(client, deleted["id"], description="Zeppelin paged")
    assert await _indexed(app, "zeppelin") == 2

    assert (await client.delete(f"/v1/postmortems/{deleted['id']}")).status_code == 204

    assert ids(await search(client, "zeppelin")) == [kept["id"]]
    assert await _search_rows(app) == [("Checkout outage", "Zeppelin failed.", "")]
    assert await _indexed(app, "zeppelin") == 1
    assert await _indexed(app, "paged") == 0


async def test_the_document_holds_the_searched_fields_by_weight(app: FastAPI, client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(
        client,
        title="Zeppelin outage",
        summary="Summary.",
        root_cause="Root cause.",
        contributing_factors=["Factor one.", "Factor two."],
        lessons_learned="Lesson.",
    )
    await add_event(client, postmortem["id"], occurred_at="2025-01-15T09:05:00Z", description="Second event.")
    await add_event(client, postmortem["id"], occurred_at="2025-01-15T09:00:00Z", description="First event.")

    assert await _search_rows(app) == [
        ("Zeppelin outage", "Summary.\nRoot cause.", "Factor one.\nFactor two.\nLesson.\nFirst event.\nSecond event.")
    ]


async def test_concurrent_changes_to_one_postmortem_all_reach_the_index(client: httpx.AsyncClient) -> None:
    postmortem = await create_postmortem(client, title="Checkout outage")
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]

    responses = await asyncio.gather(
        *(add_event(client, postmortem["id"], description=f"{word} event") for word in words),
        client.patch(f"/v1/postmortems/{postmortem['id']}", json={"summary": "Zeppelin failed."}),
        client.patch(f"/v1/postmortems/{postmortem['id']}", json={"lessons_learned": "Mind the hangar."}),
    )

    assert [response.status_code for response in responses[-2:]] == [200, 200]
    assert await found(client, " ".join([*words, "zeppelin", "hangar"])) == ["Checkout outage"]
