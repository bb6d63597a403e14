"""Pieces shared by the resource blueprints: pagination, time fields, the audit actor."""
from __future__ import annotations

from datetime import datetime

import marshmallow as ma
from flask import current_app, request
from flask_jwt_extended import current_user
from sqlalchemy import func, select

from tracker.clients import client_address
from tracker.extensions import db
from tracker.services.audit import Actor

MAX_PAGE_SIZE = 100


class PageArgs(ma.Schema):
    """``?page=1&page_size=50``."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
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
