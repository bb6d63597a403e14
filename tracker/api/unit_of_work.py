"""One transaction per write request, with ``Idempotency-Key`` replays for creations.

Services only flush; ``writes`` commits when the view answered below 400 and
rolls back otherwise, so a refused request never leaves a partial write.
For a POST with ``Idempotency-Key`` the key row is inserted in the same
transaction as the work it protects: a concurrent duplicate blocks on the key's
primary key (PostgreSQL) or on the write lock (SQLite), then finds the committed
key and replays the stored response instead of creating a second resource.
"""
from __future__ import annotations

import hashlib
import json
import time
from functools import wraps

from flask import Response, make_response, request
from flask_jwt_extended import current_user, get_current_user
from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker.extensions import db
from tracker.models import IdempotencyKey
from tracker.models.types import utcnow
from tracker.services.housekeeping import IDEMPOTENCY_KEY_LIFETIME

KEY_HEADER = "Idempotency-Key"
KEY_LIFETIME = IDEMPOTENCY_KEY_LIFETIME
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


def _caller():
    try:
        return get_current_user()
    except RuntimeError:  # no token was verified for this request (login)
        return None


def _request_fingerprint() -> str:
    raw = request.get_data(cache=True) or b""
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, ensure_ascii=False).encode()
    except ValueError:
        canonical = raw
    return hashlib.sha256(request.path.encode() + b"\n" + canonical).hexdigest()


def _replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.request_hash != fingerprint:
        abort(422, message="This Idempotency-Key was already used with a different request body.",
              errors={"Idempotency-Key": ["Already used with a different body."]})
    response = Response(stored.body or "", status=stored.status_code)
    for key, value in json.loads(stored.headers or "{}").items():
        response.headers[key] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _find_key(key: str) -> IdempotencyKey | None:
    return db.session.execute(
        select(IdempotencyKey).where(IdempotencyKey.user_id == current_user.id, IdempotencyKey.key == key)
    ).scalar_one_or_none()


def _store(row: IdempotencyKey, response: Response) -> None:
    row.status_code = response.status_code
    row.body = response.get_data(as_text=True)
    row.headers = json.dumps({h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers})


def _run_once(view, args, kwargs, key: str | None):
    """Run the view in one transaction; None means a concurrent twin won the key."""
    fingerprint = _request_fingerprint() if key else None
    row = None
    if key:
        stored = _find_key(key)
        if stored is not None and stored.created_at > utcnow() - KEY_LIFETIME:
            return _replay(stored, fingerprint)
        if stored is not None:
            db.session.delete(stored)
            db.session.flush()
        row = IdempotencyKey(user_id=current_user.id, key=key, request_hash=fingerprint)
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            return None
    response = view(*args, **kwargs)
    if not isinstance(response, Response):
        response = make_response(response)
    if response.status_code >= 400:
        db.session.rollback()
        return response
    if row is not None:
        _store(row, response)
    db.session.commit()
    return response


def writes(view):
    """Run a write view as one unit of work (see the module docstring)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(KEY_HEADER) if request.method == "POST" else None
        if key is not None and not (0 < len(key) <= 255 and key.isprintable()):
            abort(422, message="Idempotency-Key must be 1 to 255 printable characters.",
                  errors={"Idempotency-Key": ["Must be 1 to 255 printable characters."]})
        for attempt in range(50):
            try:
                response = _run_once(view, args, kwargs, key if _caller() else None)
            except IntegrityError:
                # A concurrent twin committed the same key (or unique value) first.
                db.session.rollback()
                if not key:
                    abort(409, message="This conflicts with a record written at the same time; retry.")
                response = None
            except BaseException:
                db.session.rollback()
                raise
            if response is not None:
                return response
            time.sleep(0.02 * (attempt + 1))
        abort(409, message="A request with this Idempotency-Key is still in progress; retry later.")

    return wrapper
