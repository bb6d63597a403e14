"""Which database each route reads when a read replica is configured, and the fallback when it is down.

A real PostgreSQL streaming replica is exercised by tests/integration/test_replica.py;
here a copy of the SQLite database taken earlier stands in for a replica that lags,
so that what each route reads can be told apart on every machine.
"""
from __future__ import annotations

import logging
import socket
import sqlite3
from datetime import date

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import TEST_SETTINGS, Auth, Factory, wipe
from tracker import create_app
from tracker.extensions import db
from tracker.services import replica

PUBLIC = "/api/v1/public/dossiers/"
APPLICANT = {"name": "Lê Thị Sao", "id_number": "046195001199", "phone": "0912000111"}


def _setup(app) -> dict:
    factory = Factory(app)
    factory.agency("000.00.00.H57", "UBND thành phố Huế", level="province")
    factory.agency("000.01.00.H57", "Sở Tư pháp", parent="000.00.00.H57", level="department")
    factory.procedure("1.000001", 3, "working_days")
    factory.user("clerk", "clerk", "000.01.00.H57")
    return Auth(app.test_client()).headers("clerk")


def _create(client, headers) -> str:
    response = client.post("/api/v1/dossiers", headers=headers,
                           json={"procedure_code": "1.000001", "channel": "direct", "applicant": APPLICANT})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["code"]


def _received(client) -> int:
    response = client.get(f"/api/v1/public/stats?period={date.today().year}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["totals"]["received"]["total"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def lagging(database_urls, tmp_path):
    """An app on the SQLite test database whose replica is a copy taken by ``snapshot()``."""
    primary = make_url(database_urls["sqlite"]).database
    copy = tmp_path / "replica.db"
    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_urls["sqlite"],
                      "TRACKER_DATABASE_REPLICA_URL": f"sqlite:///{copy}"})
    wipe(app)

    def snapshot():
        with sqlite3.connect(primary) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        with app.app_context():
            db.engines["replica"].dispose()

    yield app, snapshot
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def test_public_reads_go_to_the_replica_and_staff_reads_to_the_primary(lagging):
    app, snapshot = lagging
    client = app.test_client()
    clerk = _setup(app)
    seen = _create(client, clerk)
    snapshot()  # the replica has replayed everything up to here
    assert client.get(PUBLIC + seen).status_code == 200
    received_before = _received(client)

    unseen = _create(client, clerk)
    response = client.post(f"/api/v1/dossiers/{seen}/steps", headers=clerk,
                           json={"action": "process", "public_note": "Đang thẩm định"})
    assert response.status_code == 201, response.get_data(as_text=True)

    # The staff answer comes from the primary: the new dossier and the new step are there.
    staff = client.get(f"/api/v1/dossiers/{unseen}", headers=clerk)
    assert staff.status_code == 200
    steps = client.get(f"/api/v1/dossiers/{seen}", headers=clerk).get_json()["steps"]
    assert [s["action"] for s in steps][-1] == "process"
    # The public lookup, the lookup page and the statistics come from the replica, which lags.
    assert client.get(PUBLIC + unseen).status_code == 404
    assert client.get(f"/lookup?code={unseen}").status_code == 404
    assert [s["action"] for s in client.get(PUBLIC + seen).get_json()["steps"]][-1] != "process"
    assert _received(client) == received_before

    snapshot()
    assert client.get(PUBLIC + unseen).status_code == 200
    assert [s["action"] for s in client.get(PUBLIC + seen).get_json()["steps"]][-1] == "process"
    assert _received(client) == received_before + 1


def test_without_a_replica_readyz_says_not_configured(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "replica": "not configured"}


def test_an_unreachable_replica_falls_back_to_the_primary(make_app, caplog, monkeypatch):
    app = make_app(TRACKER_DATABASE_REPLICA_URL=f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/none")
    client = app.test_client()
    clerk = _setup(app)
    code = _create(client, clerk)
    # Try the replica on every read, to show that the warning is still given only once.
    monkeypatch.setattr(replica, "RETRY_SECONDS", 0.0)
    monkeypatch.setattr(replica, "_health", replica._Health())
    with caplog.at_level(logging.WARNING, logger="tracker.services.replica"):
        for _ in range(3):
            assert client.get(PUBLIC + code).status_code == 200
        assert _received(client) == 1
        assert client.get(f"/lookup?code={code}").status_code == 200
    warnings = [r for r in caplog.records if r.name == "tracker.services.replica"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "read replica unavailable" in warnings[0].getMessage()
    assert code not in warnings[0].getMessage()

    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "replica": "down"}


def test_a_replica_found_down_is_left_alone_for_a_while(make_app, monkeypatch):
    app = make_app(TRACKER_DATABASE_REPLICA_URL=f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/none")
    client = app.test_client()
    code = _create(client, _setup(app))
    monkeypatch.setattr(replica, "_health", replica._Health())
    with app.app_context():
        engine = db.engines["replica"]
    attempts = []
    original = engine.raw_connection

    def raw_connection():
        attempts.append(1)
        return original()

    monkeypatch.setattr(engine, "raw_connection", raw_connection)
    for _ in range(3):
        assert client.get(PUBLIC + code).status_code == 200
    assert len(attempts) == 1
