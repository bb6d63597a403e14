"""Schemas of the dossier resource: what clerks send and what they get back."""
from __future__ import annotations

from datetime import date

import marshmallow as ma

from tracker.domain.people import (normalize_id_number, normalize_phone, validate_email, validate_id_number,
                                   validate_phone)
from tracker.domain.statuses import Channel, Status
from tracker.domain.workflow import COMPLETE_RESULTS, Action
from tracker.schemas.fields import CodeNameSchema, LocalDateTime, Text, checked_by, plausible_time
from tracker.schemas.paging import PageArgs


class ApplicantSchema(ma.Schema):
    """The applicant; text is stored in Unicode NFC, numbers without separators."""

    name = Text(required=True, validate=ma.validate.Length(min=1, max=255))
    id_number = ma.fields.String(allow_none=True, validate=checked_by(validate_id_number))
    phone = ma.fields.String(allow_none=True, validate=checked_by(validate_phone))
    email = Text(allow_none=True, validate=checked_by(validate_email))
    address = Text(allow_none=True, validate=ma.validate.Length(max=500))

    @ma.validates("name")
    def _name_not_blank(self, value, **_):
        if not value.strip():
            raise ma.ValidationError("The applicant's name is required.")

    @ma.post_load
    def _normalise(self, data, **_):
        if data.get("id_number"):
            data["id_number"] = normalize_id_number(data["id_number"])
        if data.get("phone"):
            data["phone"] = normalize_phone(data["phone"])
        return data


class ApplicantPatchSchema(ApplicantSchema):
    name = Text(validate=ma.validate.Length(min=1, max=255))


class DossierCreateSchema(ma.Schema):
    procedure_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    channel = ma.fields.String(required=True, validate=ma.validate.OneOf([c.value for c in Channel]))
    applicant = ma.fields.Nested(ApplicantSchema, required=True)
    agency_code = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=32))
    status = ma.fields.String(load_default=Status.ACCEPTED.value,
                              validate=ma.validate.OneOf([Status.ACCEPTED.value, Status.REGISTERED.value]))
    note = Text(allow_none=True, validate=ma.validate.Length(max=4000))
    accepted_at = LocalDateTime(allow_none=True, validate=plausible_time,
                                metadata={"description": "Admins only, to load history."})
    digitized = ma.fields.Boolean(metadata={"description": "The documents were digitised at intake (số hóa)."})
    paid_online = ma.fields.Boolean(metadata={
        "description": "The fees were paid online with the submission."})


class DossierPatchSchema(ma.Schema):
    applicant = ma.fields.Nested(ApplicantPatchSchema, required=True)


class StepCreateSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=ma.validate.OneOf([a.value for a in Action]))
    note = Text(allow_none=True, validate=ma.validate.Length(max=4000))
    public_note = Text(allow_none=True, validate=ma.validate.Length(max=4000))
    handler = Text(allow_none=True, validate=ma.validate.Length(max=255))
    to_agency_code = Text(allow_none=True, validate=ma.validate.Length(max=32))
    result = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(COMPLETE_RESULTS))
    reason = Text(allow_none=True, validate=ma.validate.Length(max=4000))
    new_appointment_at = LocalDateTime(allow_none=True, validate=plausible_time)
    at = LocalDateTime(allow_none=True, validate=plausible_time,
                       metadata={"description": "Admins only, to load history."})
    digitized = ma.fields.Boolean(metadata={"description": "`accept` only: the documents were digitised."})
    online = ma.fields.Boolean(metadata={"description": "`receive_payment` only: paid through online payment."})
    electronic_result = ma.fields.Boolean(metadata={
        "description": "`complete` only: the result is issued as an electronic document."})


class StepSchema(ma.Schema):
    seq = ma.fields.Integer()
    action = ma.fields.String()
    label = ma.fields.String()
    status_before = ma.fields.String(allow_none=True)
    status_after = ma.fields.String()
    at = LocalDateTime()
    user = ma.fields.String(allow_none=True)
    agency = ma.fields.String(allow_none=True)
    to_agency_code = ma.fields.String(allow_none=True)
    handler = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    public_note = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    result = ma.fields.String(allow_none=True)
    new_appointment_at = LocalDateTime(allow_none=True)
    digitized = ma.fields.Boolean(allow_none=True)
    online = ma.fields.Boolean(allow_none=True)
    electronic_result = ma.fields.Boolean(allow_none=True)


class ApplicantOutSchema(ma.Schema):
    name = ma.fields.String()
    id_number = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)


class DossierSchema(ma.Schema):
    code = ma.fields.String()
    procedure = ma.fields.Nested(CodeNameSchema)
    agency = ma.fields.Nested(CodeNameSchema)
    handling_agency = ma.fields.Nested(CodeNameSchema)
    channel = ma.fields.String()
    status = ma.fields.String()
    status_code = ma.fields.Integer()
    status_label = ma.fields.String()
    applicant = ma.fields.Nested(ApplicantOutSchema)
    note = ma.fields.String(allow_none=True)
    time_limit = ma.fields.Dict()
    submitted_at = LocalDateTime()
    accepted_at = LocalDateTime(allow_none=True)
    effective_intake_at = LocalDateTime(allow_none=True)
    due_at = LocalDateTime(allow_none=True)
    appointment_at = LocalDateTime(allow_none=True)
    finished_at = LocalDateTime(allow_none=True)
    returned_at = LocalDateTime(allow_none=True)
    withdrawn_at = LocalDateTime(allow_none=True)
    result = ma.fields.String(allow_none=True)
    supplement_count = ma.fields.Integer()
    timeliness = ma.fields.String(allow_none=True)
    overdue = ma.fields.Boolean()
    online_level = ma.fields.String(metadata={"description": "The procedure's online level when received."})
    digitized = ma.fields.Boolean()
    paid_online = ma.fields.Boolean()
    electronic_result = ma.fields.Boolean()
    allowed_actions = ma.fields.List(ma.fields.String())
    version = ma.fields.Integer()
    steps = ma.fields.List(ma.fields.Nested(StepSchema))


class StepResultSchema(ma.Schema):
    step = ma.fields.Nested(StepSchema)
    dossier = ma.fields.Nested(DossierSchema)


class DossierQuerySchema(PageArgs):
    """``page``/``page_size`` as on every list, plus the filters."""

    agency = ma.fields.String(metadata={"description": "Agency code: its whole subtree."})
    procedure = ma.fields.String()
    status = ma.fields.String(validate=ma.validate.OneOf([s.value for s in Status]))
    channel = ma.fields.String(validate=ma.validate.OneOf([c.value for c in Channel]))
    overdue = ma.fields.Boolean()
    # Bounded so that the day's start in the business zone (and the day after) stay representable.
    accepted_from = ma.fields.Date(validate=ma.validate.Range(min=date(1900, 1, 1), max=date(2999, 12, 31)))
    accepted_to = ma.fields.Date(validate=ma.validate.Range(min=date(1900, 1, 1), max=date(2999, 12, 31)))
    q = ma.fields.String(validate=ma.validate.Length(min=1, max=255),
                         metadata={"description": "Part of the code or of the applicant's name, accents optional."})
