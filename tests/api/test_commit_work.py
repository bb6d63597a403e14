"""The audit record and the counters of a write join the database when it commits.

Every write shares two kinds of rows with every other: the audit chain's head and the
counters of its agency's year. They are written by the commit itself, so that another
writer waits for them only during the commit's last statements, not during the whole
request; a transaction rolled back takes its record and its deltas with it.
"""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tracker.extensions import db
from tracker.models import AuditRecord, Dossier, Step
from tracker.models.statistics import StatAgencyCell
from tracker.models.people import User
from tracker.services import dossiers
from tracker.services.audit import Actor
from tracker.services.audit_check import verify

DEPT = "000.01.00.H57"


COMPLETE = {"action": "complete", "result": "approved"}


def created(client, headers) -> str:
    """A dossier being processed, ready to be completed."""
    response = client.post("/api/v1/dossiers", headers=headers,
                           json={"procedure_code": "1.000001", "channel": "direct", "applicant": {"name": "Trần Thị Bình"}})
    assert response.status_code == 201, response.get_data(as_text=True)
    code = response.get_json()["code"]
    assert client.post(f"/api/v1/dossiers/{code}/steps", headers=headers, json={"action": "process"}).status_code == 201
    return code


def counted() -> tuple[int, int]:
    """Audit records, and dossiers completed according to the counters."""
    records = db.session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
    completed = db.session.execute(select(func.coalesce(func.sum(StatAgencyCell.completed), 0))
                                   .where(StatAgencyCell.grain == "y")).scalar_one()
    return records, completed


def open_step(code: str) -> Step:
    """A step written in the session's transaction, not committed."""
    clerk = db.session.execute(select(User).where(User.username == "clerk")).scalar_one()
    dossier = dossiers.visible(clerk, code, for_update=True)
    return dossiers.append_step(Actor(clerk), dossier, dict(COMPLETE))


def test_the_record_and_the_counters_are_written_by_the_commit(app, city, client, auth):
    code = created(client, auth.headers("clerk"))
    with app.app_context():
        before = counted()
        step = open_step(code)
        db.session.flush()
        assert step.audit_id is None  # not chained yet
        assert counted() == before
        db.session.commit()
        step = db.session.get(Step, step.id)
        record = db.session.get(AuditRecord, step.audit_id)
        assert (record.action, record.target_id, record.steps_sealed) == ("dossier.step", code, 1)
        assert counted() == (before[0] + 1, before[1] + 1)
        assert verify()[1:] == (None, None)


def test_a_rolled_back_write_leaves_no_record_and_no_counts(app, city, client, auth):
    headers = auth.headers("clerk")
    code = created(client, headers)
    with app.app_context():
        before = counted()
        cells = db.session.execute(select(StatAgencyCell.grain, StatAgencyCell.start, StatAgencyCell.processing_days,
                                          StatAgencyCell.received)).all()
        open_step(code)
        db.session.rollback()
        assert counted() == before
        # The next transaction starts clean: its commit chains its own record only.
        db.session.add(db.session.get(Dossier, db.session.execute(
            select(Dossier.id).where(Dossier.code == code)).scalar_one()))
        db.session.commit()
        assert counted() == before
        assert db.session.execute(select(StatAgencyCell.grain, StatAgencyCell.start, StatAgencyCell.processing_days,
                                         StatAgencyCell.received)).all() == cells
    second = client.post(f"/api/v1/dossiers/{code}/steps", headers=headers, json=COMPLETE)
    assert second.status_code == 201
    with app.app_context():
        assert counted() == (before[0] + 1, before[1] + 1)
        assert verify()[1:] == (None, None)


def test_other_writers_can_take_the_shared_rows_until_the_commit(app, city, client, auth, backend):
    """On PostgreSQL the head and the year's cells are free while the request works; the
    commit holds them. SQLite has one lock for the whole database, held by a writer from
    its first statement: there the test checks that no second writer gets in meanwhile."""
    code = created(client, auth.headers("clerk"))
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        open_step(code)
        db.session.flush()
        if backend == "sqlite":
            other = sqlite3.connect(make_url(url).database, timeout=0)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
            db.session.commit()
            return
        other = create_engine(url)
        try:
            with other.connect() as connection:
                connection.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT")).all()
                connection.execute(text("SELECT 1 FROM stat_agency_cells WHERE grain = 'y' FOR UPDATE NOWAIT")).all()
                connection.rollback()
            db.session.commit()
            # Once a transaction holds the head (as a commit does), the other writer cannot take it.
            db.session.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE")).all()
            with other.connect() as connection, pytest.raises(OperationalError):
                connection.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE NOWAIT")).all()
            db.session.rollback()
        finally:
            other.dispose()
