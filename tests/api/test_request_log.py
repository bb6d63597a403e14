"""Structured logs: one JSON line per request with its id, and no personal number anywhere."""
from __future__ import annotations

import json
import logging
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Auth, Factory
from tracker import logs

ID_NUMBER = "046195001122"
OLD_ID = "201234567"
PHONE = "0905123456"
BODY = {"procedure_code": "1.000001", "channel": "direct", "note": f"CCCD {ID_NUMBER}, ĐT {PHONE}",
        "applicant": {"name": "Nguyễn Văn An", "id_number": ID_NUMBER, "phone": PHONE,
                      "email": "an.nguyen@example.vn"}}
PERSONAL = [ID_NUMBER, OLD_ID, PHONE, "an.nguyen@example.vn", "0905 123 456"]


@pytest.fixture
def json_app(make_app, capsys):
    """An app logging JSON to the (captured) standard error, with a clerk and a dossier route that fails."""
    app = make_app(TRACKER_LOG_FORMAT="json")

    @app.get("/test-failure")
    def failure():
        raise ValueError(f"bad applicant {ID_NUMBER} / {PHONE}")

    factory = Factory(app)
    factory.agency("000.01.00.H57", "Sở Tư pháp", level="department")
    factory.procedure("1.000001")
    factory.user("clerk", "clerk", "000.01.00.H57")
    capsys.readouterr()
    yield app
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "tracker_handler", False)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def json_lines(capsys) -> tuple[str, list[dict]]:
    text = capsys.readouterr().err
    return text, [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def request_lines(records: list[dict]) -> list[dict]:
    return [r for r in records if r["logger"] == "tracker.request"]


def test_one_line_per_request_with_its_id_and_no_query_string(json_app, capsys):
    client = json_app.test_client()
    headers = Auth(client).headers("clerk")
    created = client.post("/api/v1/dossiers", json=BODY, headers=headers)
    assert created.status_code == 201, created.get_json()
    listed = client.get(f"/api/v1/dossiers?q={ID_NUMBER}&phone={PHONE}", headers=headers)
    assert listed.status_code == 200
    text, records = json_lines(capsys)
    lines = request_lines(records)
    assert [(r["method"], r["path"], r["status"]) for r in lines] == [
        ("POST", "/api/v1/auth/login", 200), ("POST", "/api/v1/dossiers", 201), ("GET", "/api/v1/dossiers", 200)]
    for line, response in zip(lines[1:], (created, listed)):
        assert line["request_id"] == response.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert line["level"] == "INFO" and line["time"]
        assert "?" not in line["path"] and "?" not in line["message"]
    assert len({r["request_id"] for r in lines}) == 3
    for value in PERSONAL:
        assert value not in text


def test_client_request_id_is_kept_when_sane_and_replaced_otherwise(json_app, capsys):
    client = json_app.test_client()
    sane = "lb-2f9c_0001"
    for given_id, kept in ((sane, True), ("x" * 65, False), ("bad id; drop", False), ("", False)):
        response = client.get("/healthz", headers={"X-Request-ID": given_id})
        echoed = response.headers["X-Request-ID"]
        assert (echoed == given_id) is kept, (given_id, echoed)
        if not kept:
            assert re.fullmatch(r"[0-9a-f]{32}", echoed)
    _, records = json_lines(capsys)
    assert request_lines(records)[0]["request_id"] == sane


def test_an_error_inside_a_request_is_logged_masked_with_the_request_id(json_app, capsys):
    response = json_app.test_client().get("/test-failure", headers={"X-Request-ID": "trace-42"})
    assert response.status_code == 500
    text, records = json_lines(capsys)
    error = next(r for r in records if r["level"] == "ERROR")
    assert error["request_id"] == "trace-42"
    assert "ValueError: bad applicant *** / ***" in error["exc_info"]
    assert request_lines(records)[0]["status"] == 500
    for value in PERSONAL:
        assert value not in text


def test_a_personal_number_in_the_path_is_masked(json_app, capsys):
    response = json_app.test_client().get(f"/api/v1/public/dossiers/{ID_NUMBER}")
    assert response.status_code in (400, 404)
    text, records = json_lines(capsys)
    assert request_lines(records)[0]["path"] == "/api/v1/public/dossiers/***"
    assert ID_NUMBER not in text


def test_the_mask_covers_arguments_extras_and_tracebacks_in_plain_text():
    import io

    stream = io.StringIO()
    handler = logs.make_handler("plain", stream)
    log = logging.getLogger("tracker.test-mask")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("applicant %s, phone %s, old card %d", ID_NUMBER, "+84 905 123 456", int(OLD_ID),
                    extra={"body": f'{{"id_number": "{ID_NUMBER}"}}'})
        try:
            int(f"x{PHONE}")
        except ValueError:
            log.exception("could not read %r", {"phone": PHONE})
    finally:
        log.removeHandler(handler)
        log.propagate = True
    text = stream.getvalue()
    assert "applicant ***, phone ***, old card ***" in text
    assert "could not read {'phone': '***'}" in text
    assert "ValueError: invalid literal for int() with base 10: 'x***'" in text
    for value in PERSONAL + ["905 123 456"]:
        assert value not in text


def test_codes_dates_and_amounts_are_not_masked():
    text = ("dossier 000.01.00.H57-251201-0001 at 2025-12-01T08:30:00+07:00, 1500000 VND, "
            "took 12.5 ms, 127.0.0.1, steps 1..10")
    assert logs.mask(text) == text


@given(st.sampled_from([9, 12]), st.integers(min_value=0), st.sampled_from(["", " ", "=", ":", '"', "("]))
def test_any_id_number_between_non_digits_is_masked(length, number, before):
    digits = str(number % 10 ** length).zfill(length)
    text = f"note{before}{digits} end"
    assert digits not in logs.mask(text)
    assert logs.mask(text).endswith("*** end")


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="TRACKER_LOG_FORMAT"):
        logs.make_handler("xml")
