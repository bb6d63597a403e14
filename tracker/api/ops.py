"""Operations: liveness, readiness and the offline API documentation page."""
from __future__ import annotations

import swagger_ui_bundle
from flask import Blueprint, Response, send_from_directory, url_for
from sqlalchemy import text

from tracker.extensions import db
from tracker.services import replica

bp = Blueprint("ops", __name__)

DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tracker API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{css}"></head>
<body><div id="swagger-ui"></div>
<script src="{js}"></script>
<script src="{init}"></script>
</body></html>"""

#: Swagger UI sets inline styles and shows inline SVG icons; scripts come from here only.
DOCS_CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; base-uri 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; object-src 'none'")

DOCS_INIT = """window.onload = function () {
  window.ui = SwaggerUIBundle({url: "%s", dom_id: "#swagger-ui", deepLinking: true,
    persistAuthorization: true});
};"""


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """The database answers; 503 otherwise, so a load balancer stops sending traffic.

    ``replica`` tells whether the read replica answers (``ok``, ``down`` or ``not
    configured``); a replica that is down leaves the server ready, since the public
    reads then fall back to the primary.
    """
    replica_state = replica.state()
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means not ready
        db.session.rollback()
        return {"status": "unavailable", "database": "down", "replica": replica_state,
                "detail": type(error).__name__}, 503
    return {"status": "ok", "database": "ok", "replica": replica_state}


@bp.get("/docs")
def docs():
    """Swagger UI over the app's own OpenAPI document, with assets served locally."""
    page = DOCS_PAGE.format(css=url_for("ops.docs_asset", filename="swagger-ui.css"),
                            js=url_for("ops.docs_asset", filename="swagger-ui-bundle.js"),
                            init=url_for("ops.docs_init"))
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
    return response


@bp.get("/docs/init.js")
def docs_init():
    """Points Swagger UI at the OpenAPI document."""
    return Response(DOCS_INIT % url_for("api-docs.openapi_json"), mimetype="application/javascript")


@bp.get("/docs/assets/<path:filename>")
def docs_asset(filename):
    """Swagger UI's static files, from the swagger-ui-bundle package."""
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
