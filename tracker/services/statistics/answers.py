"""Finished public reports, remembered by each process until the data they come from changes.

The portal, the dashboards and the widgets ask the same reports over and over: last
month's, last year's, per agency. A report of a period that ended before today depends
only on the data (the counters, the agencies, the procedures, the calendar and the
weights), so it is kept here with the data revision it was computed at
(``tracker.models.revision``) and served again while the database's revision is the
same: one indexed read instead of the whole report, with figures exactly those a
fresh computation would give. A report reaching today is never kept: its overdue
figures move with the clock.

Each app keeps its own (``app.extensions``), at most ``SIZE`` answers, none longer
than ``LIFETIME`` seconds: a change made behind the application's back (by hand, in
SQL) shows within that time.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

from flask import current_app, g, has_request_context, request

from tracker.database import READ_METHODS
from tracker.models import revision
from tracker.services.replica import read_engine

SIZE = 256
LIFETIME = 300.0
T = TypeVar("T")


class Answers:
    """The remembered answers of one app: key -> (revision, stored at, answer), least recent out first."""

    def __init__(self, size: int = SIZE, lifetime: float = LIFETIME):
        self.size, self.lifetime = size, lifetime
        self.lock = threading.Lock()
        self.entries: OrderedDict = OrderedDict()

    def get(self, key: Hashable, current: tuple, now: float):
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                return None
            kept_at, stored_at, answer = found
            if kept_at != current or now - stored_at > self.lifetime:
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return answer

    def put(self, key: Hashable, current: tuple, now: float, answer) -> None:
        with self.lock:
            self.entries[key] = (current, now, answer)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def answers() -> Answers:
    """This app's remembered answers."""
    return current_app.extensions.setdefault("tracker_answers", Answers())


def _revision() -> tuple | None:
    # Read once per public request and database (several answers may be remembered in one,
    # and a replica found down, or back, mid-request sends the next read elsewhere); a
    # write request, or a command, reads it each time, since it may have changed the data.
    engine = read_engine()
    if not (has_request_context() and request.method in READ_METHODS):
        return revision.current(engine)
    seen = g.setdefault("tracker_data_revisions", {})
    if engine not in seen:
        seen[engine] = revision.current(engine)
    return seen[engine]


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``'s answer, or the one kept under ``key`` at the current data revision.

    Call it only for answers that depend on nothing but the data (not on the clock),
    from where the session reads what ``compute`` reads (the replica, inside
    ``public_read``), and never change what it returns: the answer is shared.
    """
    current = _revision()
    if current is None:
        return compute()
    store, now = answers(), time.monotonic()
    found = store.get(key, current, now)
    if found is not None:
        return found
    answer = compute()
    store.put(key, current, now, answer)
    return answer
