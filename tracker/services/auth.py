"""Logging in and out: credentials, login sessions, token revocation and the JWT callbacks.

Every login opens a session; its access and refresh tokens carry the session's id
(claim ``sid``) and are refused once it has ended: at logout, or for all of a user's
sessions when the password changes or the account is disabled. Tokens are signed
with HS256 by a key named in the header (``kid``): the current ``TRACKER_SECRET_KEY``
signs, and the keys of ``TRACKER_OLD_SECRET_KEYS`` are still accepted during a rotation.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

from flask import current_app
from jwt.exceptions import InvalidTokenError
from sqlalchemy import delete, select, update

from tracker.extensions import db
from tracker.models import LoginSession, RevokedToken, User
from tracker.models.types import utcnow
from tracker.services.passwords import hash_password, needs_rehash, verify_password

# A user id as a token names it: decimal digits of a positive 63-bit integer, nothing else.
_MAX_ID = 2**63 - 1


def normalize_username(username: str) -> str:
    """Usernames are compared without case: the one form they are stored and looked up in."""
    return username.strip().lower()


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    user = db.session.scalar(select(User).where(User.username == normalize_username(username)))
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)  # hashed again at today's cost
    return user


def open_session(user: User) -> str:
    """Start a login session for ``user``; returns its id for the tokens' ``sid`` claim."""
    sid = secrets.token_hex(16)
    db.session.add(LoginSession(id=sid, user_id=user.id, created_at=utcnow(),
                                expires_at=utcnow() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]))
    return sid


def end_session(sid: str | None) -> None:
    """End one session: every token that names it is refused from now on."""
    if sid:
        db.session.execute(update(LoginSession).where(LoginSession.id == sid, LoginSession.ended_at.is_(None))
                           .values(ended_at=utcnow()))


def end_all_sessions(user: User) -> None:
    """End every session of ``user`` (a new password, a disabled account)."""
    db.session.execute(update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
                       .values(ended_at=utcnow()))


def revoke(decoded_token: dict) -> None:
    """Refuse a token from now on, until it would have expired anyway."""
    jti = decoded_token["jti"]
    if db.session.get(RevokedToken, jti) is None:
        expires = datetime.fromtimestamp(decoded_token["exp"], timezone.utc)
        db.session.add(RevokedToken(jti=jti, expires_at=expires))


def purge_revoked() -> int:
    """Forget revoked tokens and sessions whose tokens have expired by themselves."""
    now = utcnow()
    result = db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    sessions = db.session.execute(delete(LoginSession).where(LoginSession.expires_at < now))
    return (result.rowcount or 0) + (sessions.rowcount or 0)


def install_token_callbacks(jwt) -> None:
    """Tell flask-jwt-extended how tokens name users and keys, and which tokens are refused
    (called by the factory)."""
    jwt.user_identity_loader(_identity)
    jwt.additional_claims_loader(_claims)
    jwt.additional_headers_loader(_headers)
    jwt.encode_key_loader(_encode_key)
    jwt.decode_key_loader(_decode_key)
    jwt.user_lookup_loader(_load_user)
    jwt.token_in_blocklist_loader(_is_revoked)


def _identity(user: User) -> str:
    return str(user.id)


def _claims(user: User) -> dict:
    return {"role": user.role, "agency": user.agency_code}


def _headers(_identity) -> dict:
    return {"kid": current_app.config["TRACKER_JWT_KID"]}


def _encode_key(_identity) -> str:
    return current_app.config["JWT_SECRET_KEY"]


def _decode_key(header: dict, claims: dict) -> str:
    """The key the header's ``kid`` names; refuses, before the signature is even checked,
    a token that names no known key or lacks the claims every token of ours has."""
    key = current_app.config["TRACKER_JWT_KEYS"].get(header.get("kid"))
    if key is None:
        raise InvalidTokenError("The token names no key of this service.")
    if (not isinstance(claims.get("exp"), int) or user_id(claims) is None
            or not all(isinstance(claims.get(name), str) for name in ("sid", "jti"))):
        raise InvalidTokenError("The token lacks an expiry, a user, an id or a session.")
    return key


def user_id(claims: dict) -> int | None:
    """The user id a token's ``sub`` names, or None when it is not one."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.isascii() or not sub.isdigit() or len(sub) > 19:
        return None
    number = int(sub)
    return number if 0 < number <= _MAX_ID else None


def _load_user(_header: dict, payload: dict) -> User | None:
    # Re-read on every request: a disabled user or a changed role counts at once.
    number = user_id(payload)
    user = db.session.get(User, number) if number is not None else None
    return user if user is not None and user.active else None


def _is_revoked(_header: dict, payload: dict) -> bool:
    if db.session.get(RevokedToken, payload["jti"]) is not None:
        return True
    session = db.session.get(LoginSession, payload.get("sid"))
    return session is None or session.ended_at is not None or str(session.user_id) != payload.get("sub")

