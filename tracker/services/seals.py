"""Keyed seals for the audit chain: HMAC-SHA256 by a named key, and digests of step rows.

The keys live outside the database (``TRACKER_AUDIT_KEY``, ``TRACKER_OLD_AUDIT_KEYS``):
whoever can write to the tables but does not hold a key cannot produce a record, a
head or a step seal that verifies. Each seal names its key by id, so that old records
keep verifying after the key is rotated.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

import orjson
from flask import current_app

from tracker.models.types import naive_utc

# The step columns a seal covers, after the dossier's code (ids name the user and agencies).
STEP_SEALED = ("seq", "action", "status_before", "status_after", "at", "user_id", "agency_id",
               "to_agency_id", "handler", "note", "public_note", "reason", "result", "new_appointment_at")


class UnknownKey(Exception):
    """A seal names a key that is not configured (neither current nor old)."""


def current_kid() -> str:
    """The id of the key that seals new records."""
    return current_app.config["TRACKER_AUDIT_KID"]


def sign(kid: str, parts: list) -> str:
    """The hex HMAC-SHA256 of ``parts`` (JSON-encoded) by the key ``kid``."""
    key = current_app.config["TRACKER_AUDIT_KEYS"].get(kid)
    if key is None:
        raise UnknownKey(kid)
    payload = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _time(value) -> str | None:
    """A step timestamp in one form whatever carried it: the ORM's aware datetime, the
    importer's naive UTC datetime (PostgreSQL) or its text (SQLite)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = naive_utc(value)
    return value.isoformat(" ", "microseconds")


def encode_step(code: str, values) -> bytes:
    """One step as the digest reads it: its dossier's code and ``STEP_SEALED`` values, one JSON line."""
    values = list(values)
    values[4] = _time(values[4])
    values[13] = _time(values[13])
    return orjson.dumps([code, *values]) + b"\n"


class StepDigest:
    """The SHA-256 of step rows in (dossier, seq) order, and how many there were.

    Plain SHA-256 is enough here: the digest is itself inside an HMAC-sealed audit record.
    """

    def __init__(self):
        self._hash = hashlib.sha256()
        self.count = 0

    def add(self, code: str, values) -> None:
        """One step: its dossier's code and its ``STEP_SEALED`` values in that order."""
        self.add_encoded(encode_step(code, values), 1)

    def add_encoded(self, data: bytes, count: int) -> None:
        """Steps already encoded by ``encode_step`` (the importer's workers do that part)."""
        self._hash.update(data)
        self.count += count

    def add_step(self, code: str, step) -> None:
        """One step from its model object."""
        self.add(code, [getattr(step, name) for name in STEP_SEALED])

    def hexdigest(self) -> str:
        return self._hash.hexdigest()
