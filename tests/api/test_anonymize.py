"""Retention: ``flask tracker anonymize --finished-before`` erases the applicant's personal data of
finished dossiers, audits the run once, and leaves every public statistic exactly as it was."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tests import stats_reference as reference
from tracker.domain.people import fold, mask_name
from tracker.extensions import db

FINISHED = {"done", "returned", "stopped", "not_accepted", "withdrawn"}
PERSONAL = ("applicant_id_number", "applicant_phone", "applicant_email", "applicant_address")


@pytest.fixture
def demo_city(app):
    """The demo city: a few hundred dossiers of every status over the last six months."""
    from tracker.services import demo

    with app.app_context():
        demo.seed(count=300)
        db.session.commit()
        # Give every dossier an e-mail and an address too, so that their erasure shows.
        db.session.execute(db.text("UPDATE dossiers SET applicant_email = 'ai@example.vn', "
                                   "applicant_address = '12 Lê Lợi, Huế'"))
        db.session.commit()
        db.session.remove()
    return app


def snapshot(app) -> dict:
    """Every dossier's applicant columns and everything else, by code."""
    from tracker.models import Dossier

    with app.app_context():
        rows = db.session.scalars(select(Dossier)).all()
        result = {d.code: {c.name: getattr(d, c.name) for c in Dossier.__table__.columns} for d in rows}
        db.session.remove()
    return result


def closed_at(app) -> dict[str, datetime]:
    from tracker.models import Dossier, Step

    with app.app_context():
        rows = db.session.execute(select(Dossier.code, func.max(Step.at)).join(Step, Step.dossier_id == Dossier.id)
                                  .group_by(Dossier.code)).all()
        db.session.remove()
    return {code: at.astimezone(timezone.utc) for code, at in rows}


QUERIES = [
    {}, {"group_by": "agency"}, {"group_by": "procedure"}, {"group_by": "field"}, {"group_by": "channel"},
    {"group_by": "month"}, {"channel": "online", "group_by": "agency"}, {"agency": "000.00.01.H57"},
]


def reports(app, now: datetime, cutoff_day: date) -> list[dict]:
    """The public statistics for several periods and groupings (this year, the last six months,
    the month of the cut-off, one day)."""
    from tracker.services.statistics import reports as stats

    today = now.date()
    periods = [{"from_": today - timedelta(days=200), "to": today}, {"from_": cutoff_day.replace(day=1),
                                                                      "to": cutoff_day}, {"from_": cutoff_day,
                                                                                          "to": cutoff_day}]
    answers = []
    with app.app_context():
        for period in periods:
            for query in QUERIES:
                args = {**period, **query}
                if args.get("group_by") == "month" and period["to"] - period["from_"] > timedelta(days=370):
                    continue
                answers.append((args, stats.report(stats.resolve(args), now=now)))
        db.session.remove()
    return answers


def run(app, day: str, *flags):
    return app.test_cli_runner().invoke(args=["tracker", "anonymize", "--finished-before", day, *flags])


def test_anonymize_erases_personal_data_of_finished_dossiers_only(demo_city, monkeypatch):
    app = demo_city
    now = datetime.now(timezone.utc)
    monkeypatch.setattr("tracker.services.statistics.reports.utcnow", lambda: now)
    before = snapshot(app)
    closed = closed_at(app)
    cutoff_day = (now - timedelta(days=60)).date()
    cutoff = datetime.combine(cutoff_day, datetime.min.time(), app.config["OFFICE_HOURS"].tz)
    stats_before = reports(app, now, cutoff_day)

    result = run(app, cutoff_day.isoformat())
    assert result.exit_code == 0, (result.output, result.stderr)
    after = snapshot(app)

    expected = {code for code, row in before.items() if row["status"] in FINISHED and closed[code] < cutoff}
    kept = set(before) - expected
    assert len(expected) > 20 and len(kept) > 20, (len(expected), len(kept))
    # Some of the kept ones are finished too (after the cut-off), and some open ones are old.
    assert any(before[c]["status"] in FINISHED for c in kept)
    assert any(before[c]["status"] not in FINISHED and closed[c] < cutoff for c in kept)
    assert f"Anonymized {len(expected)} dossiers finished before {cutoff_day.isoformat()}." in result.output
    assert "anonymize" in result.stderr  # the progress bar
    for code in expected:
        row, old = after[code], before[code]
        assert row["applicant_name"] == mask_name(old["applicant_name"]) != old["applicant_name"]
        assert row["applicant_name_folded"] == fold(row["applicant_name"])
        assert all(row[name] is None for name in PERSONAL), row
        changed = {k for k in row if row[k] != old[k]}
        assert changed == {"applicant_name", "applicant_name_folded", *PERSONAL, "version", "updated_at"}, changed
    for code in kept:
        assert after[code] == before[code]

    # Every public figure is the same, and still the brute-force reference's.
    stats_after = reports(app, now, cutoff_day)
    assert len(stats_after) >= 20
    assert [a for _, a in stats_after] == [b for _, b in stats_before]
    assert sum(b["totals"]["received"]["total"] for _, b in stats_before) > 0
    with app.app_context():
        dossiers, agencies = reference.load()
        for args, body in stats_after[:8]:
            expected_report = reference.report(dossiers, agencies, args["from_"], args["to"], now,
                                               agency=args.get("agency"), channel=args.get("channel"),
                                               group_by=args.get("group_by"))
            assert body["totals"] == expected_report["totals"], args
            assert body["groups"] == expected_report["groups"], args
        db.session.remove()


def test_anonymize_is_audited_once_without_personal_data_and_the_chain_holds(demo_city):
    from tracker.models import AuditRecord
    from tracker.services import audit_check

    app = demo_city
    day = (datetime.now(timezone.utc) - timedelta(days=30)).date().isoformat()
    result = run(app, day, "--quiet")
    assert result.exit_code == 0 and result.stderr == "", result.stderr
    number = int(result.output.split()[1])
    assert number > 0
    with app.app_context():
        records = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "dossier.anonymize")).all()
        assert len(records) == 1
        assert (records[0].target_type, records[0].target_id, records[0].client_ip) == ("retention", day, "cli")
        assert json.loads(records[0].change) == {"finished_before": day, "dossiers": number}
        assert audit_check.verify()[2] is None
        db.session.remove()
    # A second run finds nothing left to erase, and says so in its own record.
    again = run(app, day, "--quiet")
    assert again.exit_code == 0 and "Anonymized 0 dossiers" in again.output
    with app.app_context():
        changes = db.session.scalars(select(AuditRecord.change).where(AuditRecord.action == "dossier.anonymize")
                                     .order_by(AuditRecord.id)).all()
        assert [json.loads(c)["dossiers"] for c in changes] == [number, 0]
        db.session.remove()


def test_the_public_lookup_of_an_anonymized_dossier_still_answers_masked(demo_city, client):
    from tracker.models import Dossier

    app = demo_city
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.status == "returned").limit(1))
        code, name, phone = dossier.code, dossier.applicant_name, dossier.applicant_phone
        db.session.remove()
    before = client.get(f"/api/v1/public/dossiers/{code}").get_json()
    verified = client.get(f"/api/v1/public/dossiers/{code}", query_string={"verify": phone}).get_json()
    assert verified["verified"] is True and verified["applicant_name"] == name
    assert run(app, (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat(), "--quiet").exit_code == 0
    after = client.get(f"/api/v1/public/dossiers/{code}").get_json()
    assert after == before and after["applicant_name"] == mask_name(name)
    # The phone no longer proves anything: it is gone.
    assert client.get(f"/api/v1/public/dossiers/{code}", query_string={"verify": phone}).get_json()["verified"] is False


@pytest.mark.parametrize("day", ["2025-13-01", "yesterday", ""])
def test_anonymize_refuses_a_bad_date(app, day):
    result = run(app, day)
    assert result.exit_code == 2 and "finished-before" in result.output, result.output
