"""Who may call what: bearer tokens, roles and the agency scope."""
from __future__ import annotations

from functools import wraps

from flask_jwt_extended import current_user, verify_jwt_in_request
from flask_smorest import abort


STAFF = ("admin", "manager", "clerk", "viewer")
WRITERS = ("admin", "manager", "clerk")
BEARER = [{"bearerAuth": []}]


def roles_required(*roles: str):
    """Require a valid access token of an active user with one of ``roles``.

    The user is re-read from the database on every request (see ``auth``), so a
    disabled account or a changed role takes effect at once.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request()
            if current_user.role not in roles:
                abort(403, message=f"This operation needs one of the roles: {', '.join(roles)}.")
            return view(*args, **kwargs)

        # Document the bearer scheme on the operation.
        wrapper._apidoc = getattr(view, "_apidoc", {})
        wrapper._apidoc.setdefault("manual_doc", {}).setdefault("security", BEARER)
        return wrapper

    return decorator

