"""gunicorn's access log (as `make run` writes it) carries no query string of a public
lookup or page, and no referer's query string; staff paths keep theirs. gunicorn's own
warnings about refused requests quote the request line, with its numbers masked."""
from __future__ import annotations

import socket

from tests.conftest import Factory, wipe
from tests.integration.live import call, gunicorn
from tracker.extensions import db

SECRET = "046195001122"


def test_the_access_log_keeps_the_citizens_numbers_out(apps, database_urls, tmp_path):
    app = apps["sqlite"]
    wipe(app)
    Factory(app).user("admin", "admin")
    with app.app_context():
        db.engine.dispose()
    # gunicorn's access log is off by default (the app logs each request); an operator may turn it on.
    with gunicorn(database_urls["sqlite"], tmp_path, workers=2, args=("--access-logfile", "-")) as server:
        referer = {"Referer": f"{server.base}/lookup?code=X&verify={SECRET}"}
        requests = [
            ("GET", f"/api/v1/public/dossiers/H57-250101-0001?verify={SECRET}", {}),
            ("GET", f"/lookup?code=H57-250101-0001&verify={SECRET}", {}),
            ("GET", f"/lookup/H57-250101-0001?verify={SECRET}", {}),
            ("GET", "/assets/site.css", referer),
            ("GET", "/api/v1/dossiers?page_size=3", server.auth("admin")),
        ]
        for method, path, headers in requests:
            status, _, _ = call(method, server.base + path, headers=headers)
            assert status < 500, path
        # A request line gunicorn refuses itself (no HTTP version): its warning quotes the line.
        host, port = server.base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            raw.sendall(f"GET /api/v1/public/dossiers/X?verify={SECRET}\r\nHost: x\r\n\r\n".encode())
            assert raw.recv(1024).startswith(b"HTTP/1.1 400")
    lines = [line for line in server.log().splitlines() if '"GET ' in line]
    assert len(lines) >= len(requests), lines
    assert SECRET not in server.log()
    assert "Invalid HTTP request line" in server.log()  # the warning is there, its number masked
    assert any('"GET /api/v1/public/dossiers/H57-250101-0001 HTTP/1.1"' in line for line in lines), lines
    assert any('"GET /lookup HTTP/1.1"' in line for line in lines), lines
    assert any(f'"{server.base}/lookup"' in line for line in lines), lines  # the referer, cut
    assert any('"GET /api/v1/dossiers?page_size=3 HTTP/1.1"' in line for line in lines), lines
