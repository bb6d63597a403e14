"""Housekeeping: forgetting what has served its time (docs/operations.md#housekeeping).

Idempotency keys are kept for ``IDEMPOTENCY_KEY_LIFETIME`` (clients retry within a day),
login sessions and revoked-token records until their tokens would have expired anyway;
past that they only grow the tables. ``flask tracker purge`` runs ``purge``; operators schedule it daily.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from tracker.extensions import db
from tracker.models import IdempotencyKey
from tracker.models.types import utcnow
from tracker.services import auth

#: How long a replayable response is kept for its ``Idempotency-Key`` (at least a day, by contract).
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=48)


def purge_expired_keys() -> int:
    """Delete idempotency keys older than their lifetime; returns how many went."""
    cutoff = utcnow() - IDEMPOTENCY_KEY_LIFETIME
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return result.rowcount or 0


def purge() -> dict[str, int]:
    """Every purge, in the caller's transaction: ``{"idempotency_keys": n, "sessions_and_tokens": m}``."""
    return {"idempotency_keys": purge_expired_keys(), "sessions_and_tokens": auth.purge_revoked()}
