"""Schemas of the citizens' evaluations, their criteria and the service-index weights."""
from __future__ import annotations

import marshmallow as ma

from tracker.domain.service_index import GROUPS
from tracker.domain.service_levels import LEVELS
from tracker.schemas.fields import LocalDateTime, Text

LEVEL = ma.validate.OneOf(LEVELS)
CRITERION_KEY = ma.validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$", error="Use up to 32 lowercase letters, digits, _.")


class EvaluationCreateSchema(ma.Schema):
    verify = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32), metadata={
        "description": "The applicant's ID number or phone number, as on the receipt."})
    overall = ma.fields.String(required=True, validate=LEVEL)
    criteria = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(max=32)),
                              values=ma.fields.String(validate=LEVEL), load_default=dict)
    comment = Text(allow_none=True, validate=ma.validate.Length(max=2000))


class EvaluationSchema(ma.Schema):
    code = ma.fields.String()
    overall = ma.fields.String()
    overall_label = ma.fields.String()
    criteria = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    first_given_at = LocalDateTime()
    given_at = LocalDateTime()


class StaffEvaluationSchema(EvaluationSchema):
    comment = ma.fields.String(allow_none=True)


class PublicCriterionSchema(ma.Schema):
    key = ma.fields.String()
    label = ma.fields.String()


class CriterionSchema(ma.Schema):
    key = ma.fields.String(required=True, validate=CRITERION_KEY)
    label_vi = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    label_en = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    position = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=1000))
    active = ma.fields.Boolean(load_default=True)


class CriterionPatchSchema(ma.Schema):
    label_vi = ma.fields.String(validate=ma.validate.Length(min=1, max=255))
    label_en = ma.fields.String(validate=ma.validate.Length(min=1, max=255))
    position = ma.fields.Integer(validate=ma.validate.Range(min=0, max=1000))
    active = ma.fields.Boolean()


class WeightsSchema(ma.Schema):
    """The points each measured group of the service index is worth."""

    progress = ma.fields.Float(required=True, validate=ma.validate.Range(min=0, max=100))
    online = ma.fields.Float(required=True, validate=ma.validate.Range(min=0, max=100))
    digitization = ma.fields.Float(required=True, validate=ma.validate.Range(min=0, max=100))
    satisfaction = ma.fields.Float(required=True, validate=ma.validate.Range(min=0, max=100))

    @ma.validates_schema
    def _at_most_100(self, data, **_):
        if sum(data.get(group, 0) for group in GROUPS) > 100:
            raise ma.ValidationError("The groups are worth at most 100 points together.", "progress")
