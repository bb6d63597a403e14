"""Staff accounts."""
from __future__ import annotations

import marshmallow as ma
from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from tracker.api.common import actor, paginate
from tracker.schemas.fields import FullMatch
from tracker.schemas.paging import PageArgs, page_schema
from tracker.api.security import roles_required
from tracker.api.unit_of_work import writes
from tracker.models.people import ROLES
from tracker.services import users

bp = Blueprint("users", __name__, url_prefix="/api/v1/users",
               description="Staff accounts: admins for everyone, managers for the clerks and viewers of their subtree.")

USERNAME = FullMatch(r"^[A-Za-z0-9_.@-]{3,64}$", error="Use 3 to 64 letters, digits, '_', '.', '@' or '-'.")
# The length here documents the rule; the whole policy (username, common passwords) is the service's.
PASSWORD = ma.validate.Length(min=12, max=1024, error="Use at least 12 characters (and at most 1024).")


class UserSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=USERNAME)
    password = ma.fields.String(required=True, load_only=True, validate=PASSWORD)
    full_name = ma.fields.String(load_default="", validate=ma.validate.Length(max=255))
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    agency_code = ma.fields.String(load_default=None, allow_none=True)
    active = ma.fields.Boolean(load_default=True)


class UserPatchSchema(ma.Schema):
    password = ma.fields.String(load_only=True, validate=PASSWORD)
    full_name = ma.fields.String(validate=ma.validate.Length(max=255))
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    agency_code = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()


UserPageSchema = page_schema(UserSchema)


@bp.get("")
@roles_required("admin", "manager")
@bp.arguments(PageArgs(), location="query")
@bp.response(200, UserPageSchema)
def all(args):
    """The users the caller manages."""
    return paginate(users.users_query(current_user), args["page"], args["page_size"])


@bp.get("/<username>")
@roles_required("admin", "manager")
@bp.response(200, UserSchema)
def get(username):
    """One user."""
    return users.visible_user(current_user, username)


@bp.post("")
@roles_required("admin", "manager")
@writes
@bp.arguments(UserSchema())
@bp.response(201, UserSchema)
@bp.alt_response(409, description="The username is taken.")
def new(data):
    """Add a user; the password is never given back."""
    return users.create_user(actor(), data)


@bp.patch("/<username>")
@roles_required("admin", "manager")
@writes
@bp.arguments(UserPatchSchema())
@bp.response(200, UserSchema)
def update(data, username):
    """Change a user's name, role, agency, password or active flag."""
    return users.update_user(actor(), users.visible_user(current_user, username), data)
