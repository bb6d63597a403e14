"""The audit trail: every write recorded with who, from where, on what and the change; a hash chain
that ``flask tracker audit-verify`` checks; GET /api/v1/audit for admins; no personal numbers in clear.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select, text

from tests.conftest import PASSWORD, assert_problem
from tracker.extensions import db

AUDIT = "/api/v1/audit"
ROOT, DEPT = "000.00.00.H57", "000.01.00.H57"
GENESIS = "0" * 64
ID_NUMBER, PHONE, EMAIL = "046195001122", "0934555666", "nguyen.an@example.vn"
NEW_ID_NUMBER, NEW_PHONE = "001099012345", "0987654321"
NEW_PASSWORD = "Another-Secret-77"


def records(client, headers, **filters) -> list[dict]:
    """Every audit record matching ``filters``, oldest first (the endpoint gives newest first)."""
    found, page = [], 1
    while True:
        response = client.get(AUDIT, query_string={**filters, "page": page, "page_size": 100}, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        found += body["items"]
        if page * 100 >= body["total"]:
            break
        page += 1
    ids = [r["id"] for r in found]
    assert ids == sorted(ids, reverse=True)
    return found[::-1]


def every_write(client, auth) -> dict:
    """One write of each kind through the API, as admin; returns what was written."""
    h = auth.headers("admin")
    assert client.post("/api/v1/agencies", json={"code": "000.03.00.H57", "name": "Sở Y tế", "parent_code": ROOT},
                       headers=h).status_code == 201
    assert client.patch("/api/v1/agencies/000.03.00.H57", json={"name": "Sở Y tế Huế"},
                        headers=h).status_code == 200
    assert client.post("/api/v1/procedures", json={"code": "1.004227", "name": "Cấp Phiếu lý lịch tư pháp",
                                                   "field": "Lý lịch tư pháp",
                                                   "time_limit": {"value": 10, "unit": "working_days"}},
                       headers=h).status_code == 201
    assert client.patch("/api/v1/procedures/1.004227", json={"time_limit": {"value": 8, "unit": "working_days"}},
                        headers=h).status_code == 200
    assert client.post("/api/v1/users", json={"username": "clerk2", "password": PASSWORD, "role": "clerk",
                                              "agency_code": DEPT, "full_name": "Lê Thị Hai"},
                       headers=h).status_code == 201
    assert client.patch("/api/v1/users/clerk2", json={"full_name": "Lê Thị Hải", "password": NEW_PASSWORD},
                        headers=h).status_code == 200
    assert client.post("/api/v1/calendar/overrides", json={"date": "2026-03-02", "working": False,
                                                           "name": "Nghỉ bù"}, headers=h).status_code == 201
    assert client.delete("/api/v1/calendar/overrides/2026-03-02", headers=h).status_code == 204
    response = client.post("/api/v1/dossiers", json={
        "procedure_code": "1.000001", "agency_code": DEPT, "channel": "direct",
        "applicant": {"name": "Nguyễn Văn An", "id_number": "0461 9500 1122", "phone": "0934.555.666",
                      "email": EMAIL, "address": "12 Lê Lợi"}}, headers=h)
    assert response.status_code == 201, response.get_data(as_text=True)
    code = response.get_json()["code"]
    response = client.post(f"/api/v1/dossiers/{code}/steps", json={"action": "process", "note": "Giao xử lý"},
                           headers=h)
    assert response.status_code == 201
    response = client.patch(f"/api/v1/dossiers/{code}", json={"applicant": {
        "id_number": NEW_ID_NUMBER, "phone": NEW_PHONE}}, headers={**h, "If-Match": response.headers["ETag"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert client.post("/api/v1/auth/login", json={"username": "clerk", "password": "wrong-password"}
                       ).status_code == 401
    return {"code": code}


def test_every_write_is_audited_with_actor_address_target_and_change(client, city, auth):
    code = every_write(client, auth)["code"]
    trail = records(client, auth.headers("admin"))
    seen = [(r["action"], r["target_type"], r["target_id"]) for r in trail]
    expected = [("login", "user", "admin"),
                ("agency.create", "agency", "000.03.00.H57"), ("agency.update", "agency", "000.03.00.H57"),
                ("procedure.create", "procedure", "1.004227"), ("procedure.update", "procedure", "1.004227"),
                ("user.create", "user", "clerk2"), ("user.update", "user", "clerk2"),
                ("calendar_override.create", "calendar_override", "2026-03-02"),
                ("calendar_override.delete", "calendar_override", "2026-03-02"),
                ("dossier.create", "dossier", code), ("dossier.step", "dossier", code),
                ("dossier.update", "dossier", code), ("login.failed", "user", "clerk")]
    # The trail ends with these writes, then the login that read it.
    start = len(seen) - len(expected) - 1
    assert seen[start:] == expected + [("login", "user", "admin")], seen
    by_action = {r["action"]: r for r in trail[start:]}
    for action, record in by_action.items():
        assert record["client_ip"] == "127.0.0.1", record
        assert record["actor"] == (None if action == "login.failed" else "admin"), record
        datetime.fromisoformat(record["at"])
        assert record["at"].endswith("+07:00")
    assert by_action["agency.update"]["change"] == {"name": "Sở Y tế Huế"}
    assert by_action["agency.create"]["change"]["parent_code"] == ROOT
    assert by_action["procedure.update"]["change"] == {"time_limit": {"value": 8, "unit": "working_days"}}
    assert by_action["user.create"]["change"]["role"] == "clerk"
    assert by_action["user.update"]["change"]["full_name"] == "Lê Thị Hải"
    assert by_action["calendar_override.create"]["change"]["working"] is False
    assert by_action["calendar_override.delete"]["change"] == {"working": False, "name": "Nghỉ bù"}
    created = by_action["dossier.create"]["change"]
    assert (created["procedure_code"], created["agency_code"], created["status"]) == ("1.000001", DEPT, "accepted")
    assert created["applicant"]["name"] == "Nguyễn Văn An"
    step = by_action["dossier.step"]["change"]
    assert (step["seq"], step["action"], step["status_before"], step["status_after"]) == (
        2, "process", "accepted", "processing")
    assert set(by_action["dossier.update"]["change"]["applicant"]) == {"id_number", "phone"}
    # Passwords never reach the trail.
    everything = json.dumps(trail, ensure_ascii=False)
    assert PASSWORD not in everything and NEW_PASSWORD not in everything and "wrong-password" not in everything


def test_the_chain_links_every_record_to_the_one_before(client, city, auth):
    every_write(client, auth)
    trail = records(client, auth.headers("admin"))
    assert [r["id"] for r in trail] == list(range(1, len(trail) + 1))
    assert trail[0]["prev_hash"] == GENESIS
    for before, record in zip(trail, trail[1:]):
        assert record["prev_hash"] == before["hash"], record
    assert len({r["hash"] for r in trail}) == len(trail)
    assert all(len(r["hash"]) == 64 for r in trail)


def test_only_admins_read_the_trail(client, city, auth):
    assert_problem(client.get(AUDIT), 401)
    for username in ("manager", "clerk", "viewer"):
        assert_problem(client.get(AUDIT, headers=auth.headers(username)), 403)
    assert client.get(AUDIT, headers=auth.headers("admin")).status_code == 200


def test_the_trail_filters_by_target_actor_action_and_time(app, client, city, auth):
    from tracker.services import audit

    code = every_write(client, auth)["code"]
    h = auth.headers("manager")
    response = client.post("/api/v1/dossiers", json={"procedure_code": "1.000001", "channel": "online",
                                                     "applicant": {"name": "Trần Bình"}}, headers=h)
    assert response.status_code == 201
    other = response.get_json()["code"]
    with app.app_context():
        for year in (2023, 2024, 2025):
            audit.record(audit.SYSTEM, "test.event", "test", f"t{year}", {"year": year},
                         at=datetime(year, 6, 1, 3, 0, tzinfo=timezone.utc))
        db.session.commit()
    admin = auth.headers("admin")

    mine = records(client, admin, target=code)
    assert [r["action"] for r in mine] == ["dossier.create", "dossier.step", "dossier.update"]
    assert {r["target_id"] for r in records(client, admin, target=other)} == {other}
    assert {r["target_id"] for r in records(client, admin, target_type="agency")} >= {"000.03.00.H57", ROOT}
    assert {r["target_type"] for r in records(client, admin, target_type="agency")} == {"agency"}
    by_manager = records(client, admin, actor="manager")
    assert [r["action"] for r in by_manager] == ["login", "dossier.create"]
    assert {r["actor"] for r in records(client, admin, actor="admin")} == {"admin"}
    failed = records(client, admin, action="login.failed")
    assert [(r["target_id"], r["actor"]) for r in failed] == [("clerk", None)]
    assert records(client, admin, action="dossier.step", target=code)[0]["change"]["action"] == "process"
    assert records(client, admin, action="dossier.step", target=other) == []
    # Time windows, given with an offset, bounds included.
    window = records(client, admin, **{"from": "2024-01-01T00:00:00+07:00", "to": "2024-12-31T23:59:59+07:00"})
    assert [r["target_id"] for r in window] == ["t2024"]
    assert [r["target_id"] for r in records(client, admin, to="2024-06-01T10:00:00+07:00")] == ["t2023", "t2024"]
    since = records(client, admin, **{"from": "2025-06-01T10:00:00+07:00"})
    assert "t2025" in {r["target_id"] for r in since} and len(since) > 10
    assert not {"t2023", "t2024"} & {r["target_id"] for r in since}
    assert_problem(client.get(AUDIT, query_string={"from": "yesterday"}, headers=admin), 422)


# -- audit-verify ------------------------------------------------------------------------------------


def verify(app):
    return app.test_cli_runner().invoke(args=["tracker", "audit-verify"])


def count_records(app) -> int:
    from tracker.models import AuditRecord

    with app.app_context():
        number = db.session.scalar(select(func.count(AuditRecord.id)))
        db.session.remove()
    return number


def raw(app, sql: str, **params) -> None:
    """Change the table behind the application's back."""
    with app.app_context():
        db.session.execute(text(sql), params)
        db.session.commit()
        db.session.remove()


def test_audit_verify_passes_on_an_intact_chain(app, client, city, auth):
    every_write(client, auth)
    total = count_records(app)
    assert total > 20
    result = verify(app)
    assert result.exit_code == 0, (result.output, result.stderr)
    assert f"{total} records" in result.output and "intact" in result.output


def test_audit_verify_names_an_edited_record(app, client, city, auth):
    every_write(client, auth)
    with app.app_context():
        from tracker.models import AuditRecord

        target = db.session.scalar(select(AuditRecord.id).where(AuditRecord.action == "dossier.create"))
        db.session.remove()
    raw(app, "UPDATE audit_records SET change = :change WHERE id = :id",
        change='{"applicant": {"name": "Người khác"}}', id=target)
    result = verify(app)
    assert result.exit_code == 1, (result.output, result.stderr)
    assert f"record {target} " in result.stderr, result.stderr
    assert f"{target - 1} records before it are intact" in result.stderr


def test_audit_verify_catches_a_record_rehashed_after_editing(app, client, city, auth):
    """Editing a record and recomputing its own hash still breaks the link of the next one."""
    from tracker.models import AuditRecord
    from tracker.services import audit

    every_write(client, auth)
    with app.app_context():
        entry = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "user.create"))
        entry.change = '{"role": "admin", "username": "clerk2"}'
        forged = audit._digest(entry)
        target = entry.id
        db.session.rollback()
        db.session.remove()
    raw(app, "UPDATE audit_records SET change = :change, hash = :hash WHERE id = :id",
        change='{"role": "admin", "username": "clerk2"}', hash=forged, id=target)
    result = verify(app)
    assert result.exit_code == 1
    assert f"record {target + 1} " in result.stderr, result.stderr


@pytest.mark.parametrize("where", ["last", "middle"])
def test_audit_verify_catches_a_deleted_record(app, client, city, auth, where):
    every_write(client, auth)
    total = count_records(app)
    gone = total if where == "last" else total // 2
    raw(app, "DELETE FROM audit_records WHERE id = :id", id=gone)
    result = verify(app)
    assert result.exit_code == 1, (result.output, result.stderr)
    assert str(gone) in result.stderr, result.stderr
    if where == "middle":
        assert f"record {gone} is missing" in result.stderr


@pytest.mark.parametrize("hashed", [True, False])
def test_audit_verify_catches_a_forged_record(app, client, city, auth, hashed):
    """A record added at the end with SQL, even linked and hashed like a real one."""
    from tracker.models import AuditRecord
    from tracker.services import audit

    every_write(client, auth)
    with app.app_context():
        last = db.session.scalar(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1))
        forged = AuditRecord(id=last.id + 1, at=datetime.now(timezone.utc), actor="admin", client_ip="127.0.0.1",
                             action="user.update", target_type="user", target_id="clerk",
                             change='{"role": "admin"}', prev_hash=last.hash)
        forged.hash = audit._digest(forged) if hashed else "f" * 64
        values = {c: getattr(forged, c) for c in ("id", "at", "actor", "client_ip", "action", "target_type",
                                                  "target_id", "change", "prev_hash", "hash")}
        db.session.rollback()
        db.session.execute(AuditRecord.__table__.insert().values(**values))
        db.session.commit()
        db.session.remove()
    result = verify(app)
    assert result.exit_code == 1, (result.output, result.stderr)
    if not hashed:
        assert f"record {values['id']} " in result.stderr, result.stderr
    else:
        assert str(values["id"]) in result.stderr, result.stderr


# -- personal numbers --------------------------------------------------------------------------------


def test_id_and_phone_numbers_never_appear_in_clear(app, client, city, auth, caplog):
    caplog.set_level(logging.INFO)
    code = every_write(client, auth)["code"]
    h = auth.headers("clerk")
    response = client.post("/api/v1/dossiers", json={
        "procedure_code": "1.000001", "channel": "postal",
        "applicant": {"name": "Phạm Thị Hoa", "id_number": "046088007766", "phone": "+84905123456"}}, headers=h)
    assert response.status_code == 201
    # A refused request carrying the numbers is not logged with them either.
    response = client.post("/api/v1/dossiers", json={
        "procedure_code": "9.999999", "channel": "postal",
        "applicant": {"name": "Phạm Thị Hoa", "id_number": "046088007766", "phone": "+84905123456"}}, headers=h)
    assert response.status_code == 422
    with app.app_context():
        changes = db.session.scalars(text("SELECT change FROM audit_records")).all()
        db.session.remove()
    assert len(changes) > 15
    stored = "\n".join(changes)
    secrets = (ID_NUMBER, "0461 9500 1122", PHONE, "0934.555.666", "934555666", NEW_ID_NUMBER, NEW_PHONE,
               "046088007766", "+84905123456", "905123456", EMAIL)
    for secret in secrets:
        assert secret not in stored, secret
        assert secret not in caplog.text, secret
    # The masked forms keep only the last three characters.
    trail = records(client, auth.headers("admin"), target=code)
    assert trail[0]["change"]["applicant"]["id_number"] == "*********122"
    assert trail[0]["change"]["applicant"]["phone"] == "*******666"
    assert trail[-1]["change"]["applicant"] == {"id_number": "*********345", "phone": "*******321"}
