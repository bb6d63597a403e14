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
    """Editing a record and recomputing its own seal, even with the key, still breaks the link of the next one."""
    from tracker.models import AuditRecord
    from tracker.services import audit

    every_write(client, auth)
    with app.app_context():
        entry = db.session.scalar(select(AuditRecord).where(AuditRecord.action == "user.create"))
        entry.change = '{"role": "admin", "username": "clerk2"}'
        forged = audit.digest(entry)
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
                             change='{"role": "admin"}', prev_hash=last.hash, kid=last.kid)
        forged.hash = audit.digest(forged) if hashed else "f" * 64
        values = {c: getattr(forged, c) for c in ("id", "at", "actor", "client_ip", "action", "target_type",
                                                  "target_id", "change", "prev_hash", "hash", "kid")}
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


# -- the keyed chain and the steps it seals ---------------------------------------------------------


def test_every_step_is_sealed_by_the_record_of_the_write_that_added_it(app, client, city, auth):
    from tracker.models import AuditRecord, Step

    code = every_write(client, auth)["code"]
    with app.app_context():
        steps = db.session.scalars(select(Step).order_by(Step.seq)).all()
        assert [s.seq for s in steps] == [1, 2]
        sealing = {s.seq: db.session.get(AuditRecord, s.audit_id) for s in steps}
        assert [(r.action, r.target_id, r.steps_sealed) for r in sealing.values()] == [
            ("dossier.create", code, 1), ("dossier.step", code, 1)]
        assert all(r.kid == app.config["TRACKER_AUDIT_KID"] for r in sealing.values())
        db.session.remove()


STEP_EDITS = {
    "action": "'withdraw'", "status_before": "'registered'", "status_after": "'done'", "at": "at",
    "user_id": "NULL", "agency_id": "(SELECT MAX(id) FROM agencies)",
    "to_agency_id": "(SELECT MAX(id) FROM agencies)", "handler": "'Người khác'",
    "note": "'sửa ghi chú'", "public_note": "'Đã xong'", "reason": "'lý do khác'", "result": "'approved'",
    "new_appointment_at": "at", "seq": "7",
}


@pytest.mark.parametrize("column", sorted(STEP_EDITS))
def test_audit_verify_names_an_edited_step(app, client, city, auth, column):
    code = every_write(client, auth)["code"]
    if column in ("at", "new_appointment_at"):
        raw(app, f"UPDATE steps SET {column} = :value WHERE seq = 2", value="2020-01-01 00:00:00.000000")
    else:
        raw(app, f"UPDATE steps SET {column} = {STEP_EDITS[column]} WHERE seq = 2")
    result = verify(app)
    assert result.exit_code == 1, (result.output, result.stderr)
    assert code in result.stderr, result.stderr
    if column != "seq":
        assert f"step 2 of dossier {code} does not match" in result.stderr, result.stderr


def test_audit_verify_notices_a_step_moved_to_another_dossier(app, client, city, auth):
    every_write(client, auth)
    response = client.post("/api/v1/dossiers", json={"procedure_code": "1.000001", "channel": "online", "agency_code": DEPT,
                                                     "applicant": {"name": "Trần Bình"}}, headers=auth.headers("admin"))
    other = response.get_json()["code"]
    raw(app, "UPDATE steps SET dossier_id = (SELECT id FROM dossiers WHERE code = :code), seq = 3 WHERE seq = 2",
        code=other)
    result = verify(app)
    assert result.exit_code == 1 and "does not match" in result.stderr, result.stderr


def test_audit_verify_notices_a_deleted_and_an_inserted_step(app, client, city, auth):
    code = every_write(client, auth)["code"]
    raw(app, "DELETE FROM steps WHERE seq = 2")
    result = verify(app)
    assert result.exit_code == 1 and "no longer there" in result.stderr, result.stderr

    raw(app, "INSERT INTO steps (dossier_id, seq, action, status_before, status_after, at, recorded_at) "
             "SELECT dossier_id, 2, 'process', 'accepted', 'processing', at, recorded_at FROM steps WHERE seq = 1")
    result = verify(app)
    assert result.exit_code == 1, result.stderr
    assert f"1 step(s) are sealed by no audit record (the first: step 2 of dossier {code})" in result.stderr


def test_audit_verify_notices_a_step_claiming_a_record_that_sealed_none(app, client, city, auth):
    every_write(client, auth)
    raw(app, "UPDATE steps SET audit_id = 1 WHERE seq = 2")
    result = verify(app)
    assert result.exit_code == 1 and "which sealed no steps" in result.stderr, result.stderr


def test_audit_verify_checks_the_steps_of_an_import(app, client, city, auth, tmp_path):
    every_write(client, auth)
    lines = [json.dumps({"type": "dossier", "code": f"{DEPT}-250124-000{n}", "agency_code": DEPT,
                         "procedure_code": "1.000001", "channel": "direct", "applicant": {"name": "Lê Văn Ba"},
                         "accepted_at": "2025-01-24T08:00:00+07:00",
                         "steps": [{"action": "process", "at": "2025-01-24T09:00:00+07:00", "note": "Giao"}]},
                        ensure_ascii=False) for n in range(1, 4)]
    path = tmp_path / "import.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["tracker", "import", str(path), "--quiet"]).exit_code == 0
    assert verify(app).exit_code == 0
    raw(app, "UPDATE steps SET note = 'Giao lại' WHERE note = 'Giao' AND dossier_id = "
             "(SELECT id FROM dossiers WHERE code = :code)", code=f"{DEPT}-250124-0002")
    result = verify(app)
    assert result.exit_code == 1, result.stderr
    assert "one of the 6 steps sealed by record" in result.stderr and "import.batch" in result.stderr


def test_audit_verify_catches_a_history_rehashed_without_the_key(app, client, city, auth):
    """Whoever rewrites every record with plain SHA-256 (or another key) cannot make it verify."""
    import hashlib

    from tracker.models import AuditHead, AuditRecord
    from tracker.services import audit_check

    every_write(client, auth)
    with app.app_context():
        rows = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
        prev, new = GENESIS, []
        for row in rows:
            payload = json.dumps([row.id, row.at.isoformat(timespec="microseconds"), row.actor, row.client_ip,
                                  row.action, row.target_type, row.target_id, row.change, prev],
                                 ensure_ascii=False, separators=(",", ":"))
            prev = hashlib.sha256(payload.encode()).hexdigest()
            new.append((row.id, prev))
        db.session.rollback()
        for kid in (None, "0" * 16):
            prev = GENESIS
            for number, digest in new:
                db.session.execute(AuditRecord.__table__.update().where(AuditRecord.id == number)
                                   .values(hash=digest, prev_hash=prev, kid=kid))
                prev = digest
            db.session.execute(AuditHead.__table__.update().values(last_hash=prev))
            db.session.commit()
            checked, broken, why = audit_check.verify()
            assert broken is not None and broken.id == 1 and why, (kid, why)
            assert ("not sealed with a key" if kid is None else "not configured") in why
        db.session.remove()


def test_audit_verify_catches_a_cut_tail_even_with_the_head_moved_back(app, client, city, auth):
    from tracker.models import AuditRecord

    every_write(client, auth)
    total = count_records(app)
    with app.app_context():
        keep = db.session.get(AuditRecord, total - 3)
        kept_hash = keep.hash
        db.session.remove()
    raw(app, "DELETE FROM audit_records WHERE id > :id", id=total - 3)
    result = verify(app)
    assert result.exit_code == 1 and f"the chain ends at record {total - 3} but the head says {total}" in result.stderr
    raw(app, "UPDATE audit_head SET last_id = :id, last_hash = :hash", id=total - 3, hash=kept_hash)
    result = verify(app)
    assert result.exit_code == 1, result.stderr
    assert "the head" in result.stderr and "not sealed with the key" in result.stderr, result.stderr


def test_audit_keys_rotate_and_old_records_keep_verifying(app, client, city, auth, database_urls, backend):
    """Records sealed with the old key verify while it is listed in TRACKER_OLD_AUDIT_KEYS, new ones
    get the new key; once the old key is dropped, the first record it sealed is named."""
    from tracker import create_app
    from tracker.models import AuditRecord
    from tracker.services import audit
    from tracker.services.audit import SYSTEM

    from tests.conftest import TEST_SETTINGS

    every_write(client, auth)
    old_key, new_key = TEST_SETTINGS["TRACKER_AUDIT_KEY"], "a-new-audit-key-after-the-rotation"
    url = database_urls[backend]
    rotated = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url, "TRACKER_AUDIT_KEY": new_key,
                          "TRACKER_OLD_AUDIT_KEYS": f" {old_key} , "})
    dropped = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url, "TRACKER_AUDIT_KEY": new_key})
    try:
        with rotated.app_context():
            audit.record(SYSTEM, "test.event", "test", "after-rotation")
            db.session.commit()
            kids = db.session.scalars(select(AuditRecord.kid).order_by(AuditRecord.id)).all()
            db.session.remove()
        assert kids[0] == app.config["TRACKER_AUDIT_KID"] != kids[-1] == rotated.config["TRACKER_AUDIT_KID"]
        assert set(kids[:-1]) == {kids[0]}
        result = rotated.test_cli_runner().invoke(args=["tracker", "audit-verify"])
        assert result.exit_code == 0, result.stderr
        result = dropped.test_cli_runner().invoke(args=["tracker", "audit-verify"])
        assert result.exit_code == 1
        assert "record 1 " in result.stderr and "TRACKER_OLD_AUDIT_KEYS" in result.stderr, result.stderr
    finally:
        for other in (rotated, dropped):
            with other.app_context():
                db.session.remove()
                db.engine.dispose()


# -- upgrading a trail written before the chain was keyed --------------------------------------------


def make_legacy(app) -> None:
    """Turn the trail into what the previous version wrote: plain SHA-256, no key ids, steps unsealed."""
    from tracker.models import AuditHead, AuditRecord
    from tracker.services.audit_upgrade import legacy_digest

    with app.app_context():
        rows = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
        prev = GENESIS
        for row in rows:
            row.kid, row.prev_hash, row.steps_sealed, row.steps_digest = None, prev, None, None
            row.hash = prev = legacy_digest(row)
        db.session.flush()
        db.session.execute(AuditHead.__table__.update().values(last_hash=prev, kid=None, seal=None))
        db.session.execute(text("UPDATE steps SET audit_id = NULL"))
        db.session.commit()
        db.session.remove()


def upgrade(app):
    return app.test_cli_runner().invoke(args=["tracker", "audit-upgrade"])


def test_audit_upgrade_seals_an_old_trail_once(app, client, city, auth):
    every_write(client, auth)
    make_legacy(app)
    total = count_records(app)
    result = verify(app)
    assert result.exit_code == 1 and "record 1 " in result.stderr and "audit-upgrade" in result.stderr
    # Written after the schema upgrade, before audit-upgrade: keyed, chained to the old records.
    assert client.post("/api/v1/auth/login", json={"username": "clerk", "password": PASSWORD}).status_code == 200
    result = upgrade(app)
    assert result.exit_code == 0, (result.output, result.stderr)
    assert f"Sealed {total + 1} audit records and 2 steps" in result.output
    result = verify(app)
    assert result.exit_code == 0, (result.output, result.stderr)
    assert f"{total + 2} records" in result.output
    again = upgrade(app)
    assert again.exit_code == 1 and "nothing to upgrade" in again.output
    # The steps are sealed now: editing one shows.
    raw(app, "UPDATE steps SET note = 'khác' WHERE seq = 1")
    assert "one of the 2 steps sealed by record" in verify(app).stderr


def test_audit_upgrade_refuses_to_seal_a_broken_old_trail(app, client, city, auth):
    every_write(client, auth)
    make_legacy(app)
    raw(app, "UPDATE audit_records SET change = '{}' WHERE id = 5")
    result = upgrade(app)
    assert result.exit_code == 1 and "broken at record 5" in result.output, result.output
    with app.app_context():
        assert db.session.scalar(text("SELECT COUNT(*) FROM audit_records WHERE kid IS NOT NULL")) == 0
        db.session.remove()


def test_the_trail_shows_the_key_id_and_the_steps_each_record_seals(app, client, city, auth):
    code = every_write(client, auth)["code"]
    trail = records(client, auth.headers("admin"))
    assert {r["kid"] for r in trail} == {app.config["TRACKER_AUDIT_KID"]}
    sealed = {(r["action"], r["target_id"]): r["steps_sealed"] for r in trail if r["steps_sealed"]}
    assert sealed == {("dossier.create", code): 1, ("dossier.step", code): 1}
