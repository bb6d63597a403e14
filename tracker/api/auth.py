"""Authentication: log in for a pair of bearer tokens, refresh, log out, who am I."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask_jwt_extended import (create_access_token, create_refresh_token, current_user, decode_token,
                                get_jwt, jwt_required)
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_smorest import Blueprint, abort
from jwt.exceptions import PyJWTError

from tracker.api.common import actor
from tracker.api.security import BEARER, STAFF, roles_required
from tracker.api.unit_of_work import writes
from tracker.clients import client_address
from tracker.extensions import db
from tracker.http.limits import check_login_allowed, count_failed_login
from tracker.services import audit, auth
from tracker.services.audit import Actor

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Bearer tokens for staff.")


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=1024))


class TokensSchema(ma.Schema):
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer()


class AccessTokenSchema(ma.Schema):
    access_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer()


class LogoutSchema(ma.Schema):
    refresh_token = ma.fields.String(load_default=None)


class MeSchema(ma.Schema):
    username = ma.fields.String()
    full_name = ma.fields.String()
    role = ma.fields.String()
    agency_code = ma.fields.String(allow_none=True)


def _expires_in() -> int:
    return int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())


@bp.post("/login")
@bp.arguments(LoginSchema())
@bp.response(200, TokensSchema)
@bp.alt_response(401, description="Unknown user or wrong password (the same answer for both).")
@bp.alt_response(429, description="Too many failed attempts from this address or for this user.")
def login(data):
    """Exchange a username and password for an access and a refresh token."""
    username = auth.normalize_username(data["username"])  # "Clerk" and "clerk" share one limit
    check_login_allowed(username)
    user = auth.authenticate(username, data["password"])
    who = Actor(user=user, ip=client_address())
    if user is None:
        count_failed_login(username)
        audit.record(who, "login.failed", "user", username[:64])
        db.session.commit()
        abort(401, message="Wrong username or password.")
    session = {"sid": auth.open_session(user)}
    audit.record(who, "login", "user", user.username)
    db.session.commit()
    return {
        "access_token": create_access_token(identity=user, additional_claims=session),
        "refresh_token": create_refresh_token(identity=user, additional_claims=session),
        "token_type": "Bearer",
        "expires_in": _expires_in(),
    }


@bp.post("/refresh")
@jwt_required(refresh=True)
@bp.response(200, AccessTokenSchema)
@bp.doc(security=BEARER, description="Send the refresh token as the bearer token.")
def refresh():
    """A new access token for the bearer of a valid refresh token, in the same session."""
    session = {"sid": get_jwt()["sid"]}
    return {"access_token": create_access_token(identity=current_user, additional_claims=session),
            "token_type": "Bearer",
            "expires_in": _expires_in()}


@bp.post("/logout")
@roles_required(*STAFF)
@writes
@bp.arguments(LogoutSchema(), required=False)
@bp.response(204)
def logout(data):
    """End the session: its access and refresh tokens are refused from now on.

    A refresh token given in the body (of this session or another of the caller's) is
    revoked too, and its session ended.
    """
    auth.revoke(get_jwt())
    auth.end_session(get_jwt()["sid"])
    refresh_token = (data or {}).get("refresh_token")
    if refresh_token:
        try:
            decoded = decode_token(refresh_token, allow_expired=True)
        except (PyJWTError, JWTExtendedException):
            abort(422, message="refresh_token is not a valid token.", errors={"refresh_token": ["Not a valid token."]})
        if decoded.get("type") != "refresh" or decoded.get("sub") != str(current_user.id):
            abort(422, message="refresh_token is not one of your refresh tokens.",
                  errors={"refresh_token": ["Not one of your refresh tokens."]})
        auth.revoke(decoded)
        auth.end_session(decoded.get("sid"))
    audit.record(actor(), "logout", "user", current_user.username)


@bp.get("/me")
@roles_required(*STAFF)
@bp.response(200, MeSchema)
def me():
    """The logged-in user."""
    return current_user
