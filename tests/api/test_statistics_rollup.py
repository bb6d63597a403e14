"""Summed day deltas reach the counter tables the same way whether Python or the database
rolls them up to months, years and the narrower tables (``Accumulator.write``)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from tracker.domain.statistics import COLUMNS
from tracker.extensions import db
from tracker.models.statistics import StatAgencyCell, StatCell, StatProcedureCell
from tracker.services.statistics import counters as statistics

TABLES = (StatCell, StatAgencyCell, StatProcedureCell)
FIRST = date(2024, 12, 20)
# Few values, so that cells meet: the same month, the same year, sums that cancel out
# (and vectors that are each other's opposite, or zero).
cells = st.dictionaries(
    st.tuples(st.sampled_from([1, 2]), st.sampled_from([1, 2]), st.sampled_from(["online", "direct"]),
              st.integers(0, 45).map(lambda n: FIRST + timedelta(days=n))),
    st.one_of(st.sampled_from([[1, 0, 0, 0, 0, 2, 1, 0] + [0] * (len(COLUMNS) - 8),
                               [-1, 0, 0, 0, 0, -2, -1, 0] + [0] * (len(COLUMNS) - 8), [0] * len(COLUMNS)]),
              st.lists(st.integers(-2, 2), min_size=len(COLUMNS), max_size=len(COLUMNS))),
    max_size=30)


@pytest.fixture
def ids(city):
    from tracker.models import Agency, Procedure

    with city.app.app_context():
        agencies = db.session.scalars(select(Agency.id).order_by(Agency.id)).all()[:2]
        procedures = db.session.scalars(select(Procedure.id).order_by(Procedure.id)).all()[:2]
        db.session.remove()
    return {1: agencies[0], 2: agencies[1]}, {1: procedures[0], 2: procedures[1]}


def _tables(app) -> dict:
    with app.app_context():
        rows = {model.__tablename__: sorted(tuple(getattr(row, c.name) for c in model.__table__.columns)
                                            for row in db.session.scalars(select(model)))
                for model in TABLES}
        db.session.remove()
    return rows


def _write(app, monkeypatch, days: dict, in_database: bool) -> None:
    monkeypatch.setattr(statistics, "ROLLUP_MIN", 0 if in_database else 10**9)
    with app.app_context():
        sums = statistics.Accumulator()
        sums.days = {key: list(vector) for key, vector in days.items()}
        sums.write()
        db.session.commit()
        db.session.remove()


def _clear(app) -> None:
    with app.app_context():
        for model in TABLES:
            db.session.execute(delete(model))
        db.session.commit()
        db.session.remove()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=cells, second=cells)
def test_the_database_rolls_up_like_python(app, ids, monkeypatch, first, second):
    agencies, procedures = ids
    batches = [{(agencies[a], procedures[p], channel, day): vector for (a, p, channel, day), vector in batch.items()}
               for batch in (first, second)]
    results = []
    for in_database in (False, True):
        _clear(app)
        _write(app, monkeypatch, batches[0], in_database)
        once = _tables(app)
        # Rows whose sums cancel out are not written (a later batch may still bring one to zero).
        assert all(any(row[-len(COLUMNS):]) for rows in once.values() for row in rows), "an all-zero row"
        _write(app, monkeypatch, batches[1], in_database)  # adds to the cells of the first batch
        results.append((once, _tables(app)))
    assert results[0] == results[1]
    if any(any(v) for v in batches[0].values()):
        assert results[0][0]["stat_cells"], "something was written"
