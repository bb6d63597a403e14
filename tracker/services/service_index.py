"""The service index of a statistics report, and its admin-managed weights (docs/rules.md#rates)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from tracker.domain.service_index import DEFAULT_WEIGHTS, GROUPS, service_index
from tracker.extensions import db
from tracker.models import ServiceIndexWeight
from tracker.services import audit
from tracker.services.audit import Actor
from tracker.services.replica import public_read
from tracker.services.statistics import Query, remembered_json, remembered_report, report


def weights() -> dict[str, float]:
    """The weight of each measured group: the table's, Decision 766's for a group it lacks."""
    stored = dict(db.session.execute(select(ServiceIndexWeight.group, ServiceIndexWeight.weight)).all())
    return {group: float(stored.get(group, DEFAULT_WEIGHTS[group])) for group in GROUPS}


def set_weights(who: Actor, data: dict) -> dict[str, float]:
    """Replace the weights of the measured groups."""
    for group in GROUPS:
        row = db.session.get(ServiceIndexWeight, group)
        if row is None:
            db.session.add(ServiceIndexWeight(group=group, weight=data[group]))
        else:
            row.weight = data[group]
    db.session.flush()
    audit.record(who, "service_index.weights", "service_index", "weights", {g: data[g] for g in GROUPS})
    return weights()


def index_report(query: Query, now: datetime | None = None) -> dict:
    """``{period, filters, weights, totals, groups}``: the report's counters turned into the index.

    Remembered like the report itself while the data stays the same (``answers``).
    """
    return public_read(_remembered_index, query, now)


def index_json(query: Query, now: datetime | None = None) -> bytes:
    """``index_report`` as JSON, the bytes remembered as the index is."""
    return remembered_json("index", query, now, _remembered_index)


def _remembered_index(query: Query, now: datetime | None) -> dict:
    return remembered_report("index", query, now, lambda at: _index_report(query, at))


def _index_report(query: Query, now: datetime) -> dict:
    body = report(query, now)
    current = weights()
    return {
        "period": body["period"], "filters": body["filters"], "weights": current,
        "totals": service_index(body["totals"], current),
        "groups": [{"key": g["key"], "name": g["name"], **service_index(g, current)} for g in body["groups"]],
    }
