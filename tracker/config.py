"""Settings, read once from the ``TRACKER_*`` environment variables.

Every setting has a safe default so that a newcomer can start the service with
nothing configured; production deployments override them through the
environment (see the README).
"""
from __future__ import annotations

import hashlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

from tracker.domain.calendar import OfficeHours
from tracker.ratelimit_sqlite import sqlite_file_uri

INSTANCE_DIR = Path(os.environ.get("TRACKER_INSTANCE_DIR", Path.cwd() / "instance"))


def _kept_key(variable: str, filename: str, env: str) -> str:
    """A key from the environment, else (outside production) generated once into instance/ with mode 0600."""
    key = os.environ.get(variable)
    if key:
        return key
    if env == "production":
        raise RuntimeError(f"{variable} must be set when TRACKER_ENV=production")
    path = private_instance_dir() / filename
    if not path.exists():
        # Created with mode 0600 from the start: no moment where another user could read it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _key_list(value) -> list[str]:
    """Old keys, comma-separated in the environment (or a list given by the caller)."""
    if isinstance(value, str):
        value = value.split(",")
    return [key.strip() for key in value or () if key and key.strip()]


def key_id(key: str, purpose: str) -> str:
    """A short public name for a key: tokens and audit records name the key that sealed them.

    A truncated hash of the key and its purpose, so that the same secret reused for two
    purposes still gets two unrelated names and the name reveals nothing usable.
    """
    return hashlib.sha256(f"tracker:{purpose}:{key}".encode()).hexdigest()[:16]


def keyring(current: str, old, purpose: str) -> tuple[str, dict[str, str]]:
    """The current key's id and every accepted key by id (the current one first)."""
    keys = {key_id(current, purpose): current}
    for key in _key_list(old):
        keys.setdefault(key_id(key, purpose), key)
    return key_id(current, purpose), keys


def private_instance_dir() -> Path:
    """The instance folder (keys, the SQLite database, the rate-limit counters), created 0700."""
    INSTANCE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    return INSTANCE_DIR


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
        "SECRET_KEY": _kept_key("TRACKER_SECRET_KEY", "secret_key", env),
        # Old signing keys whose tokens are still accepted (comma-separated), during a rotation.
        "TRACKER_OLD_SECRET_KEYS": os.environ.get("TRACKER_OLD_SECRET_KEYS", ""),
        # The audit chain's HMAC key, kept outside the database; old ones still verify old records.
        "TRACKER_AUDIT_KEY": _kept_key("TRACKER_AUDIT_KEY", "audit_key", env),
        "TRACKER_OLD_AUDIT_KEYS": os.environ.get("TRACKER_OLD_AUDIT_KEYS", ""),
        "TRACKER_JWT_ISSUER": os.environ.get("TRACKER_JWT_ISSUER", "tracker"),
        "TRACKER_JWT_AUDIENCE": os.environ.get("TRACKER_JWT_AUDIENCE", "tracker-staff-api"),
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
        # Failed logins per client and username; per client alone and per username alone the
        # limits are larger (4 times unless set), see tracker/http/limits.py.
        "TRACKER_RATELIMIT_LOGIN": os.environ.get("TRACKER_RATELIMIT_LOGIN", "10/minute"),
        "TRACKER_RATELIMIT_LOGIN_CLIENT": os.environ.get("TRACKER_RATELIMIT_LOGIN_CLIENT") or None,
        "TRACKER_RATELIMIT_LOGIN_USER": os.environ.get("TRACKER_RATELIMIT_LOGIN_USER") or None,
        # Failed verifications per client and dossier; per dossier alone 4 times as many unless set.
        "TRACKER_RATELIMIT_VERIFY": os.environ.get("TRACKER_RATELIMIT_VERIFY", "5 per 15 minutes"),
        "TRACKER_RATELIMIT_VERIFY_CODE": os.environ.get("TRACKER_RATELIMIT_VERIFY_CODE") or None,
        # Counters every worker of this machine shares (a file in the instance folder);
        # redis://… when several machines serve the app.
        "RATELIMIT_STORAGE_URI": (os.environ.get("TRACKER_RATELIMIT_STORAGE_URL")
                                  or sqlite_file_uri(INSTANCE_DIR / "ratelimits.db")),
        "TRACKER_TRUSTED_PROXIES": int(os.environ.get("TRACKER_TRUSTED_PROXIES", "0")),
        # plain text, or one JSON object a line (gunicorn.conf.py makes json the default).
        "TRACKER_LOG_FORMAT": os.environ.get("TRACKER_LOG_FORMAT", "plain").strip().lower(),
        # Who may read /metrics besides the loopback addresses: addresses or networks.
        "TRACKER_METRICS_ALLOW": [
            a.strip() for a in os.environ.get("TRACKER_METRICS_ALLOW", "").split(",") if a.strip()
        ],
        "TRACKER_ACCESS_TOKEN_MINUTES": int(os.environ.get("TRACKER_ACCESS_TOKEN_MINUTES", "15")),
        "TRACKER_REFRESH_TOKEN_DAYS": int(os.environ.get("TRACKER_REFRESH_TOKEN_DAYS", "14")),
    }


def finish(config: dict) -> dict:
    """Derive the settings that depend on others (tokens, calendar, limits)."""
    config.setdefault("JWT_SECRET_KEY", config["SECRET_KEY"])
    config["TRACKER_JWT_KID"], config["TRACKER_JWT_KEYS"] = keyring(
        config["JWT_SECRET_KEY"], config.get("TRACKER_OLD_SECRET_KEYS"), "jwt")
    config["TRACKER_AUDIT_KID"], config["TRACKER_AUDIT_KEYS"] = keyring(
        config["TRACKER_AUDIT_KEY"], config.get("TRACKER_OLD_AUDIT_KEYS"), "audit")
    # One algorithm, signed and accepted: a token naming another ("none", RS256) is refused.
    config["JWT_ALGORITHM"] = "HS256"
    config["JWT_DECODE_ALGORITHMS"] = ["HS256"]
    config["JWT_ENCODE_ISSUER"] = config["JWT_DECODE_ISSUER"] = config["TRACKER_JWT_ISSUER"]
    config["JWT_ENCODE_AUDIENCE"] = config["JWT_DECODE_AUDIENCE"] = config["TRACKER_JWT_AUDIENCE"]
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
