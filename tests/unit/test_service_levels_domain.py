"""The service index, the service-level deltas and the evaluation window, as pure rules."""
from __future__ import annotations

from dataclasses import astuple
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import statistics as stats
from tracker.domain.calendar import OfficeHours, WorkingCalendar
from tracker.domain.deadlines import Deadlines, TimeLimit
from tracker.domain.progress import DossierClock
from tracker.domain.service_index import DEFAULT_WEIGHTS, GROUPS, service_index
from tracker.domain.service_levels import (REPLACE_WINDOW, EvaluationRefused, Flags, apply_step_flags,
                                           check_evaluation, step_flag_errors)

RULES = Deadlines(WorkingCalendar(), OfficeHours.parse())
RATES = ("progress_rate", "online_rate", "online_payment_rate", "digitized_rate", "electronic_result_rate",
         "satisfaction_rate")
rates = st.one_of(st.none(), st.integers(0, 10000).map(lambda n: n / 10000))
counters = st.fixed_dictionaries({name: rates for name in RATES})
weights = st.fixed_dictionaries({group: st.integers(0, 25).map(float) for group in GROUPS})


@given(counters, weights)
def test_the_score_adds_up_the_measured_groups(figures, weight):
    index = service_index(figures, weight)
    measured = [g for g in GROUPS if index[g]["rate"] is not None]
    assert index["max_score"] == round(sum(weight[g] for g in measured), 2)
    assert index["score"] == round(sum(index[g]["points"] for g in measured), 2)
    assert 0 <= index["score"] <= index["max_score"] + 0.01 * len(measured)
    for group in GROUPS:
        entry = index[group]
        assert entry["max_points"] == weight[group]
        assert (entry["points"] is None) == (entry["rate"] is None)
        if entry["rate"] is not None:
            assert entry["points"] == round(entry["rate"] * weight[group], 2)


@given(counters)
def test_each_group_reads_its_rates(figures):
    index = service_index(figures, DEFAULT_WEIGHTS)
    assert index["progress"]["rate"] == figures["progress_rate"]
    assert index["satisfaction"]["rate"] == figures["satisfaction_rate"]
    for group, pair in (("online", ("online_rate", "online_payment_rate")),
                        ("digitization", ("digitized_rate", "electronic_result_rate"))):
        present = [figures[name] for name in pair if figures[name] is not None]
        expected = round(sum(present) / len(present), 4) if present else None
        assert index[group]["rate"] == expected


def test_all_measured_the_maximum_is_82_never_100():
    index = service_index({name: 1.0 for name in RATES}, DEFAULT_WEIGHTS)
    assert (index["score"], index["max_score"]) == (82.0, 82.0)


# -- flags and their deltas -----------------------------------------------------------------------

STEPS = [("accept", {"digitized": True}), ("accept", {}), ("receive_payment", {"online": True}),
         ("receive_payment", {"online": False}), ("complete", {"electronic_result": True}), ("process", {})]


@given(st.lists(st.sampled_from(STEPS), max_size=6))
def test_flags_once_set_stay_set(steps):
    flags = Flags()
    for action, fields in steps:
        after = apply_step_flags(flags, action, fields)
        assert all(getattr(after, name) >= getattr(flags, name) for name in flags.__dataclass_fields__)
        flags = after
    assert flags.paid == any(action == "receive_payment" for action, _ in steps)
    assert flags.paid_online == any(fields.get("online") for _, fields in steps)


def test_a_flag_belongs_to_its_action():
    assert step_flag_errors("accept", {"digitized": True}) == {}
    assert set(step_flag_errors("process", {"digitized": True, "online": False, "electronic_result": True})) == {
        "digitized", "online", "electronic_result"}


AT = datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc)  # Monday 09:00 in Huế
flags = st.builds(Flags, st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans())


def _clock(state: str) -> DossierClock:
    clock = DossierClock(status="registered", limit=TimeLimit(3, "working_days"))
    if state != "registered":
        clock.status, clock.accepted_at = "processing", AT
    if state in ("done", "returned", "stopped"):
        clock.status, clock.finished_at = state, AT + timedelta(days=2)
    return clock


PATHS = [["processing", "done", "returned"], ["processing", "stopped"], ["processing"], [], ["done"]]


@given(st.sampled_from(PATHS), st.booleans(), st.lists(flags, min_size=4, max_size=4))
def test_the_deltas_of_the_steps_add_up_to_those_of_the_whole_history(path, registered_first, drawn):
    """Step by step or at once (the rebuild and the import), a history adds the same figures."""
    clocks = [_clock("registered")] + ([_clock("registered")] if registered_first else []) + [_clock(s) for s in path]
    marks = [Flags()]
    for mark in drawn[:len(clocks) - 1]:
        marks.append(Flags(*[a or b for a, b in zip(astuple(marks[-1]), astuple(mark))]))  # flags stay set
    total: dict = {}
    for i in range(len(clocks) - 1):
        for day, row in stats.flag_deltas(clocks[i], clocks[i + 1], marks[i], marks[i + 1], RULES).items():
            stats.accumulate(total, day, list(row))
    whole = stats.history_flag_deltas(clocks[-1], marks[-1], RULES)
    assert {d: r for d, r in total.items() if any(r)} == {d: r for d, r in whole.items() if any(r)}
    if clocks[-1].accepted_at is not None:
        received = whole.get(RULES.local(AT).date(), [0] * len(stats.COLUMNS))
        assert received[stats.COLUMNS.index("digitized")] == marks[-1].digitized


def test_evaluations_count_on_the_resolution_day_and_move_on_replacement():
    finished = AT + timedelta(days=2)
    given_ = stats.evaluation_deltas(finished, None, "satisfied", RULES)
    moved = stats.evaluation_deltas(finished, "satisfied", "dissatisfied", RULES)
    (day, row), = given_.items()
    assert day == RULES.local(finished).date()
    assert row[stats.COLUMNS.index("satisfied")] == 1 and sum(row) == 1
    (_, change), = moved.items()
    assert change[stats.COLUMNS.index("satisfied")] == -1 and change[stats.COLUMNS.index("dissatisfied")] == 1
    assert stats.evaluation_deltas(None, None, "satisfied", RULES) == {}  # never resolved: no figure


@given(st.integers(0, 60 * 24 * 60))
def test_the_replacement_window_is_30_days(minutes):
    first = AT
    now = first + timedelta(minutes=minutes)
    if now - first <= REPLACE_WINDOW:
        assert check_evaluation("done", first, now) is True
    else:
        with pytest.raises(EvaluationRefused):
            check_evaluation("done", first, now)
    assert check_evaluation("returned", None, now) is False
    with pytest.raises(EvaluationRefused):
        check_evaluation("processing", None, now)
