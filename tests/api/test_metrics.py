"""/metrics: the Prometheus text format, series by endpoint, limiter refusals, import progress, access."""
from __future__ import annotations

import orjson
from prometheus_client.parser import text_string_to_metric_families

from bench.generate import agencies, dossiers, procedures
from tests.conftest import Auth, Factory, assert_problem
from tracker.extensions import db
from tracker.services.audit import Actor
from tracker.services.importing.importer import import_lines

CREATE = {"procedure_code": "1.000001", "channel": "direct", "applicant": {"name": "Trần Thị Bình"}}


def samples(client) -> dict[tuple, float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain" and "version=0.0.4" in response.headers["Content-Type"]
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return sum(v for (n, got), v in found.items() if n == name and labels.items() <= dict(got).items())


def test_requests_are_counted_by_endpoint_never_by_dossier_code(make_app):
    app = make_app()  # its own counters: the shared app has served other tests' requests
    factory = Factory(app)
    factory.agency("000.01.00.H57", "Sở Tư pháp", level="department")
    factory.procedure("1.000001")
    factory.user("clerk", "clerk", "000.01.00.H57")
    client = app.test_client()
    headers = Auth(client).headers("clerk")
    codes = [client.post("/api/v1/dossiers", json=CREATE, headers=headers).get_json()["code"] for _ in range(3)]
    for code in codes:
        assert client.get(f"/api/v1/public/dossiers/{code}").status_code == 200
    assert client.get("/no/such/page/000.01.00.H57-251201-0009").status_code == 404
    found = samples(client)
    names = {name for name, _ in found}
    assert {"flask_http_request_duration_seconds_count", "flask_http_request_duration_seconds_bucket",
            "flask_http_request_total", "tracker_import_dossiers_total"} <= names
    lookups = [dict(labels) for name, labels in found
               if name == "flask_http_request_duration_seconds_count" and dict(labels)["endpoint"].startswith("public.")]
    assert len(lookups) == 1 and found[("flask_http_request_duration_seconds_count",
                                        tuple(sorted(lookups[0].items())))] == 3
    assert lookups[0]["method"] == "GET" and lookups[0]["status"] == "200"
    assert value(found, "flask_http_request_duration_seconds_count", endpoint="unmatched", status="404") == 1
    text = client.get("/metrics").get_data(as_text=True)
    assert not any(code in text for code in codes) and "/api/v1/" not in text


def test_a_rate_limit_refusal_is_counted_by_limit(make_app):
    app = make_app(TRACKER_RATELIMIT_PUBLIC="2/minute")
    client = app.test_client()
    before = value(samples(client), "tracker_rate_limit_refusals_total", limit="public")
    statuses = [client.get("/api/v1/public/dossiers/000.01.00.H57-251201-0001").status_code for _ in range(4)]
    assert statuses == [404, 404, 429, 429]
    assert value(samples(client), "tracker_rate_limit_refusals_total", limit="public") == before + 2


def test_the_import_counts_the_dossiers_it_writes(app, client):
    import random

    agency_rows, procedure_rows = agencies(2), procedures(2)
    lines = [orjson.dumps(r) for r in [*agency_rows, *procedure_rows,
                                       *dossiers(25, agency_rows, procedure_rows, random.Random(3))]]
    before = value(samples(client), "tracker_import_dossiers_total")
    with app.app_context():
        report = import_lines(lines, Actor(ip="cli"), workers=0)
        again = import_lines(lines, Actor(ip="cli"), workers=0)  # already present: not counted
        db.session.remove()
    assert report.added["dossier"] == 25 and again.added["dossier"] == 0
    assert value(samples(client), "tracker_import_dossiers_total") == before + 25


def test_metrics_are_for_loopback_and_listed_addresses_only(make_app):
    outside = {"REMOTE_ADDR": "203.0.113.7"}
    closed = make_app().test_client()
    assert_problem(closed.get("/metrics", environ_base=outside), 403)
    assert closed.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    listed = make_app(TRACKER_METRICS_ALLOW=["10.0.0.5", "203.0.113.0/24"]).test_client()
    assert listed.get("/metrics", environ_base=outside).status_code == 200
    assert listed.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.5"}).status_code == 200
    assert_problem(listed.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.6"}), 403)


def test_a_bad_allow_list_stops_the_start(make_app):
    import pytest

    with pytest.raises(ValueError, match="TRACKER_METRICS_ALLOW"):
        make_app(TRACKER_METRICS_ALLOW=["not-an-address"])
