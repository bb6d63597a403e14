"""The demo city (``flask tracker seed-demo``) and the first admin (``flask tracker ensure-admin``)."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tracker.extensions import db

VN = ZoneInfo("Asia/Ho_Chi_Minh")
STATUSES = {"registered", "accepted", "not_accepted", "processing", "supplement_requested", "payment_requested",
            "withdrawn", "stopped", "done", "returned"}


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["tracker", *args])


def snapshot(app) -> dict:
    """Row counts of every table, and the dossiers' codes with their status and version."""
    from tracker.models import Dossier

    with app.app_context():
        counts = {table.name: db.session.scalar(select(func.count()).select_from(table))
                  for table in db.metadata.sorted_tables}
        dossiers = dict(db.session.execute(select(Dossier.code, Dossier.status)).all())
        db.session.remove()
    return {"counts": counts, "dossiers": dossiers}


def test_seed_demo_loads_a_city_once(app, client):
    result = invoke(app, "seed-demo")
    assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    assert "21 agencies, 40 procedures, 360 dossiers" in result.output
    loaded = re.search(r"(\d+) dossiers with (\d+) steps", result.output)

    agencies = client.get("/api/v1/agencies?page_size=100").get_json()
    assert agencies["total"] == 21
    tops = [a for a in agencies["items"] if a["parent_code"] is None]
    assert len(tops) == 1 and tops[0]["level"] == "province"
    assert {a["level"] for a in agencies["items"]} == {"province", "department", "commune"}
    assert all(re.fullmatch(r"[0-9A-Z.]{3,32}", a["code"]) for a in agencies["items"])

    procedures = client.get("/api/v1/procedures?page_size=100").get_json()
    assert procedures["total"] == 40
    assert all(re.fullmatch(r"[12]\.\d{6}", p["code"]) for p in procedures["items"]), procedures["items"]
    assert "1.004227" in {p["code"] for p in procedures["items"]}
    units = {p["time_limit"]["unit"] for p in procedures["items"]}
    assert units == {"working_days", "working_hours"}
    assert all(p["time_limit"]["value"] >= 1 and p["name"] and p["field"] for p in procedures["items"])

    first = snapshot(app)
    dossiers = first["dossiers"]
    assert 340 <= len(dossiers) <= 380
    assert set(dossiers.values()) == STATUSES, sorted(set(dossiers.values()))
    codes_by_agency = {code.rsplit("-", 2)[0] for code in dossiers}
    assert codes_by_agency <= {a["code"] for a in agencies["items"]}
    assert first["counts"]["steps"] > len(dossiers)
    # The summary counts what is there.
    assert loaded and (int(loaded[1]), int(loaded[2])) == (len(dossiers), first["counts"]["steps"])
    assert first["counts"]["users"] >= 4
    stats = client.get("/api/v1/public/stats?period=2026&group_by=agency")
    assert stats.status_code == 200

    # The demo's history obeys the rules it shows: each status is its last step's, each code carries
    # the local date of registration or acceptance, numbered from 0001 without gaps per agency and day.
    with app.app_context():
        from tracker.domain.codes import parse_dossier_code
        from tracker.models import Dossier, Step

        rows = db.session.execute(select(Dossier.code, Dossier.submitted_at, Step.seq, Step.at, Step.status_after)
                                  .join(Step, Step.dossier_id == Dossier.id).order_by(Dossier.id, Step.seq)).all()
        db.session.remove()
    history: dict[str, list] = {}
    for row in rows:
        history.setdefault(row.code, []).append(row)
    numbers: dict[tuple, list[int]] = {}
    for code, steps in history.items():
        assert steps[-1].status_after == dossiers[code], code
        assert [s.seq for s in steps] == list(range(1, len(steps) + 1))
        assert all(a.at <= b.at for a, b in zip(steps, steps[1:])), code
        agency, day, number = parse_dossier_code(code)
        assert day == steps[0].at.astimezone(VN).date() == steps[0].submitted_at.astimezone(VN).date(), code
        numbers.setdefault((agency, day), []).append(number)
    for key, taken in numbers.items():
        assert sorted(taken) == list(range(1, len(taken) + 1)), key

    again = invoke(app, "seed-demo")
    assert again.exit_code == 0, (again.output, again.stderr)
    assert "already" in again.output
    assert snapshot(app) == first


def test_seed_demo_leaves_a_database_with_data_alone(app, city):
    before = snapshot(app)
    result = invoke(app, "seed-demo")
    assert result.exit_code == 0
    assert snapshot(app) == before


def test_ensure_admin_creates_the_admin_with_the_given_password(app, client, monkeypatch):
    monkeypatch.setenv("TRACKER_ADMIN_PASSWORD", "Hue-Office-Key-2025")
    result = invoke(app, "ensure-admin")
    assert result.exit_code == 0, (result.output, result.stderr)
    assert "Hue-Office-Key-2025" not in result.output
    response = client.post("/api/v1/auth/login", json={"username": "admin", "password": "Hue-Office-Key-2025"})
    assert response.status_code == 200, response.get_data(as_text=True)
    token = response.get_json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["username"] == "admin" and me["role"] == "admin"
    assert client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong"}).status_code == 401

    # A second start keeps the first password, whatever the environment says now.
    monkeypatch.setenv("TRACKER_ADMIN_PASSWORD", "Something-Else-99")
    again = invoke(app, "ensure-admin")
    assert again.exit_code == 0 and "exists" in again.output
    assert client.post("/api/v1/auth/login", json={"username": "admin", "password": "Something-Else-99"}
                       ).status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": "admin", "password": "Hue-Office-Key-2025"}
                       ).status_code == 200


def test_ensure_admin_without_a_password_prints_a_generated_one(app, client, monkeypatch):
    monkeypatch.delenv("TRACKER_ADMIN_PASSWORD", raising=False)
    result = invoke(app, "ensure-admin")
    assert result.exit_code == 0, (result.output, result.stderr)
    password = result.output.strip().rsplit(" ", 1)[-1]
    assert len(password) >= 12
    assert client.post("/api/v1/auth/login", json={"username": "admin", "password": password}).status_code == 200


def test_seed_demo_after_ensure_admin_gives_working_staff_accounts(app, client, monkeypatch):
    """The order of ``make run``: the admin first, then the demo, whose staff can log in and work."""
    from tracker.models import AuditRecord
    from tracker.services import audit_check, demo

    monkeypatch.setenv("TRACKER_ADMIN_PASSWORD", "Hue-Office-Key-2025")
    assert invoke(app, "ensure-admin").exit_code == 0
    with app.app_context():
        summary = demo.seed(count=40)
        db.session.commit()
        actions = db.session.scalars(select(AuditRecord.action)).all()
        assert audit_check.verify()[2] is None
        db.session.remove()
    assert actions.count("import") == 1 and "dossier.step" not in actions  # one record for the whole load
    password = summary.rsplit(" ", 1)[-1]
    tokens = {}
    for username in ("clerk.tuphap", "manager.tuphap", "clerk.phuxuan", "viewer.city"):
        response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, username
        tokens[username] = {"Authorization": "Bearer " + response.get_json()["access_token"]}
    everything = client.get("/api/v1/dossiers?page_size=100", headers=tokens["viewer.city"]).get_json()
    assert everything["total"] == 40
    mine = client.get("/api/v1/dossiers?page_size=100", headers=tokens["clerk.phuxuan"]).get_json()
    assert {d["agency"]["code"] for d in mine["items"]} <= {"000.01.20.H57"}
    # Demo dossiers carry on through the API like any other.
    admin = client.post("/api/v1/auth/login", json={"username": "admin", "password": "Hue-Office-Key-2025"})
    headers = {"Authorization": "Bearer " + admin.get_json()["access_token"]}
    open_one = next(d for d in everything["items"] if "process" in d["allowed_actions"])
    response = client.post(f"/api/v1/dossiers/{open_one['code']}/steps", json={"action": "process"}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["dossier"]["status"] == "processing"


def test_the_demo_histories_are_coherent(app):
    """What the demo shows must make sense to the reader: a "submitted online" step only on online
    dossiers, a stop "because the documents did not come" only after documents were asked for, and a
    reason on every step whose notice needs one."""
    from tracker.domain.workflow import REGISTER
    from tracker.models import Dossier, Step
    from tracker.services import demo

    with app.app_context():
        demo.seed(count=240)
        db.session.commit()
        rows = db.session.execute(select(Dossier.code, Dossier.channel, Step.action, Step.reason)
                                  .join(Step, Step.dossier_id == Dossier.id).order_by(Dossier.id, Step.seq)).all()
        db.session.remove()
    history: dict[str, list] = {}
    channels = {}
    for row in rows:
        history.setdefault(row.code, []).append((row.action, row.reason))
        channels[row.code] = row.channel
    stops = 0
    for code, steps in history.items():
        actions = [action for action, _ in steps]
        if REGISTER in actions:
            assert channels[code] == "online", (code, channels[code])
            assert actions.index(REGISTER) == 0
        for index, (action, reason) in enumerate(steps):
            if action in ("refuse_intake", "request_supplement", "stop", "apologize"):
                assert reason, (code, action)
            if action == "stop":
                stops += 1
                if "bổ sung" in reason:
                    assert "request_supplement" in actions[:index], (code, actions)
    assert stops > 0
    assert {"online", "direct", "postal"} <= set(channels.values())


def test_welcome_prints_the_addresses_sample_codes_and_logins(app, client, monkeypatch):
    from tracker.services import demo

    monkeypatch.delenv("TRACKER_ADMIN_PASSWORD", raising=False)
    assert invoke(app, "ensure-admin").exit_code == 0
    seeded = invoke(app, "seed-demo")
    assert seeded.exit_code == 0
    result = invoke(app, "welcome", "--base-url", "http://127.0.0.1:8123/")
    assert result.exit_code == 0, (result.output, result.exception)
    for path in ("/lookup", "/stats", "/docs"):
        assert f"http://127.0.0.1:8123{path} " in result.output
    codes = re.findall(r"^  (\S+)  \((\w+)\)$", result.output, re.MULTILINE)
    assert [state for _, state in codes] == ["processing", "supplement_requested", "done"]
    for code, state in codes:
        assert client.get(f"/api/v1/public/dossiers/{code}").get_json()["status"] == state
    assert "admin, " + ", ".join(demo.DEMO_STAFF) in result.output
    # Passwords are not repeated: the seed printed the demo one once.
    password = seeded.output.strip().rsplit(" ", 1)[-1]
    assert password not in result.output


def test_reset_password_gives_a_new_generated_or_given_password(app, client):
    assert invoke(app, "create-user", "clerk.moi", "--role", "admin").exit_code == 0
    reset = invoke(app, "create-user", "--reset-password", "clerk.moi")
    assert reset.exit_code == 0, reset.output
    password = reset.output.strip().rsplit(" ", 1)[-1]
    assert "Reset the password of admin clerk.moi" in reset.output and len(password) >= 12
    assert client.post("/api/v1/auth/login", json={"username": "clerk.moi", "password": password}).status_code == 200
    given = invoke(app, "create-user", "--reset-password", "clerk.moi", "--password", "Given-Password-77")
    assert given.exit_code == 0 and "Given-Password-77" not in given.output
    assert client.post("/api/v1/auth/login", json={"username": "clerk.moi", "password": password}).status_code == 401
    assert client.post("/api/v1/auth/login",
                       json={"username": "clerk.moi", "password": "Given-Password-77"}).status_code == 200
    missing = invoke(app, "create-user", "--reset-password", "nobody")
    assert missing.exit_code != 0 and "No user is named nobody" in missing.output


def test_a_second_start_says_the_admin_password_variable_no_longer_applies(app, monkeypatch):
    monkeypatch.delenv("TRACKER_ADMIN_PASSWORD", raising=False)
    assert invoke(app, "ensure-admin").exit_code == 0
    quiet = invoke(app, "ensure-admin")
    assert "exists" in quiet.output and "TRACKER_ADMIN_PASSWORD" not in quiet.output
    monkeypatch.setenv("TRACKER_ADMIN_PASSWORD", "Something-Else-99")
    told = invoke(app, "ensure-admin")
    assert told.exit_code == 0
    assert "TRACKER_ADMIN_PASSWORD only applies to a new database" in told.output
    assert "Something-Else-99" not in told.output
