"""The four routes every reference resource has: list, get, add (admins), correct (admins)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask_smorest import Blueprint, abort

from tracker.api.common import actor, paginate
from tracker.api.security import roles_required
from tracker.api.unit_of_work import writes


@dataclass(frozen=True)
class Resource:
    """What the routes of one reference resource call and say."""

    noun: str                 # "agency": "No agency has the code ..."
    schema: type
    patch_schema: type
    query_schema: type
    page_schema: type
    find: Callable            # code -> row or None
    listing: Callable         # parsed query arguments -> a select
    create: Callable          # (actor, data) -> row
    update: Callable          # (actor, row, data) -> row
    summaries: dict           # docstrings of all, get, new, update


def _documented(function, summary: str):
    function.__doc__ = summary
    return function


def add_reference_routes(bp: Blueprint, resource: Resource) -> None:
    """Register ``GET ""``, ``GET /<code>``, ``POST ""`` and ``PATCH /<code>`` on ``bp``."""

    def get_or_404(code: str):
        found = resource.find(code)
        if found is None:
            abort(404, message=f"No {resource.noun} has the code {code}.")
        return found

    def all(args):
        return paginate(resource.listing(args), args["page"], args["page_size"])

    def get(code):
        return get_or_404(code)

    def new(data):
        return resource.create(actor(), data)

    def update(data, code):
        return resource.update(actor(), get_or_404(code), data)

    text = resource.summaries
    bp.get("")(bp.arguments(resource.query_schema, location="query")(
        bp.response(200, resource.page_schema)(_documented(all, text["all"]))))
    bp.get("/<code>")(bp.response(200, resource.schema)(_documented(get, text["get"])))
    bp.post("")(roles_required("admin")(writes(bp.arguments(resource.schema)(
        bp.response(201, resource.schema)(bp.alt_response(409, description="The code exists already.")(
            _documented(new, text["new"])))))))
    bp.patch("/<code>")(roles_required("admin")(writes(bp.arguments(resource.patch_schema)(
        bp.response(200, resource.schema)(_documented(update, text["update"]))))))
