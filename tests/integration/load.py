"""A write load for a live server, and the checks that a database survived it whole.

``WriteLoad`` runs clerks in threads that create dossiers and walk each through a
processing history (a pause included, so that statistics replay it), recording every
write the server acknowledged (201) with the time it was received. ``inspect`` then
reads a database directly: every dossier's steps, its version, SQLite's integrity
check, and whether the stored statistics counters equal a full rebuild.
"""
from __future__ import annotations

import http.client
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from tests.conftest import TEST_SETTINGS
from tests.integration.live import Server, call

CREATE = {"procedure_code": "1.000001", "channel": "direct",
          "applicant": {"name": "Phạm Thị Dung", "id_number": "046195001122"}}
HISTORY = [{"action": "process"}, {"action": "request_supplement", "reason": "Thiếu bản sao"},
           {"action": "receive_supplement"}, {"action": "comment", "note": "Đã kiểm tra"},
           {"action": "complete", "result": "approved"}, {"action": "return_result"}]


class WriteLoad:
    """Clerks creating dossiers and recording their steps, from several threads, until stopped."""

    def __init__(self, server: Server, threads: int = 6, user: str = "clerk"):
        self.server = server
        self.headers = server.auth(user)
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        self.acked: dict[str, int] = {}  # dossier code -> steps acknowledged (the creation is step 1)
        self.acks: list[tuple[float, str, int]] = []  # (monotonic time received, code, steps acknowledged)
        self.failures: Counter = Counter()  # what came back instead of a 201
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def __enter__(self) -> WriteLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def writes(self) -> int:
        """Writes acknowledged so far (creations and steps)."""
        return len(self.acks)

    def wait_for(self, writes: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.writes() < writes:
            assert time.monotonic() < deadline, f"only {self.writes()} writes in {timeout} s: {self.failures}"
            time.sleep(0.05)

    def acked_before(self, moment: float) -> dict[str, int]:
        """Per dossier, the steps acknowledged before ``moment`` (time.monotonic())."""
        with self._lock:
            before: dict[str, int] = {}
            for at, code, steps in self.acks:
                if at < moment:
                    before[code] = max(before.get(code, 0), steps)
            return before

    def _post(self, path: str, body: dict) -> tuple[int, object]:
        try:
            status, _, answer = call("POST", self.server.api + path, body, self.headers, timeout=30)
        except (OSError, http.client.HTTPException) as error:
            self.failures[type(error).__name__] += 1
            return 0, None
        if status != 201:
            self.failures[status] += 1
        return status, answer

    def _ack(self, code: str, steps: int) -> None:
        with self._lock:
            self.acked[code] = steps
            self.acks.append((time.monotonic(), code, steps))

    def _run(self) -> None:
        while not self._stopping.is_set():
            status, created = self._post("/dossiers", CREATE)
            if status != 201:
                time.sleep(0.05)  # the server is restarting a worker, or gone
                continue
            code = created["code"]
            self._ack(code, 1)
            for number, step in enumerate(HISTORY, start=2):
                if self._stopping.is_set():
                    break
                status, _ = self._post(f"/dossiers/{code}/steps", step)
                if status != 201:
                    break  # whether it was written is unknown: leave this dossier
                self._ack(code, number)


@dataclass
class Inspection:
    """What a database holds after a load."""

    steps: dict[str, list[int]] = field(default_factory=dict)  # code -> step numbers in order
    versions: dict[str, int] = field(default_factory=dict)
    integrity: str = "ok"
    stored_counters: dict = field(default_factory=dict)
    rebuilt_counters: dict = field(default_factory=dict)

    def half_written(self) -> list[str]:
        """Dossiers whose steps are not 1..n, or whose version is not their step count.

        A dossier starts at version 1 with its first step and every step adds one
        (tracker.services.dossiers); only an applicant correction adds a version without
        a step, and the load makes none.
        """
        return [code for code, seqs in self.steps.items()
                if seqs != list(range(1, len(seqs) + 1)) or self.versions[code] != len(seqs)]

    def lost(self, acked: dict[str, int]) -> dict[str, tuple[int, int]]:
        """Acknowledged writes that are missing: code -> (steps acknowledged, steps found)."""
        return {code: (steps, len(self.steps.get(code, [])))
                for code, steps in acked.items() if len(self.steps.get(code, [])) < steps}

    def assert_whole(self, acked: dict[str, int]) -> None:
        """Nothing acknowledged lost, nothing half-written, counters equal to a rebuild, integrity ok."""
        assert self.integrity == "ok", self.integrity
        assert self.lost(acked) == {}, list(self.lost(acked).items())[:5]
        assert self.half_written() == [], self.half_written()[:5]
        assert self.stored_counters == self.rebuilt_counters, "statistics counters differ from a rebuild"
        assert sum(len(rows) for rows in self.stored_counters.values()) > 0


def _counter_rows(session) -> dict[str, set]:
    from tracker.domain.statistics import COLUMNS
    from tracker.services.statistics.counters import TABLES

    rows = {}
    for table in TABLES:
        rows[table.name] = {tuple(row) for row in session.execute(select(table))
                            if any(getattr(row, column) for column in COLUMNS)}
    return rows


def inspect(database_url: str) -> Inspection:
    """Read a database after a load; the counters are rebuilt in a transaction that is rolled back."""
    from tracker import create_app
    from tracker.extensions import db
    from tracker.models import Dossier, Step
    from tracker.services import statistics

    found = Inspection()
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            found.integrity = "; ".join(row[0] for row in connection.execute("PRAGMA integrity_check"))
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        session = db.session
        found.versions = dict(session.execute(select(Dossier.code, Dossier.version)).all())
        found.steps = {code: [] for code in found.versions}
        for code, seq in session.execute(select(Dossier.code, Step.seq).join(Step, Step.dossier_id == Dossier.id)
                                         .order_by(Dossier.code, Step.seq)):
            found.steps[code].append(seq)
        found.stored_counters = _counter_rows(session)
        statistics.rebuild()
        session.flush()
        found.rebuilt_counters = _counter_rows(session)
        session.rollback()
        session.remove()
        db.engine.dispose()
    return found
