"""Pieces shared by the resource blueprints: pagination, time fields, the audit actor."""
from __future__ import annotations

from datetime import datetime

import marshmallow as ma
from flask import current_app, request
from flask_jwt_extended import current_user
from flask_smorest import abort
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from tracker.clients import client_address
from tracker.extensions import db
from tracker.services.audit import Actor

MAX_PAGE_SIZE = 100
# Far beyond any real list, and small enough that the row offset fits a 64-bit integer
# (a larger page number used to reach the database and fail there with a 500).
MAX_PAGE = 1_000_000_000
NUL = "\x00"


class PageArgs(ma.Schema):
    """``?page=1&page_size=50``."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    page_size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE))


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """A ``{items, page, page_size, total}`` schema around ``item_schema``."""
    return type(
        f"{item_schema.__name__.removesuffix('Schema')}PageSchema",
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "page": ma.fields.Integer(),
            "page_size": ma.fields.Integer(),
            "total": ma.fields.Integer(),
        },
    )


def paginate(query, page: int, page_size: int) -> dict:
    """Run ``query`` (a select of entities) for one page and count the whole."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(page_size).offset((page - 1) * page_size)).unique().all()
    return {"items": items, "page": page, "page_size": page_size, "total": total}


class LocalDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 time with an offset, given out in the business time zone."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "iso")
        super().__init__(**kwargs)

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is None:
            return None
        local = value.astimezone(current_app.config["OFFICE_HOURS"].tz)
        return local.isoformat()


def actor() -> Actor:
    """The current caller, for the audit trail."""
    return Actor(user=current_user, ip=client_address())


def language() -> str:
    """``vi`` unless the client prefers English."""
    from tracker.domain.statuses import pick_language

    return pick_language(request.headers.get("Accept-Language"))


def nul_fields(value, prefix: str = "") -> list[str]:
    """The dotted names of the JSON values (or keys) that contain a NUL character."""
    found: list[str] = []
    if isinstance(value, str):
        if NUL in value:
            found.append(prefix or "_schema")
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if NUL in str(key):
                found.append(name.replace(NUL, "\\0"))
            else:
                found.extend(nul_fields(item, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(nul_fields(item, f"{prefix}.{index}" if prefix else str(index)))
    return found


def refuse_nul_characters() -> None:
    """Refuse text with a NUL character before any view sees it (an app-wide before_request).

    No identifier or text of the application can contain U+0000, and PostgreSQL cannot
    even compare with such a string: without this, ``/agencies/a%00b`` or a name with
    ``\\u0000`` in a JSON body reached the driver and failed with a 500.
    """
    if NUL in request.path:
        raise NotFound()
    message = "Must not contain the NUL character (U+0000)."
    errors = {key.replace(NUL, "\\0"): [message] for key, values in request.args.lists()
              if NUL in key or any(NUL in v for v in values)}
    if request.method in {"POST", "PUT", "PATCH"} and request.is_json:
        errors.update({name: [message] for name in nul_fields(request.get_json(silent=True))})
    if errors:
        abort(422, message="Some values contain a NUL character.", errors=errors)
