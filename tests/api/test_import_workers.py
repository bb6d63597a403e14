"""The import gives the same database whether worker processes prepare its lines or not.

The same file (a generated city's history with bad lines, duplicates across chunk
boundaries, reference records between dossiers and a calendar override after some)
goes into two empty databases: once prepared in this process, once by forked
workers in chunks of a few lines. Dossiers, steps, counters, code counters and the
report must be identical, and the counters must equal a rebuild from the dossiers.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import orjson
from sqlalchemy import text

from bench.generate import TZ, agencies, dossiers, procedures
from tests.api.test_transfer import stat_rows
from tracker.extensions import db
from tracker.services import statistics
from tracker.services.audit import Actor
from tracker.services.importing.importer import import_lines
from tracker.services.importing.export import dumps, export_records



def _history() -> list[bytes]:
    rng = random.Random(7)
    agency_rows, procedure_rows = agencies(6), procedures(8)
    generated = list(dossiers(120, agency_rows, procedure_rows, rng))
    late_agency = {"type": "agency", "code": "999.50.00.H99", "name": "Đơn vị mới", "parent_code": "999.00.00.H99"}
    late_dossier = {**generated[0], "code": "999.50.00.H99-250102-0001", "agency_code": late_agency["code"]}
    holiday = (datetime.now(TZ) - timedelta(days=20)).date()
    records: list = [*agency_rows, *procedure_rows, *generated[:50]]
    records += [
        generated[3],                                                    # the same code again: a bad line
        {**generated[60], "channel": "pigeon"},                          # schema
        b'{"type":"dossier","code":"broken',                             # not JSON
        {**generated[61], "steps": [{"action": "complete", "at": generated[61]["accepted_at"]}]},  # state machine
        {"type": "procedure", "code": "bad", "name": "x", "field": "y", "time_limit": {"value": 0, "unit": "x"}},
        late_dossier,                                                    # before its agency: unknown agency
        late_agency,
        {**late_dossier, "code": "999.50.00.H99-250102-0002"},           # after it: fine
        {"type": "calendar_override", "date": holiday.isoformat(), "working": False, "name": "Nghỉ bù"},
    ]
    records += generated[50:60] + generated[62:]
    records.append(generated[70])                                        # a duplicate far from the first
    return [line if isinstance(line, bytes) else orjson.dumps(line) for line in records]


def _import(app, lines, **options):
    with app.app_context():
        report = import_lines(lines, Actor(ip="cli"), **options)
        db.session.remove()
    return report


def _contents(app) -> tuple:
    with app.app_context():
        exported = b"".join(dumps(record) for record in export_records(TZ))
        counters = db.session.execute(text("SELECT agency_id, day, last FROM dossier_counters ORDER BY 1, 2")).all()
        steps = db.session.execute(text(
            "SELECT d.code, s.seq, s.action, s.status_before, s.status_after, s.at, s.agency_id, s.to_agency_id "
            "FROM steps s JOIN dossiers d ON d.id = s.dossier_id ORDER BY d.code, s.seq")).all()
        dossier_rows = db.session.execute(text(
            "SELECT code, status, due_at, appointment_at, finished_at, timeliness, paused_days, version, "
            "applicant_name_folded, applicant_phone FROM dossiers ORDER BY code")).all()
        db.session.remove()
    return exported, counters, steps, dossier_rows


def test_workers_give_the_same_database_as_one_process(app, second_app):
    lines = _history()
    alone = _import(app, lines, workers=0)
    second = second_app
    pooled = _import(second, lines, workers=2, chunk_size=7)

    assert pooled.errors == alone.errors
    assert [n for n, _ in alone.errors] == sorted(n for n, _ in alone.errors)
    assert len(alone.errors) == 7, alone.errors
    assert (pooled.added, pooled.skipped) == (alone.added, alone.skipped)
    assert alone.added["dossier"] == 119 and alone.added["calendar_override"] == 1
    assert _contents(second) == _contents(app)
    assert stat_rows(second) == stat_rows(app)
    assert stat_rows(app)["fine"], "the history must give counters to compare"


def test_counters_of_an_import_equal_a_rebuild(app):
    lines = [line for line in _history() if b"calendar_override" not in line]  # no rebuild inside the import
    _import(app, lines, workers=2, chunk_size=5)
    imported = stat_rows(app)
    with app.app_context():
        statistics.rebuild()
        db.session.commit()
        db.session.remove()
    assert stat_rows(app) == imported


def test_a_second_import_of_a_partly_imported_file_adds_only_the_rest(app, second_app):
    lines = _history()
    head = len(lines) // 2
    reports = []
    for target, options in ((app, {"workers": 2, "chunk_size": 4}), (second_app, {"workers": 0})):
        _import(target, lines[:head], **options)
        reports.append(_import(target, lines, **options))
    assert reports[0] == reports[1]
    assert reports[0].skipped["dossier"] > 40 and reports[0].added["dossier"] > 40
    # The first half brought the agency that a line before it names: that line goes in now.
    assert "999.50.00.H99-250102-0001" in _contents(app)[0].decode()
    assert _contents(app)[1:] == _contents(second_app)[1:]
    assert stat_rows(app) == stat_rows(second_app)


def test_a_dossier_created_during_an_import_into_an_empty_database_is_kept(app, second_app, monkeypatch):
    """The empty database is not looked up; a code taken meanwhile makes the batch look up and skip it."""
    from tracker.services.importing.writer import DossierWriter

    lines = _history()
    references = [line for line in lines if b'"type":"dossier"' not in line]
    first = next(line for line in lines if b'"type":"dossier"' in line)
    looked_up = second_app  # the same two imports, the second one looking codes up from the start
    for target in (app, looked_up):
        _import(target, references + [first], workers=0)
    reports = [_import(looked_up, lines, workers=2, chunk_size=7)]
    monkeypatch.setattr(DossierWriter, "any_dossier", lambda self: False)  # as if it came after the start
    reports.append(_import(app, lines, workers=2, chunk_size=7))
    assert reports[0] == reports[1]
    assert reports[1].skipped["dossier"] == 1 and reports[1].added["dossier"] == 119
    assert _contents(app)[1:] == _contents(looked_up)[1:]
    assert stat_rows(app) == stat_rows(looked_up)


def test_a_line_that_starts_as_a_dossier_and_says_another_type_later_is_bad(app):
    twice = b'{"type":"dossier","code":"999.77.00.H99","type":"agency","name":"Hai loai"}'
    report = _import(app, [twice], workers=0)
    assert report.errors == [(1, "type: given more than once.")]
    assert report.added == dict.fromkeys(report.added, 0)


def test_the_planner_knows_the_imported_rows(app, backend):
    """On PostgreSQL an import ends with ANALYZE of what it filled: the planner's row counts
    are the tables' (without it, a freshly loaded table is planned as nearly empty, and a
    lookup at ten million read each dossier's steps with parallel workers). SQLite plans
    by its indexes and is left alone."""
    _import(app, _history(), workers=0)
    with app.app_context():
        counts = {table: db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                  for table in ("dossiers", "steps", "stat_cells")}
        assert counts["dossiers"] == 119 and counts["steps"] > counts["dossiers"]
        if backend == "postgresql":
            planned = dict(db.session.execute(text(
                "SELECT relname, reltuples FROM pg_class WHERE relname IN ('dossiers', 'steps', 'stat_cells')")).all())
            assert planned == {table: float(count) for table, count in counts.items()}
        else:
            assert db.session.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).first() is None
        db.session.remove()
