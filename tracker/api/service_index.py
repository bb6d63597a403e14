"""The Decision 766 service index, next to the II.06a counters, and its weights (docs/rules.md#rates)."""
from __future__ import annotations

import marshmallow as ma
from flask import Response
from flask_smorest import Blueprint

from tracker.api.common import actor
from tracker.api.public_stats import FiltersSchema, PeriodSchema, build_query, cacheable
from tracker.api.security import roles_required
from tracker.api.unit_of_work import writes
from tracker.http.limits import public_limit
from tracker.schemas.evaluations import WeightsSchema
from tracker.schemas.statistics import StatsQuerySchema
from tracker.services import service_index

bp = Blueprint("service_index", __name__, url_prefix="/api/v1",
               description="The service index of Decision 766/QĐ-TTg for the groups this system measures.")


class IndexGroupSchema(ma.Schema):
    rate = ma.fields.Float(allow_none=True, metadata={"description": "The group's rate; null when unmeasured."})
    points = ma.fields.Float(allow_none=True, metadata={"description": "rate × max_points, 2 decimals."})
    max_points = ma.fields.Float(metadata={"description": "The group's weight."})


class IndexSchema(ma.Schema):
    progress = ma.fields.Nested(IndexGroupSchema)
    online = ma.fields.Nested(IndexGroupSchema)
    digitization = ma.fields.Nested(IndexGroupSchema)
    satisfaction = ma.fields.Nested(IndexGroupSchema)
    score = ma.fields.Float(metadata={"description": "The sum of the measured groups' points."})
    max_score = ma.fields.Float(metadata={"description": "The points the measured groups allow (82 by default)."})


class IndexRowSchema(IndexSchema):
    key = ma.fields.String()
    name = ma.fields.String()


class ServiceIndexSchema(ma.Schema):
    period = ma.fields.Nested(PeriodSchema)
    filters = ma.fields.Nested(FiltersSchema)
    weights = ma.fields.Nested(WeightsSchema)
    totals = ma.fields.Nested(IndexSchema)
    groups = ma.fields.List(ma.fields.Nested(IndexRowSchema))


@bp.get("/public/service-index")
@public_limit
@bp.arguments(StatsQuerySchema(), location="query")
@bp.response(200, ServiceIndexSchema)
@bp.alt_response(422, description="An impossible period or an unknown filter value or grouping.")
@bp.alt_response(429, description="Too many requests from this client; see Retry-After.")
@bp.doc(security=[])
def public_index(args):
    """The service index of a period: per group of Decision 766, the rate, the points and the maximum;
    the score out of the measured groups' maximum (82 by default), never scaled to 100."""
    return cacheable(Response(service_index.index_json(build_query(args)), mimetype="application/json"))


@bp.get("/service-index/weights")
@roles_required("admin")
@bp.response(200, WeightsSchema)
def get_weights():
    """The points each measured group is worth (admins)."""
    return service_index.weights()


@bp.put("/service-index/weights")
@roles_required("admin")
@writes
@bp.arguments(WeightsSchema())
@bp.response(200, WeightsSchema)
def put_weights(data):
    """Change the weights, e.g. for a province that adapts Decision 766 (admins)."""
    return service_index.set_weights(actor(), data)
