"""Logging in and out: credentials, token revocation and the JWT callbacks."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, select

from tracker.extensions import db
from tracker.models import RevokedToken, User
from tracker.models.types import utcnow
from tracker.services.passwords import verify_password


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    user = db.session.scalar(select(User).where(User.username == username))
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.active:
        return None
    return user


def revoke(decoded_token: dict) -> None:
    """Refuse a token from now on, until it would have expired anyway."""
    jti = decoded_token["jti"]
    if db.session.get(RevokedToken, jti) is None:
        expires = datetime.fromtimestamp(decoded_token["exp"], timezone.utc)
        db.session.add(RevokedToken(jti=jti, expires_at=expires))


def purge_revoked() -> int:
    """Forget revoked tokens that have expired by themselves."""
    result = db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    return result.rowcount or 0


def install_token_callbacks(jwt) -> None:
    """Tell flask-jwt-extended how tokens name users and which tokens are revoked (called by the factory)."""
    jwt.user_identity_loader(_identity)
    jwt.additional_claims_loader(_claims)
    jwt.user_lookup_loader(_load_user)
    jwt.token_in_blocklist_loader(_is_revoked)


def _identity(user: User) -> str:
    return str(user.id)


def _claims(user: User) -> dict:
    return {"role": user.role, "agency": user.agency_code}


def _load_user(_header: dict, payload: dict) -> User | None:
    # Re-read on every request: a disabled user or a changed role counts at once.
    user = db.session.get(User, int(payload["sub"]))
    return user if user is not None and user.active else None


def _is_revoked(_header: dict, payload: dict) -> bool:
    return db.session.get(RevokedToken, payload["jti"]) is not None
