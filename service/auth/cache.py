"""Recently authenticated keys, so that most requests skip the key lookup.

A key revoked through this process is forgotten at once; other replicas stop accepting it
within `ttl_seconds` (setting `POSTMORTEMS_AUTH_CACHE_SECONDS`, 0 disables the cache).
"""

import time
from collections import OrderedDict

from service.auth.models import Principal


class PrincipalCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 4096) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def get(self, key_hash: str) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        expires_at, principal = entry
        if time.monotonic() >= expires_at:
            del self._entries[key_hash]
            return None
        return principal

    def put(self, key_hash: str, principal: Principal) -> None:
        if self.ttl_seconds <= 0:
            return
        self._entries[key_hash] = (time.monotonic() + self.ttl_seconds, principal)
        self._entries.move_to_end(key_hash)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
