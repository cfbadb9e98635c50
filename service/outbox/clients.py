"""The worker's HTTP clients for the trackers: several small connection pools rather than one large one.

httpcore looks at every connection of a pool whenever a request starts or ends (a poll of each idle
socket, to drop closed ones), so with one connection per delivery in flight a request's cost grows
with the number in flight: at 32 it was half of the worker's CPU. Pools of four connections keep it
flat; each delivery takes the next pool in turn.
"""

import itertools
import math

import httpx

CONNECTIONS_PER_CLIENT = 4


class TrackerClients:
    def __init__(self, *, in_flight: int, timeout_seconds: float) -> None:
        connections = min(in_flight, CONNECTIONS_PER_CLIENT)
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self._clients = [
            httpx.AsyncClient(
                timeout=httpx.Timeout(timeout_seconds), limits=limits, headers={"User-Agent": "postmortems"}
            )
            for _ in range(math.ceil(in_flight / connections))
        ]
        self._turns = itertools.cycle(self._clients)

    def next(self) -> httpx.AsyncClient:
        return next(self._turns)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
