"""Pieces shared by the resource blueprints: pagination, the audit actor, the language."""
from __future__ import annotations

from flask import request
from flask_jwt_extended import current_user
from sqlalchemy import func, select

from tracker.clients import client_address
from tracker.domain.statuses import pick_language
from tracker.extensions import db
from tracker.services.audit import Actor


def paginate(query, page: int, page_size: int) -> dict:
    """Run ``query`` (a select of entities) for one page and count the whole."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(page_size).offset((page - 1) * page_size)).unique().all()
    return {"items": items, "page": page, "page_size": page_size, "total": total}


def actor() -> Actor:
    """The current caller, for the audit trail."""
    return Actor(user=current_user, ip=client_address())


def language() -> str:
    """``vi`` unless the client prefers English."""
    return pick_language(request.headers.get("Accept-Language"))
