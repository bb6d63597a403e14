"""Staff accounts: admins manage everyone, managers the clerks and viewers of their subtree."""
from __future__ import annotations

from sqlalchemy import select

from tracker.domain.people import nfc
from tracker.extensions import db
from tracker.models import User
from tracker.services import audit, auth
from tracker.services.audit import Actor
from tracker.services.errors import Conflict, Forbidden, Invalid, NotFound
from tracker.services.passwords import hash_password, policy_errors
from tracker.services.reference import agency_by_code
from tracker.services.scope import in_scope, user_scope

MANAGED_BY_MANAGERS = ("clerk", "viewer")


def user_by_username(username: str) -> User | None:
    """The user with this name (in any letter case), or None."""
    return db.session.scalar(select(User).where(User.username == auth.normalize_username(username)))


def visible_user(caller: User, username: str) -> User:
    """A user the caller may see: 404 for anyone outside a manager's reach."""
    user = user_by_username(username)
    if user is None or not _manages(caller, user):
        raise NotFound(f"No user is named {username}.")
    return user


def users_query(caller: User):
    """The users the caller may see, by username."""
    query = select(User).order_by(User.username)
    scope = user_scope(caller)
    if scope is not None:
        query = query.where(User.agency_id.in_(scope), User.role.in_(MANAGED_BY_MANAGERS))
    return query


def _manages(caller: User, user: User) -> bool:
    if caller.role == "admin":
        return True
    return user.role in MANAGED_BY_MANAGERS and in_scope(caller, user.agency_id)


def _check_grant(caller: User, role: str, agency_id: int | None) -> None:
    if caller.role == "admin":
        return
    if role not in MANAGED_BY_MANAGERS:
        raise Forbidden("A manager can only give the roles clerk and viewer.")
    if not in_scope(caller, agency_id):
        raise Forbidden("A manager can only manage users of its own agency subtree.")


def _agency_id(code: str | None, role: str) -> int | None:
    if code is None:
        if role != "admin":
            raise Invalid({"agency_code": ["Every role but admin belongs to an agency."]})
        return None
    agency = agency_by_code(code)
    if agency is None:
        raise Invalid({"agency_code": [f"No agency has the code {code}."]})
    return agency.id


def _check_password(password: str, username: str) -> None:
    errors = policy_errors(password, username)
    if errors:
        raise Invalid({"password": errors}, "The password does not meet the password policy.")


def _public(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "password"} | (
        {"password": "(changed)"} if "password" in data else {})


def create_user(who: Actor, data: dict, check_caller: bool = True) -> User:
    """Add a staff account (``check_caller`` off for the command line)."""
    agency_id = _agency_id(data.get("agency_code"), data["role"])
    if check_caller:
        _check_grant(who.user, data["role"], agency_id)
    username = auth.normalize_username(data["username"])
    if user_by_username(username) is not None:
        raise Conflict(f"The username {username} is taken.")
    _check_password(data["password"], username)
    user = User(username=username, password_hash=hash_password(data["password"]),
                full_name=nfc(data.get("full_name") or ""), role=data["role"], agency_id=agency_id,
                active=data.get("active", True))
    db.session.add(user)
    db.session.flush()
    audit.record(who, "user.create", "user", user.username, _public(data) | {"username": username})
    return user


def reset_password(who: Actor, user: User, password: str) -> User:
    """Give an account a new password (the command line's ``--reset-password``); audited, never logged.

    The password policy applies, and every session of the account ends.
    """
    _check_password(password, user.username)
    user.password_hash = hash_password(password)
    auth.end_all_sessions(user)
    db.session.flush()
    audit.record(who, "user.update", "user", user.username, _public({"password": password}))
    return user


def update_user(who: Actor, user: User, data: dict) -> User:
    """Change a staff account; a manager cannot lift anyone out of its reach."""
    role = data.get("role", user.role)
    agency_id = _agency_id(data["agency_code"], role) if "agency_code" in data else user.agency_id
    if agency_id is None:
        _agency_id(None, role)  # refuses an agency-less clerk, manager or viewer
    _check_grant(who.user, role, agency_id)
    if who.user.id == user.id and data.get("active") is False:
        raise Conflict("You cannot disable your own account.")
    if "password" in data:
        _check_password(data["password"], user.username)
        user.password_hash = hash_password(data["password"])
    if "password" in data or data.get("active") is False:
        auth.end_all_sessions(user)  # every token issued before is refused from now on
    if "full_name" in data:
        user.full_name = nfc(data["full_name"])
    if "active" in data:
        user.active = data["active"]
    user.role, user.agency_id = role, agency_id
    db.session.flush()
    db.session.refresh(user)
    audit.record(who, "user.update", "user", user.username, _public(data))
    return user
