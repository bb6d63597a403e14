"""What gunicorn answers itself (request line or headers too large, unreadable requests, a
worker past its timeout) comes as a problem document, with nothing of the request in it."""
from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.conftest import wipe
from tests.integration.live import gunicorn
from tracker.extensions import db

SECRET = "046195001122"


def raw_request(base: str, data: bytes) -> tuple[int, dict, bytes]:
    """Send bytes as they are; (status, headers, body) of the answer."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=60) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def assert_problem_answer(answer, status: int) -> dict:
    got, headers, body = answer
    assert got == status, answer
    assert headers["Content-Type"] == "application/problem+json", headers
    problem = json.loads(body)
    assert problem["status"] == status and problem["title"] and problem["detail"], problem
    assert SECRET.encode() not in body
    return problem


@pytest.fixture(scope="module")
def server(apps, database_urls, tmp_path_factory):
    app = apps["sqlite"]
    wipe(app)
    with app.app_context():
        db.engine.dispose()
    with gunicorn(database_urls["sqlite"], tmp_path_factory.mktemp("errors"), workers=2) as server:
        yield server


def test_a_request_line_too_long_is_a_414_problem(server):
    path = f"/api/v1/public/dossiers/X?verify={SECRET}&pad=" + "x" * 5000
    assert_problem_answer(raw_request(server.base, f"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n".encode()), 414)
    assert SECRET not in server.log()


@pytest.mark.parametrize("headers", [
    "X-Big: " + "y" * 9000 + "\r\n",
    "".join(f"X-H{n}: v\r\n" for n in range(120)),
])
def test_header_fields_too_large_are_a_431_problem(server, headers):
    request = f"GET /healthz HTTP/1.1\r\nHost: a\r\n{headers}\r\n".encode()
    assert_problem_answer(raw_request(server.base, request), 431)


@pytest.mark.parametrize("request_bytes", [b"GARBAGE\r\n\r\n", b"GET /healthz HTTP/9.9\r\nHost: a\r\n\r\n",
                                           b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"])
def test_an_unreadable_request_is_a_400_problem(server, request_bytes):
    assert_problem_answer(raw_request(server.base, request_bytes), 400)


def test_the_app_answers_as_before(server):
    status, headers, body = raw_request(server.base, b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert status == 200 and json.loads(body) == {"status": "ok"}


def test_a_worker_past_its_timeout_answers_503_first(tmp_path):
    with gunicorn("sqlite://", tmp_path, workers=1, args=("--timeout", "2"),
                  app="tests.integration.slow_app:app") as slow:
        request = b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"
        problem = assert_problem_answer(raw_request(slow.base, request), 503)
        assert "too long" in problem["detail"]
        slow.log_path.write_text("")  # the master's report of the killed worker is expected
