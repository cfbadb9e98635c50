"""The `q` syntax: words, stemming, "phrases", `or`, -exclusions, and input that is not syntax at all."""

import httpx
import pytest

from tests.factories import add_event, create_postmortem
from tests.problems import assert_invalid, problem_errors
from tests.search.searching import found

KAFKA = "Kafka consumer lag"
POOL = "Connection pool exhausted"
IDLE = "Idle pool connections grew"
DNS = "DNS resolution failures"
CHECKOUT = "Checkout timeouts"


@pytest.fixture
async def corpus(client: httpx.AsyncClient) -> None:
    kafka = await create_postmortem(client, title=KAFKA, summary="Consumers fell behind after a partition rebalance.")
    await add_event(client, kafka["id"], description="Lag alert fired for the orders topic")
    await create_postmortem(
        client, title=POOL, summary="The database connection pool ran out of slots during the sale."
    )
    await create_postmortem(client, title=IDLE, summary="Idle connection count grew steadily after the deploy.")
    await create_postmortem(client, title=DNS, root_cause="The resolver was overloaded during the sale.")
    await create_postmortem(
        client,
        title=CHECKOUT,
        summary="Payment requests hit the gateway timeout.",
        contributing_factors=["Retries amplified the load on the gateway"],
    )


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("kafka", {KAFKA}),
        ("KAFKA", {KAFKA}),
        ("orders topic", {KAFKA}),
        # stemming, both ways
        ("timeout", {CHECKOUT}),
        ("timeouts", {CHECKOUT}),
        ("retry", {CHECKOUT}),
        ("connections", {POOL, IDLE}),
        ("failure", {DNS}),
        # every word must appear, in any field
        ("connection pool", {POOL, IDLE}),
        ("sale", {POOL, DNS}),
        ("sale dns", {DNS}),
        ("sale kafka", set()),
        # phrases
        ('"connection pool"', {POOL}),
        ('"pool connection"', {IDLE}),
        ('"consumer lag" rebalance', {KAFKA}),
        ('"lag kafka"', set()),
        # exclusions
        ("pool -idle", {POOL}),
        ('pool -"idle connection"', {POOL}),
        ('pool -"connection idle"', {POOL, IDLE}),
        ("kafka -lag", set()),
        # alternatives: words bind tighter than `or`
        ("kafka or dns", {KAFKA, DNS}),
        ("kafka OR dns", {KAFKA, DNS}),
        ("sale pool or kafka", {POOL, KAFKA}),
        ("sale -pool or timeout", {DNS, CHECKOUT}),
        ("kafka or", {KAFKA}),
        ("or kafka", {KAFKA}),
        ("kafka or or dns", {KAFKA, DNS}),
        # common words are ignored, as the index leaves them out
        ("the sale", {POOL, DNS}),
        ("kafka -the", {KAFKA}),
        ("dns or the", {DNS}),
        # everything else is text
        ("kafka*", {KAFKA}),
        ("kaf*", set()),
        ('"kafka', {KAFKA}),
        ("(kafka)", {KAFKA}),
        ("kafka:", {KAFKA}),
        ("^kafka", {KAFKA}),
        ("--kafka", {KAFKA}),
        ("- kafka dns", {DNS}),
        ("NEAR(kafka lag)", set()),
    ],
)
async def test_syntax(reader_client: httpx.AsyncClient, q: str, expected: set[str]) -> None:
    assert set(await found(reader_client, q)) == expected


async def test_words_are_matched_whole_and_by_stem_not_by_substring(client: httpx.AsyncClient) -> None:
    await create_postmortem(client, title="Deployment stalled")
    await create_postmortem(client, title="Redeploy loop")

    assert await found(client, "deployments") == ["Deployment stalled"]
    assert await found(client, "deployment") == ["Deployment stalled"]
    assert await found(client, "redeployed") == ["Redeploy loop"]
    assert await found(client, "ploy") == []


async def test_letters_beyond_ascii_are_words(client: httpx.AsyncClient) -> None:
    await create_postmortem(client, title="Café menu outage", summary="Der Ausfall betraf 日本語 Nutzer in Zürich.")
    await create_postmortem(client, title="Cafe menu outage")

    assert await found(client, "café") == ["Café menu outage"]
    assert await found(client, "zürich") == ["Café menu outage"]
    assert await found(client, "日本語") == ["Café menu outage"]


HOSTILE = [
    '"',
    '""',
    '"""',
    'kafka "',
    '"kafka" "',
    "(",
    ")",
    "()",
    "((kafka)",
    "NEAR(a b)",
    "kafka NEAR lag",
    "NEAR/2",
    "*",
    "kafka*",
    "*kafka",
    "^",
    "^kafka",
    ":",
    "title:kafka",
    "{title body}: kafka",
    "kafka AND",
    "AND kafka",
    "NOT kafka",
    "kafka NOT",
    "OR",
    "or or or",
    "-",
    "- -",
    "-kafka -lag",
    "-" * 40 + "kafka",
    "-x " * 40 + "kafka",
    "!kafka",
    "kafka & lag | dns",
    "kafka <-> lag",
    "kafka <2> lag",
    "kafka:*",
    "kafka:A",
    "'kafka'",
    "kafka\\",
    '\\"kafka',
    "a\\b",
    "%_",
    "kafka; DROP TABLE postmortem;--",
    "🔥",
    "🔥 kafka",
    "\u200b",
    "\u0301kafka",
    "ǅ",
    "½",
    "x" * 500,
    "kafka " * 83,
    '"' + "kafka " * 80 + '"',
    "(" * 250,
    "a" * 250 + " " + "b" * 249,
]


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize("q", HOSTILE)
async def test_no_input_is_an_error_of_the_server(reader_client: httpx.AsyncClient, q: str) -> None:
    response = await reader_client.get("/v1/postmortems", params={"q": q})

    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert [(error["field"], error["location"]) for error in problem_errors(response, 422)] == [("q", "query")]


@pytest.mark.parametrize("q", ["", " ", "   \t\n "])
async def test_an_empty_search_is_refused(reader_client: httpx.AsyncClient, q: str) -> None:
    assert_invalid(await reader_client.get("/v1/postmortems", params={"q": q}), "q", location="query")


async def test_a_search_is_at_most_500_characters(client: httpx.AsyncClient) -> None:
    await create_postmortem(client, title="Kafka consumer lag")

    assert await found(client, "kafka " + "x" * 494) == []
    assert_invalid(await client.get("/v1/postmortems", params={"q": "kafka " + "x" * 495}), "q", location="query")


@pytest.mark.parametrize(
    ("q", "code"),
    [
        ("the", "no_words"),
        ("to be or not to be", "no_words"),
        ("*** ()", "no_words"),
        ('"" ""', "no_words"),
        ("-kafka", "only_exclusions"),
        ('-"consumer lag" -dns', "only_exclusions"),
        ("dns or -kafka", "only_exclusions"),
        ("the -kafka", "only_exclusions"),
    ],
)
async def test_a_search_with_nothing_to_find_is_refused(reader_client: httpx.AsyncClient, q: str, code: str) -> None:
    errors = problem_errors(await reader_client.get("/v1/postmortems", params={"q": q}), 422)

    assert [(error["field"], error["location"], error["code"]) for error in errors] == [("q", "query", code)]


async def test_nul_characters_are_refused(reader_client: httpx.AsyncClient) -> None:
    assert_invalid(await reader_client.get("/v1/postmortems", params={"q": "kafka\x00"}), "q", location="query")
