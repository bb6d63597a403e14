"""gunicorn's own error answers as problem documents (see gunicorn.conf.py).

gunicorn answers some requests before the app sees them: a request line over
``limit_request_line`` (414), too many or too large header fields (431), a request it
cannot parse (400). It writes them as HTML through ``gunicorn.util.write_error``;
``install`` replaces that with a problem+json writer. Their detail never echoes the
request (its line may carry a citizen's number).

A worker that runs past ``timeout`` is killed by gunicorn's master. ``ProblemSyncWorker``
answers its pending request with a 503 problem first, when the app had not started to
answer yet; once the app has begun sending the body (a slow client), the connection is
just closed, which is all an HTTP server can do then.
"""
from __future__ import annotations

import json
import socket

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

DETAILS = {
    400: "The request could not be read as HTTP.",
    403: "The request is not allowed.",
    414: "The request line (the URL) is too long.",
    417: "The expectation in the Expect header cannot be met.",
    431: "The request has too many header fields, or one that is too large.",
    500: "An unexpected error occurred. It has been logged.",
    501: "This transfer coding is not supported.",
    503: "The request took too long and was stopped: try again later.",
}


def problem_bytes(status: int, reason: str, headers: dict | None = None) -> bytes:
    """A complete HTTP/1.1 answer carrying a problem document; the connection closes after it."""
    body = json.dumps({"type": "about:blank", "title": reason, "status": status,
                       "detail": DETAILS.get(status, reason)}).encode()
    head = [f"HTTP/1.1 {status} {reason}", "Connection: close", "Content-Type: application/problem+json",
            f"Content-Length: {len(body)}", "X-Content-Type-Options: nosniff",
            *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def write_problem(sock, status_int, reason, mesg):
    """``gunicorn.util.write_error`` with a problem document (``mesg`` is left out: see the module)."""
    util.write_nonblock(sock, problem_bytes(int(status_int), reason))


def install() -> None:
    """Make gunicorn write its own errors as problem documents (call in the master)."""
    util.write_error = write_problem


class ProblemSyncWorker(SyncWorker):
    """gunicorn's sync worker that answers 503 before it is killed for running too long."""

    _pending = None  # the client socket whose request is in the app and unanswered

    def load_wsgi(self):
        super().load_wsgi()
        app = self.wsgi

        def tracked(environ, start_response):
            # While the app runs, nothing is sent yet: a 503 can still be written.
            self._pending = self._client
            try:
                return app(environ, start_response)
            finally:
                self._pending = None

        self.wsgi = tracked

    def handle_request(self, listener, req, client, addr):
        self._client = client
        try:
            return super().handle_request(listener, req, client, addr)
        finally:
            self._client = None

    def handle_abort(self, sig, frame):
        client, self._pending = self._pending, None
        if client is not None:
            try:
                client.setblocking(True)
                client.settimeout(1)
                client.sendall(problem_bytes(503, "Service Unavailable", {"Retry-After": "10"}))
                # Nothing more goes out on it: gunicorn would add a 500 while the worker exits.
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        super().handle_abort(sig, frame)
