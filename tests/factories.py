"""Build test data through the API, valid by default; keyword arguments override fields."""

from typing import Any

import httpx

T0 = "2025-01-15T09:00:00Z"


async def create_postmortem(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    body = {"title": "Checkout errors after config push", "severity": "P2"} | overrides
    response = await client.post("/v1/postmortems", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def add_event(client: httpx.AsyncClient, postmortem_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"occurred_at": T0, "kind": "alert", "description": "Error-rate alert fired", "source": "PagerDuty"}
    response = await client.post(f"/v1/postmortems/{postmortem_id}/timeline", json=body | overrides)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def add_action_item(client: httpx.AsyncClient, postmortem_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Validate config pushes in CI",
        "owner": "@payments-oncall",
        "priority": "P1",
        "due_date": "2099-01-31",
        "kind": "prevent",
    }
    response = await client.post(f"/v1/postmortems/{postmortem_id}/action-items", json=body | overrides)
    assert response.status_code == 201, response.text
    return dict(response.json())


SUBMITTABLE_STANDARD = {
    "summary": "Checkout failed for 45 minutes after a bad config push.",
    "started_at": "2025-01-15T08:50:00Z",
    "detected_at": "2025-01-15T09:00:00Z",
    "mitigated_at": "2025-01-15T09:20:00Z",
    "resolved_at": "2025-01-15T09:35:00Z",
    "impact": {"users_affected": 1200, "description": "Checkout returned 500s"},
    "root_cause": "The payment client's timeout was set to 0 by the config push.",
}


async def submittable_postmortem(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """A standard postmortem that meets every submission requirement."""
    postmortem = await create_postmortem(client, **(SUBMITTABLE_STANDARD | overrides))
    await add_event(client, postmortem["id"])
    await add_action_item(client, postmortem["id"])
    return postmortem
