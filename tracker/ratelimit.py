"""Rate-limit counters, kept in a storage every worker shares (the ``limits`` library).

The limits are checked explicitly where they apply (``tracker.http.limits``), not by a
hook before every request: the public lookup is the hottest path of the service and
pays for one counter, no more.
"""
from __future__ import annotations

import math
import time

from limits import RateLimitItem
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from tracker import ratelimit_sqlite  # noqa: F401  (registers the sqlite-file:// storage)


class RateLimiter:
    """The counters of every limit, in the storage named by ``RATELIMIT_STORAGE_URI``.

    One object per process, bound by ``init_app`` (binding again, as tests do, swaps
    the storage). ``RATELIMIT_ENABLED = False`` turns every limit off.
    """

    def __init__(self):
        self.storage: Storage | None = None
        self.strategy: FixedWindowRateLimiter | None = None
        self.enabled = True

    def init_app(self, app) -> None:
        """Open the configured storage for this process."""
        self.storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        self.strategy = FixedWindowRateLimiter(self.storage)
        self.enabled = app.config.get("RATELIMIT_ENABLED", True)

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one request; False when it goes past the limit."""
        return self.strategy.hit(item, *identifiers)

    def give_back(self, item: RateLimitItem, *identifiers: str) -> None:
        """Undo one ``hit`` (an attempt that turned out not to count) while its window runs."""
        key = item.key_for(*identifiers)
        # A window that ended meanwhile has nothing to give back (a new one would start below 0).
        if self.storage.get(key) > 0:
            self.storage.incr(key, item.get_expiry(), amount=-1)

    def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Whether one more request would still be within the limit (counts nothing)."""
        return self.strategy.test(item, *identifiers)

    def retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        """Seconds until the window of ``item`` for these identifiers resets (1 to the window)."""
        reset_at = self.strategy.get_window_stats(item, *identifiers).reset_time
        return max(1, min(item.get_expiry(), math.ceil(reset_at - time.time())))

    def reset(self) -> None:
        """Forget every counter (tests)."""
        self.storage.reset()
