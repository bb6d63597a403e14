"""Real concurrency: many clients at once against gunicorn with several worker processes.

The in-process test client runs one request at a time, so the guarantees that only hold
under contention (gap-free codes, one creation per Idempotency-Key, one winner per ETag)
are checked here against a live server on the test database of each backend.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.integration.live import call, gunicorn, release_connections

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DEPT = "000.01.00.H57"
THREADS = 32
BODY = {"procedure_code": "1.000001", "channel": "direct",
        "applicant": {"name": "Nguyễn Văn An", "id_number": "046195001122"}}


@pytest.fixture
def server(app, city, database_urls, backend, tmp_path):
    """gunicorn with 4 workers on this backend's freshly wiped test database (users from ``city``)."""
    release_connections(app)
    with gunicorn(database_urls[backend], tmp_path) as running:
        yield running


def concurrently(count: int, job) -> list:
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(job, range(count)))


def test_concurrent_writes(server):
    """One server start per backend (it is the slow part), three contention scenarios."""
    check_gap_free_codes(server)
    check_one_creation_per_idempotency_key(server)
    check_one_winner_per_etag(server)


def check_gap_free_codes(server):
    """(a) 60 creations at once by one clerk: codes 0001..0060 of the day, none lost, none twice."""
    day = datetime.now(VN).strftime("%y%m%d")
    headers = server.auth("clerk")
    results = concurrently(60, lambda i: call("POST", f"{server.api}/dossiers",
                                              {**BODY, "note": f"#{i}"}, headers))
    statuses = [status for status, _, _ in results]
    assert statuses == [201] * 60, [body for status, _, body in results if status != 201][:3]
    codes = [body["code"] for _, _, body in results]
    assert len(set(codes)) == 60
    assert set(codes) == {f"{DEPT}-{day}-{n:04d}" for n in range(1, 61)}
    assert server.total() == 60
    # Every answer is its own dossier, as the server stored it.
    status, _, stored = call("GET", f"{server.api}/dossiers/{codes[17]}", headers=headers)
    assert status == 200 and stored["code"] == codes[17] and stored["note"] == results[17][2]["note"]


def check_one_creation_per_idempotency_key(server):
    """(b) 20 retries at once with one key and one body: one dossier, the same answer 20 times."""
    before = server.total()
    headers = server.auth("clerk", **{"Idempotency-Key": "phieu-0001-retry"})
    results = concurrently(20, lambda i: call("POST", f"{server.api}/dossiers", BODY, headers))
    assert [status for status, _, _ in results] == [201] * 20, [body for _, _, body in results][:3]
    codes = {body["code"] for _, _, body in results}
    assert len(codes) == 1, codes
    assert server.total() == before + 1
    first = [got for _, got, _ in results if got.get("Idempotent-Replayed") != "true"]
    assert len(first) == 1, "exactly one request did the work, the others replayed it"
    assert {got["ETag"] for _, got, _ in results} == {first[0]["ETag"]}
    status, _, stored = call("GET", f"{server.api}/dossiers/{codes.pop()}", headers=server.auth("clerk"))
    assert status == 200 and stored["version"] == 1 and len(stored["steps"]) == 1


def check_one_winner_per_etag(server):
    """(c) 20 steps at once with the same If-Match: one 201, the others 412, one new step."""
    headers = server.auth("clerk")
    status, _, created = call("POST", f"{server.api}/dossiers", BODY, headers)
    assert status == 201, created
    url = f"{server.api}/dossiers/{created['code']}"
    status, got, _ = call("GET", url, headers=headers)
    etag = got["ETag"]
    step = {"action": "comment", "note": "Đã kiểm tra"}
    results = concurrently(20, lambda i: call("POST", f"{url}/steps", {**step, "handler": f"#{i}"},
                                              {**headers, "If-Match": etag}))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] + [412] * 19, [body for _, _, body in results if not isinstance(body, dict)
                                            or body.get("status") not in (412, None)][:3]
    winner = next(body for status, _, body in results if status == 201)
    for status, got, body in results:
        if status == 412:
            assert got["Content-Type"].startswith("application/problem+json")
            assert body["status"] == 412
    status, got, stored = call("GET", url, headers=headers)
    assert stored["version"] == 2
    assert [s["action"] for s in stored["steps"]] == ["accept", "comment"]
    assert stored["steps"][1]["handler"] == winner["step"]["handler"]
    assert got["ETag"] != etag
