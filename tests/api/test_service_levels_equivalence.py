"""Service-level rates and evaluations: live counters == rebuilt counters == the brute-force reference.

The random histories of ``test_statistics_equivalence`` are loaded again, through a
client that adds the service flags (digitised and paid online at intake, digitised
with ``accept``, paid online with ``receive_payment``, an electronic result with
``complete``) and gives the applicant a phone; then some finished dossiers are
evaluated by their applicant (some twice, the second replacing the first), refused
intakes included, which must enter no public figure. Two of the procedures are
offered online, one of them only partly, and one is moved to another level after the
dossiers came in (the online rate counts the level a dossier came in with, the
grouping the level now).
"""
from __future__ import annotations

import random
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from tests import stats_reference as reference
from tests.api import test_statistics_equivalence as base
from tracker.domain.service_index import service_index
from tracker.domain.service_levels import EVALUABLE, LEVELS
from tracker.extensions import db
from tracker.models import Dossier, Evaluation

PHONE = "0912345678"
LEVELS_OF = {"1.000001": "full", "1.000002": "partial", "1.000003": "none", "1.000004": "partial"}
PARAMS = ("agency", "procedure", "field", "channel", "group_by", "min_resolved")


class FlaggingClient:
    """The test client, adding random service flags to the dossiers and steps it posts."""

    def __init__(self, client, rng: random.Random):
        self.client, self.rng = client, rng

    def post(self, url, json=None, **kwargs):
        if json is not None:
            json = dict(json)
            chance = self.rng.random
            if url == "/api/v1/dossiers":
                json["applicant"] = {**json["applicant"], "phone": PHONE}
                json.update(digitized=chance() < 0.5, paid_online=chance() < 0.2)
            elif url.endswith("/steps"):
                flag = {"accept": "digitized", "receive_payment": "online", "complete": "electronic_result"}.get(
                    json["action"])
                if flag and chance() < 0.7:
                    json[flag] = chance() < 0.5
        return self.client.post(url, json=json, **kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)


def _clear(app) -> None:
    with app.app_context():
        db.session.execute(delete(Evaluation))
        db.session.commit()
    base._clear(app)


def _evaluate(app, client, rng: random.Random) -> None:
    with app.app_context():
        finished = db.session.scalars(select(Dossier.code).where(Dossier.status.in_([str(s) for s in EVALUABLE]))
                                      .order_by(Dossier.code)).all()
    for code in finished:
        for _ in range(rng.choice([0, 1, 1, 2])):
            response = client.post(f"/api/v1/public/dossiers/{code}/evaluation",
                                   json={"verify": PHONE, "overall": rng.choice(LEVELS), "comment": "Góp ý"})
            assert response.status_code in (200, 201), response.get_data(as_text=True)


@st.composite
def service_queries(draw, events: list[date]):
    query = draw(base.queries(events))
    if draw(st.integers(0, 2)) == 0:
        query["group_by"] = "online_level"
    return query


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(plans=st.lists(base.dossier_strategy, min_size=1, max_size=8), seed=st.integers(0, 2**32),
       data=st.data())
def test_service_levels_live_equal_rebuilt_equal_reference(app, client, factory, auth, monkeypatch, plans, seed,
                                                          data):
    monkeypatch.setattr("tracker.services.statistics.reports.utcnow", lambda: base.NOW)
    if not getattr(factory, "service_city", False):  # once per test: the fixtures outlive the examples
        base._set_up(factory)
        factory.service_city = True
    _clear(app)
    admin = auth.headers("admin")
    for code, level in LEVELS_OF.items():
        assert client.patch(f"/api/v1/procedures/{code}", json={"online_level": level}, headers=admin).status_code == 200
    rng = random.Random(seed)
    flagging = FlaggingClient(client, rng)
    events: set[date] = {base.NOW.date()}
    for plan in plans:
        base._load(flagging, admin, plan, events)
    _evaluate(app, client, rng)
    # The grouping follows the level now; the dossiers already in keep the level they came in with.
    client.patch("/api/v1/procedures/1.000003", json={"online_level": "full"}, headers=admin)
    with app.app_context():
        dossiers, agencies = reference.load()

    answers = []
    for params in data.draw(st.lists(service_queries(sorted(events)), min_size=3, max_size=5), label="queries"):
        response = client.get("/api/v1/public/stats", query_string=params)
        assert response.status_code == 200, (params, response.get_json())
        body = response.get_json()
        base.check_invariants(body, params)
        start, end = date.fromisoformat(body["period"]["from"]), date.fromisoformat(body["period"]["to"])
        with app.app_context():
            expected = reference.report(dossiers, agencies, start, end, base.NOW, **{k: params.get(k) for k in PARAMS})
        assert body["totals"] == expected["totals"], (params, body["totals"], expected["totals"])
        assert body["groups"] == expected["groups"], (params, body["groups"], expected["groups"])
        index = client.get("/api/v1/public/service-index", query_string=params).get_json()
        assert index["totals"] == service_index(expected["totals"], index["weights"]), params
        assert [g["key"] for g in index["groups"]] == [g["key"] for g in expected["groups"]]
        answers.append((params, body))

    base.check_rebuilt(app, client, monkeypatch, data, answers)
