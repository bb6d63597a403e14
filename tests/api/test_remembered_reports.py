"""Reports of settled periods are remembered per app, and never outlive a change of the data."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from tests.conftest import TEST_SETTINGS
from tracker import create_app
from tracker.domain.service_index import service_index
from tracker.extensions import db
from tracker.models import revision
from tracker.services.statistics import reports

APPLICANT = {"name": "Đặng Văn Lâm", "id_number": "046195001155", "phone": "0912000333"}


@pytest.fixture
def next_year(monkeypatch):
    """The reports judge as if it were next January, so that this year's report is settled."""
    later = datetime(datetime.now(timezone.utc).year + 1, 1, 20, 3, 0, tzinfo=timezone.utc)
    monkeypatch.setattr("tracker.services.statistics.reports.utcnow", lambda: later)
    return str(later.year - 1)


@pytest.fixture
def computed(monkeypatch):
    """How many reports were computed rather than served from memory."""
    calls = []
    original = reports._report

    def counting(query, now):
        calls.append(query.group_by)
        return original(query, now)

    monkeypatch.setattr(reports, "_report", counting)
    return calls


def _create(client, headers) -> str:
    response = client.post("/api/v1/dossiers", headers=headers,
                           json={"procedure_code": "1.000001", "channel": "direct", "applicant": APPLICANT})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["code"]


def _stats(client, year: str, **params) -> dict:
    response = client.get("/api/v1/public/stats", query_string={"period": year, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _revision(app) -> tuple:
    with app.app_context():
        return revision.current(db.engine)


def test_a_settled_report_is_computed_once_and_served_again(client, city, auth, next_year, computed):
    _create(client, auth.headers("clerk"))
    first = _stats(client, next_year, group_by="agency")
    again = _stats(client, next_year, group_by="agency")
    assert again == first
    assert computed == ["agency"]
    # The other kinds of answer keep their own, built on the same report.
    assert client.get("/api/v1/public/service-index", query_string={"period": next_year}).status_code == 200
    assert client.get("/api/v1/public/stats.csv", query_string={"period": next_year}).status_code == 200
    assert computed == ["agency", None]


def test_a_step_moves_the_revision_and_the_next_answer_counts_it(client, city, auth, next_year):
    headers = auth.headers("clerk")
    _create(client, headers)
    assert _stats(client, next_year)["totals"]["received"]["total"] == 1
    assert client.get("/api/v1/public/service-index", query_string={"period": next_year}).status_code == 200
    before = _revision(client.application)
    code = _create(client, headers)
    assert _revision(client.application)[1] == before[1] + 1
    body = _stats(client, next_year)
    assert body["totals"]["received"]["total"] == 2
    assert body["totals"]["pending"]["total"] == 2
    for step in ({"action": "process"}, {"action": "complete", "result": "approved"}):
        response = client.post(f"/api/v1/dossiers/{code}/steps", headers=headers, json=step)
        assert response.status_code == 201, response.get_data(as_text=True)
    body = _stats(client, next_year)
    assert body["totals"]["resolved"]["total"] == 1
    index = client.get("/api/v1/public/service-index", query_string={"period": next_year}).get_json()
    assert index["totals"] == service_index(body["totals"], index["weights"])


def test_writes_no_report_reads_leave_the_revision(client, city, auth, next_year):
    before = _revision(client.application)
    auth.headers("clerk")  # a login: a session row and an audit record
    response = client.post("/api/v1/auth/login", json={"username": "clerk", "password": "wrong password here"})
    assert response.status_code == 401
    assert _revision(client.application) == before


def test_a_renamed_procedure_shows_in_the_remembered_report(client, city, auth, next_year):
    _create(client, auth.headers("clerk"))
    groups = _stats(client, next_year, group_by="procedure")["groups"]
    response = client.patch("/api/v1/procedures/1.000001", json={"name": "Chứng thực bản sao (đổi tên)"},
                            headers=auth.headers("admin"))
    assert response.status_code == 200, response.get_data(as_text=True)
    renamed = _stats(client, next_year, group_by="procedure")["groups"]
    assert [g["name"] for g in renamed] != [g["name"] for g in groups]
    assert renamed[0]["name"] == "Chứng thực bản sao (đổi tên)"


def test_a_period_reaching_today_is_never_remembered(client, city, auth, computed):
    _create(client, auth.headers("clerk"))
    year = str(datetime.now(timezone.utc).year)
    assert _stats(client, year) == _stats(client, year)
    assert computed == [None, None]


def test_another_app_on_the_same_database_sees_the_change(app, client, city, auth, next_year, backend,
                                                          database_urls):
    """Two apps on one database stand for two workers (or servers): each remembers its own."""
    other = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_urls[backend]})
    try:
        elsewhere = other.test_client()
        _create(client, auth.headers("clerk"))
        assert _stats(elsewhere, next_year)["totals"]["received"]["total"] == 1
        assert "Sở Tư pháp" in [g["name"] for g in _stats(client, next_year, agency="000.00.00.H57",
                                                          group_by="agency")["groups"]]
        _create(client, auth.headers("clerk"))
        assert _stats(elsewhere, next_year)["totals"]["received"]["total"] == 2
        # A write through the other app's engine is seen by the first one.
        with other.app_context():
            with db.engine.begin() as connection:
                connection.execute(text("UPDATE agencies SET name = 'Sở Tư pháp (mới)' WHERE code = '000.01.00.H57'"))
        groups = _stats(client, next_year, agency="000.00.00.H57", group_by="agency")["groups"]
        names = [g["name"] for g in groups]
        assert "Sở Tư pháp (mới)" in names
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("statement, changes", [
    ("SELECT * FROM dossiers", False),
    ("  select 1", False),
    ("PRAGMA foreign_keys=ON", False),
    ("BEGIN IMMEDIATE", False),
    ("SAVEPOINT sa_savepoint_1", False),
    ("INSERT INTO steps (dossier_id) VALUES (?)", True),
    ("INSERT OR IGNORE INTO stat_cells VALUES (1)", True),
    ('UPDATE "procedures" SET name = ?', True),
    ("DELETE FROM evaluations WHERE id = 3", True),
    ("INSERT INTO login_sessions (id) VALUES (%(id)s)", False),
    ("UPDATE audit_head SET hash = ?", False),
    ("DELETE FROM idempotency_keys WHERE created_at < ?", False),
    ("insert into users (username) values (?)", False),
    ("TRUNCATE dossiers", True),
    ("WITH moved AS (UPDATE dossiers SET status = 'x' RETURNING id) SELECT * FROM moved", True),
    ("CREATE TABLE something (id int)", True),
])
def test_which_statements_change_public_data(statement, changes):
    assert revision.changes_public_data(statement) is changes
