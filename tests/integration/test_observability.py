"""Metrics and logs of a real gunicorn with two workers: the figures of both, JSON lines, nothing personal."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.live import call, gunicorn, release_connections

ID_NUMBER = "079203004455"
PHONE = "0912345678"
REQUESTS = 120


def healthz_count(server) -> float:
    status, got, text = call("GET", server.base + "/metrics")
    assert status == 200 and got["Content-Type"].startswith("text/plain"), text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "flask_http_request_duration_seconds_count"
               and sample.labels["endpoint"] == "ops.healthz")


def test_two_workers_metrics_and_json_logs(app, city, database_urls, tmp_path):
    release_connections(app)
    with gunicorn(database_urls["sqlite"], tmp_path, workers=2) as server:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda i: call("GET", server.base + "/healthz")[0], range(REQUESTS)))
        assert statuses == [200] * REQUESTS
        # Whichever worker answers /metrics, it counts the requests of both.
        assert [healthz_count(server) for _ in range(6)] == [REQUESTS] * 6

        headers = server.auth("clerk", **{"X-Request-ID": "portal-7f3a"})
        body = {"procedure_code": "1.000001", "channel": "direct",
                "applicant": {"name": "Lê Văn Cường", "id_number": ID_NUMBER, "phone": PHONE}}
        status, got, created = call("POST", server.api + "/dossiers", body, headers)
        assert status == 201 and got["X-Request-ID"] == "portal-7f3a", created
        status, _, _ = call("GET", f"{server.api}/dossiers?q={ID_NUMBER}", headers=headers)
        assert status == 200
        log = server.log()

    lines = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line is JSON
    requests = [line for line in lines if line["logger"] == "tracker.request"]
    served_by = {line["pid"] for line in requests if line["path"] == "/healthz"}
    assert len(served_by) == 2, "both workers served requests"
    assert sum(line["path"] == "/healthz" for line in requests) == REQUESTS
    creation = next(line for line in requests if line["method"] == "POST" and line["path"] == "/api/v1/dossiers")
    assert creation["status"] == 201 and creation["request_id"] == "portal-7f3a"
    assert any(line["logger"] == "gunicorn.error" for line in lines), "gunicorn's own lines are JSON too"
    assert ID_NUMBER not in log and PHONE not in log and "?q=" not in log
