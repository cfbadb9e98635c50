"""What the benchmark sets up through the service before measuring: a key, the tracker, enough drafts."""

import subprocess

import httpx

from bench.processes import postmortems

OWNER, REPO = "acme", "payments"


def api_key(environment: dict[str, str]) -> str:
    """An admin key from `postmortems apikey create` (the key is the last line it prints)."""
    created = subprocess.run(  # noqa: S603 - our own console script
        postmortems("apikey", "create", "--name", "bench", "--scope", "admin"),
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return created.stdout.strip().splitlines()[-1]


def connect_tracker(client: httpx.Client, tracker_url: str, webhook_secret: str) -> str:
    """The default GitHub integration, on the fake tracker: every new action item is pushed there."""
    integration = {
        "kind": "github",
        "name": "bench-github",
        "base_url": tracker_url,
        "settings": {"owner": OWNER, "repo": REPO},
        "credentials": {"token": "ghp_bench"},
        "webhook_secret": webhook_secret,
        "default": True,
    }
    created = client.post("/v1/integrations", json=integration).raise_for_status().json()
    return str(created["webhook_path"])


def create_drafts(client: httpx.Client, count: int) -> list[str]:
    """`count` new draft postmortems (version 1), for when the seeded data has too few."""
    return [
        client.post("/v1/postmortems", json={"title": f"Draft {number}", "severity": "P2"})
        .raise_for_status()
        .json()["id"]
        for number in range(count)
    ]


def etags(client: httpx.Client, ids: list[str]) -> dict[str, str]:
    """The current ETag of each postmortem, read from the service: it names all that a postmortem shows."""
    return {
        postmortem_id: client.get(f"/v1/postmortems/{postmortem_id}").raise_for_status().headers["etag"]
        for postmortem_id in ids
    }
