"""Settings, read once from the ``TRACKER_*`` environment variables.

Every setting has a safe default so that a newcomer can start the service with
nothing configured; production deployments override them through the
environment (see the README).
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from tracker.domain.calendar import OfficeHours

INSTANCE_DIR = Path(os.environ.get("TRACKER_INSTANCE_DIR", Path.cwd() / "instance"))


def _secret_key(env: str) -> str:
    """The JWT signing key: from the environment, else generated once and kept in instance/."""
    key = os.environ.get("TRACKER_SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise RuntimeError("TRACKER_SECRET_KEY must be set when TRACKER_ENV=production")
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict:
    """Build the Flask configuration mapping from ``TRACKER_*`` variables."""
    env = os.environ.get("TRACKER_ENV", "development")
    default_db = f"sqlite:///{INSTANCE_DIR / 'tracker.db'}"
    return {
        "TRACKER_ENV": env,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("TRACKER_DATABASE_URL", default_db),
        # A PostgreSQL streaming replica for the public reads (see tracker/services/replica.py).
        "TRACKER_DATABASE_REPLICA_URL": os.environ.get("TRACKER_DATABASE_REPLICA_URL", "").strip() or None,
        "SECRET_KEY": _secret_key(env),
        "TRACKER_TIMEZONE": os.environ.get("TRACKER_TIMEZONE", "Asia/Ho_Chi_Minh"),
        "TRACKER_INTAKE_CUTOFF": os.environ.get("TRACKER_INTAKE_CUTOFF", "15:00"),
        "TRACKER_OFFICE_HOURS": os.environ.get("TRACKER_OFFICE_HOURS", "07:30-11:30,13:30-17:00"),
        "TRACKER_PAYMENT_PAUSES": _flag("TRACKER_PAYMENT_PAUSES", True),
        # Processes preparing dossier lines during an import; unset means one per CPU.
        "TRACKER_IMPORT_WORKERS": (int(os.environ["TRACKER_IMPORT_WORKERS"])
                                   if os.environ.get("TRACKER_IMPORT_WORKERS", "").strip() else None),
        "TRACKER_CORS_ORIGINS": [
            o.strip() for o in os.environ.get("TRACKER_CORS_ORIGINS", "").split(",") if o.strip()
        ],
        "TRACKER_RATELIMIT_PUBLIC": os.environ.get("TRACKER_RATELIMIT_PUBLIC", "60/minute"),
        "TRACKER_RATELIMIT_LOGIN": os.environ.get("TRACKER_RATELIMIT_LOGIN", "10/minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("TRACKER_RATELIMIT_STORAGE_URL", "memory://"),
        "TRACKER_TRUSTED_PROXIES": int(os.environ.get("TRACKER_TRUSTED_PROXIES", "0")),
        "TRACKER_ACCESS_TOKEN_MINUTES": int(os.environ.get("TRACKER_ACCESS_TOKEN_MINUTES", "15")),
        "TRACKER_REFRESH_TOKEN_DAYS": int(os.environ.get("TRACKER_REFRESH_TOKEN_DAYS", "14")),
    }


def finish(config: dict) -> dict:
    """Derive the settings that depend on others (tokens, calendar, limits)."""
    config.setdefault("JWT_SECRET_KEY", config["SECRET_KEY"])
    if config.get("TRACKER_DATABASE_REPLICA_URL"):
        # A short connect timeout: a replica that is down costs a public read two
        # seconds at most before it falls back to the primary.
        url = config["TRACKER_DATABASE_REPLICA_URL"]
        options = {"connect_args": {"connect_timeout": 2}} if url.startswith("postgresql") else {}
        config.setdefault("SQLALCHEMY_BINDS", {}).setdefault("replica", {"url": url, **options})
    config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(minutes=config["TRACKER_ACCESS_TOKEN_MINUTES"])
    config["JWT_REFRESH_TOKEN_EXPIRES"] = timedelta(days=config["TRACKER_REFRESH_TOKEN_DAYS"])
    config["OFFICE_HOURS"] = OfficeHours.parse(
        config["TRACKER_TIMEZONE"], config["TRACKER_INTAKE_CUTOFF"], config["TRACKER_OFFICE_HOURS"]
    )
    # Bodies over 1 MiB are refused with 413 before they are read. Flask's own defaults
    # hold MAX_CONTENT_LENGTH = None, so setdefault would never apply.
    if config.get("MAX_CONTENT_LENGTH") is None:
        config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    # X-RateLimit-* headers on every answer cost the hot public lookup a tenth of its
    # time; a refused request still says when to come back (Retry-After, see create_app).
    config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    config.setdefault("API_TITLE", "tracker")
    config.setdefault("API_VERSION", "v1")
    config.setdefault("OPENAPI_VERSION", "3.0.3")
    config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    config.setdefault("JSON_AS_ASCII", False)
    return config
