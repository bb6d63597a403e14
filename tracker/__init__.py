"""tracker: dossier status tracking for Vietnamese one-stop administrative centres.

Agencies record administrative-procedure dossiers (hồ sơ thủ tục hành chính) and
each processing step; citizens look up their dossier by the code on their
receipt; the portal publishes on-time and late statistics per agency.

Staff endpoints take a bearer token from ``POST /api/v1/auth/login``. Errors
are RFC 9457 problem documents. Lists are paginated with ``page`` and
``page_size``. Creations honour ``Idempotency-Key``; dossier writes honour
``If-Match``.
"""
from __future__ import annotations

import logging

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker import config as settings


class NoSessions(SecureCookieSessionInterface):
    """The app keeps no session: skip signing and reading a cookie on every request."""

    def open_session(self, app, request):
        return None


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides the environment (tests use it)."""
    app = Flask(__name__, instance_path=str(settings.INSTANCE_DIR))
    app.config.update(settings.from_environment())
    app.config.update(config or {})
    settings.finish(app.config)
    # No cookies: staff use bearer tokens and citizens need no session.
    app.session_interface = NoSessions()
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    if app.config["TRACKER_TRUSTED_PROXIES"]:
        n = app.config["TRACKER_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)
    configure_logging(app)
    register_metrics(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def configure_logging(app: Flask) -> None:
    """Log to stderr, plain or JSON (``TRACKER_LOG_FORMAT``), one line per request (see tracker.logs)."""
    from tracker import logs
    from tracker.http import requestlog

    logs.configure(app.config["TRACKER_LOG_FORMAT"])
    requestlog.install(app)
    # Alembic announces each of its plugins at INFO; the migrations it runs stay visible.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def register_metrics(app: Flask) -> None:
    """Prometheus metrics of the requests, the rate limits and the imports at ``/metrics``."""
    from tracker.http import metrics
    from tracker.services.importing.progress import IMPORTED_DOSSIERS

    metrics.install(app, collectors=[IMPORTED_DOSSIERS])


def register_extensions(app: Flask) -> None:
    """Bind the extensions, the token callbacks and the per-database engine settings."""
    from tracker.api import api
    from tracker.api.glossary import describe_field
    from tracker.database import configure_engine
    from tracker.models.migrating import MIGRATE_OPTIONS
    from tracker.models.revision import track_changes
    from tracker.extensions import db, jwt, limiter, migrate
    from tracker.http import i18n
    from tracker.services.auth import install_token_callbacks

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), **MIGRATE_OPTIONS)
    jwt.init_app(app)
    install_token_callbacks(jwt)
    # Limits are checked where they apply (tracker.http.limits), not before every request.
    limiter.init_app(app)
    i18n.init_app(app)  # pages in Vietnamese (or English), API errors after Accept-Language
    api.init_app(app, spec_kwargs={"info": {"description": __doc__}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.ma_plugin.converter.add_attribute_function(describe_field)
    with app.app_context():
        configure_engine(db.engine)
        # Every write to the primary moves the data revision (tracker.models.revision).
        track_changes(db.engine)


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"


def register_blueprints(app: Flask) -> None:
    """The API resources (documented by flask-smorest) and the plain pages."""
    from tracker.api import agencies, api, audit, auth, calendar, dossiers, ops, procedures, public_stats, users
    from tracker.api import evaluations, late_dossiers, service_index

    for module in (auth, agencies, procedures, users, calendar, dossiers, audit, public_stats, evaluations,
                   service_index, late_dossiers):
        api.register_blueprint(module.bp)
    app.register_blueprint(ops.bp)
    register_public(app)


def register_public(app: Flask) -> None:
    """The citizen-facing parts: public API, pages, CORS for the portal (see tracker/web)."""
    from flask_cors import CORS

    from tracker.api import api, public
    from tracker.http.caching import conditional_caching
    from tracker.http.headers import common_headers
    from tracker.web import bp as web_assets
    from tracker.web import lookup
    from tracker.web import stats as stats_pages

    api.register_blueprint(public.bp)
    app.register_blueprint(web_assets)
    app.register_blueprint(lookup.bp)
    # Only the public API, only the configured portal origins: staff endpoints never answer CORS.
    CORS(app, resources={r"/api/v1/public/*": {"origins": app.config["TRACKER_CORS_ORIGINS"]}},
         methods=["GET", "HEAD", "POST", "OPTIONS"],
         allow_headers=["Accept-Language", "If-None-Match", "Content-Type"],
         expose_headers=["ETag", "Retry-After"], max_age=600)
    app.after_request(conditional_caching)
    app.after_request(common_headers)  # nosniff, no-store for staff, Vary: Origin
    app.register_blueprint(stats_pages.bp)  # the public dashboard and the portal's widget
    from tracker.web import service_index as index_pages

    app.register_blueprint(index_pages.bp)  # the service index and the late dossiers
    from tracker.web import evaluation as evaluation_page

    app.register_blueprint(evaluation_page.bp)  # the applicant's evaluation form


def register_errorhandlers(app: Flask) -> None:
    """Problem documents for everything, including JWT and service errors."""
    from tracker.domain.messages import N_
    from tracker.extensions import jwt
    from tracker.http.hygiene import refuse_unreadable_input, require_json_bodies
    from tracker.http.problems import problem_from_exception, problem_response
    from tracker.services.errors import ServiceError

    # Input hygiene for every request, API and pages alike (see the function).
    app.before_request(refuse_unreadable_input)
    app.before_request(require_json_bodies)

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        return problem_response(error.status, error.message, **error.extra)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return problem_from_exception(error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(500)

    def unauthorized(detail: str):
        return problem_response(401, detail, headers={"WWW-Authenticate": "Bearer"})

    jwt.unauthorized_loader(lambda reason: unauthorized(N_("A bearer token is required.")))
    jwt.invalid_token_loader(lambda reason: unauthorized(N_("The bearer token is not valid.")))
    jwt.expired_token_loader(lambda header, payload: unauthorized(N_("The token has expired.")))
    jwt.revoked_token_loader(lambda header, payload: unauthorized(N_("The token has been revoked.")))
    jwt.user_lookup_error_loader(lambda header, payload: unauthorized(N_("The account is disabled or gone.")))
    jwt.needs_fresh_token_loader(lambda header, payload: unauthorized(N_("A fresh login is required.")))


def register_commands(app: Flask) -> None:
    """The ``flask tracker ...`` commands."""
    from tracker.cli import tracker_cli

    app.cli.add_command(tracker_cli)
