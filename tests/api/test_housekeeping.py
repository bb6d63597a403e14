"""``flask tracker purge``: expired idempotency keys and revoked-token records go, fresh ones stay."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import IdempotencyKey, RevokedToken, User
from tracker.models.types import utcnow
from tracker.services.housekeeping import IDEMPOTENCY_KEY_LIFETIME


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_purge_deletes_only_what_has_expired(app, factory, runner):
    factory.agency("000.01.00.H57")
    factory.user("clerk1", "clerk", "000.01.00.H57")
    now = utcnow()
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "clerk1"))
        db.session.add_all([
            IdempotencyKey(user_id=user_id, key="old", request_hash="x", created_at=now - IDEMPOTENCY_KEY_LIFETIME
                           - timedelta(minutes=1)),
            IdempotencyKey(user_id=user_id, key="fresh", request_hash="x", created_at=now - timedelta(hours=1)),
            RevokedToken(jti="gone", expires_at=now - timedelta(seconds=1)),
            RevokedToken(jti="still-valid", expires_at=now + timedelta(days=3)),
        ])
        db.session.commit()
    result = runner.invoke(args=["tracker", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 expired idempotency keys and 1 expired sessions and revoked tokens." in result.output
    with app.app_context():
        assert db.session.scalars(select(IdempotencyKey.key)).all() == ["fresh"]
        assert db.session.scalars(select(RevokedToken.jti)).all() == ["still-valid"]
    again = runner.invoke(args=["tracker", "purge"])
    assert "Deleted 0 expired idempotency keys and 0 expired sessions and revoked tokens." in again.output
    assert _count(app, IdempotencyKey) == 1 and _count(app, RevokedToken) == 1
