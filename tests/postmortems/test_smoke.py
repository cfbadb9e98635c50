import httpx

from tests.factories import create_postmortem


async def test_create_then_get(client: httpx.AsyncClient) -> None:
    created = await create_postmortem(client, services=["checkout"])
    response = await client.get(f"/v1/postmortems/{created['id']}")
    assert response.status_code == 200
    assert response.json()["services"] == ["checkout"]
    assert response.headers["etag"] == '"1"'
