"""How the outbox worker waits out an unreachable database: retries that back off, and two log lines.

The worker keeps running through an outage. It tries again after a delay that doubles from the
poll interval up to MAX_RETRY_SECONDS (with jitter, so that workers do not all come back at
once), logs a warning when the outage starts and a line when it ends, and in between only DEBUG.
"""

import logging
import time

from service.db import DatabaseUnavailable
from service.outbox import service as outbox_service

logger = logging.getLogger(__name__)

MAX_RETRY_SECONDS = 30.0


class DatabaseOutage:
    def __init__(self, *, first_retry_seconds: float) -> None:
        self._first_retry_seconds = first_retry_seconds
        self._since: float | None = None  # monotonic time the outage was noticed; None while the database answers
        self._retries = 0

    def noticed(self, error: DatabaseUnavailable) -> None:
        """The database could not be reached; the first time since it last answered, say so."""
        if self._since is None:
            self._since = time.monotonic()
            logger.warning("the database is unreachable; retrying until it is back (%s)", error)

    def retry_in(self, error: DatabaseUnavailable) -> float:
        """Seconds to wait before trying the database again, after it could not be reached."""
        self.noticed(error)
        self._retries += 1
        delay = outbox_service.backoff(
            self._retries, first=self._first_retry_seconds, maximum=MAX_RETRY_SECONDS, retry_after=None
        )
        logger.debug("the database is still unreachable; next try in %.2f s", delay)
        return delay

    def reached(self) -> None:
        """The database answered: an outage, if there was one, is over."""
        if self._since is not None:
            logger.info("the database is reachable again, after %.1f s", time.monotonic() - self._since)
            self._since, self._retries = None, 0
