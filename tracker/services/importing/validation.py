"""A fast path for validating import records, answering exactly like the schemas.

marshmallow costs about half a millisecond per dossier record with its steps,
which is most of the time of a million-dossier import. ``load_dossier`` checks
the ordinary shape of a record with plain Python and returns what
``ImportDossierSchema().load`` would return; for anything it does not
recognise as plainly valid it returns None, and the caller lets the schema
decide (and word the error). The API's schemas stay the one definition: a
differential test feeds both the same random records.
"""
from __future__ import annotations

import re
from datetime import datetime

from tracker.schemas.fields import EARLIEST, LATEST
from tracker.domain.codes import IMPORTED_CODE_RE
from tracker.domain.deadlines import DAYS, HOURS
from tracker.domain.people import (APPLICANT_FIELDS, nfc, normalize_id_number, normalize_phone, validate_email,
                                   validate_id_number, validate_phone)
from tracker.domain.service_levels import LEVELS, ONLINE_LEVELS
from tracker.domain.service_levels import STEP_FLAGS as STEP_FLAG_RULES
from tracker.domain.statuses import Channel, Status
from tracker.domain.workflow import Action

DOSSIER_FLAGS = ("digitized", "paid_online")
DOSSIER_KEYS = {"type", "code", "procedure_code", "channel", "applicant", "agency_code", "status", "note",
                "accepted_at", "submitted_at", "time_limit", "steps", "online_level", "evaluation", *DOSSIER_FLAGS}
APPLICANT_KEYS = set(APPLICANT_FIELDS)
EVALUATION_KEYS = {"overall", "criteria", "comment", "first_given_at", "given_at"}
EVALUATION_REQUIRED = {"overall", "first_given_at", "given_at"}
STEP_TEXT = {"note": 4000, "public_note": 4000, "handler": 255, "to_agency_code": 32, "reason": 4000}
STEP_FLAGS = tuple(name for _, name, _ in STEP_FLAG_RULES)
STEP_KEYS = {"action", "result", "new_appointment_at", "at", *STEP_TEXT, *STEP_FLAGS}
ACTIONS = {a.value for a in Action}
CHANNELS = {c.value for c in Channel}
INTAKE_STATUSES = {Status.ACCEPTED.value, Status.REGISTERED.value}
CODE = re.compile(IMPORTED_CODE_RE)


class _Defer(Exception):
    """Not plainly valid: the schema decides."""


def _text(value, low: int, high: int, nullable: bool = True):
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise _Defer
    return value


def _nfc_text(value, low: int, high: int, nullable: bool = True):
    """Like the schemas' ``Text``: normalised first, then measured."""
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise _Defer
    return _text(nfc(value), low, high, nullable)


def _time(value, nullable: bool = True) -> datetime | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise _Defer
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Defer from None
    if parsed.tzinfo is None or parsed.tzinfo.utcoffset(parsed) is None:
        raise _Defer
    if not EARLIEST <= parsed <= LATEST:  # the schemas' plausible-time rule
        raise _Defer
    return parsed


def _one_of(value, allowed) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise _Defer
    return value


def _flag(value) -> bool:
    """A boolean written as one: the schema's other spellings ("true", 1) are the schema's to judge."""
    if type(value) is not bool:  # noqa: E721
        raise _Defer
    return value


def _checked(value, validator):
    if value is None:
        return None
    if not isinstance(value, str) or validator(value):
        raise _Defer
    return value


def _time_limit(value) -> dict:
    if not isinstance(value, dict) or value.keys() != {"value", "unit"}:
        raise _Defer
    number = value["value"]
    if type(number) is not int or not 1 <= number <= 3650:  # noqa: E721 (bool and "3" are the schema's to judge)
        raise _Defer
    return {"value": number, "unit": _one_of(value["unit"], (DAYS, HOURS))}


def _applicant(value) -> dict:
    if not isinstance(value, dict) or not value.keys() <= APPLICANT_KEYS or "name" not in value:
        raise _Defer
    name = _nfc_text(value["name"], 1, 255, nullable=False)
    if not name.strip():
        raise _Defer
    out = {"name": name}
    if "id_number" in value:
        number = _checked(value["id_number"], validate_id_number)
        out["id_number"] = normalize_id_number(number) if number else number
    if "phone" in value:
        phone = _checked(value["phone"], validate_phone)
        out["phone"] = normalize_phone(phone) if phone else phone
    if "email" in value:
        email = value["email"]
        out["email"] = _checked(nfc(email) if isinstance(email, str) else email, validate_email)
    if "address" in value:
        out["address"] = _nfc_text(value["address"], 0, 500)
    return out


def _step(value) -> dict:
    if not isinstance(value, dict) or not value.keys() <= STEP_KEYS or "action" not in value or "at" not in value:
        raise _Defer
    out = {"action": _one_of(value["action"], ACTIONS), "at": _time(value["at"], nullable=False)}
    for name, high in STEP_TEXT.items():
        if name in value:
            out[name] = _nfc_text(value[name], 0, high)
    if "result" in value:
        out["result"] = None if value["result"] is None else _one_of(value["result"], ("approved", "denied"))
    if "new_appointment_at" in value:
        out["new_appointment_at"] = _time(value["new_appointment_at"])
    for name in STEP_FLAGS:
        if name in value:
            out[name] = _flag(value[name])
    return out


def _evaluation(value) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not EVALUATION_REQUIRED <= value.keys() <= EVALUATION_KEYS:
        raise _Defer
    criteria = value.get("criteria", {})
    if not isinstance(criteria, dict):
        raise _Defer
    out = {"overall": _one_of(value["overall"], LEVELS),
           "criteria": {_text(key, 0, 32, nullable=False): _one_of(level, LEVELS) for key, level in criteria.items()},
           "first_given_at": _time(value["first_given_at"], nullable=False),
           "given_at": _time(value["given_at"], nullable=False)}
    if "comment" in value:
        out["comment"] = _text(value["comment"], 0, 2000)  # plain text in the schema: not normalised
    return out


def load_dossier(record: dict) -> dict | None:
    """What the import schema would load from ``record``, or None to let the schema decide."""
    try:
        if not record.keys() <= DOSSIER_KEYS:
            raise _Defer
        out: dict = {}
        if "type" in record:
            out["type"] = _text(record["type"], 0, 10**9, nullable=False)
        code = record.get("code")
        if not isinstance(code, str) or CODE.fullmatch(code) is None:
            raise _Defer
        out["code"] = code
        out["procedure_code"] = _text(record.get("procedure_code"), 1, 32, nullable=False)
        out["channel"] = _one_of(record.get("channel"), CHANNELS)
        out["applicant"] = _applicant(record.get("applicant"))
        out["agency_code"] = _text(record.get("agency_code"), 0, 10**9, nullable=False)
        out["status"] = _one_of(record.get("status", Status.ACCEPTED.value), INTAKE_STATUSES)
        if "note" in record:
            out["note"] = _nfc_text(record["note"], 0, 4000)
        for name in ("accepted_at", "submitted_at"):
            if name in record:
                out[name] = _time(record[name])
        if "time_limit" in record:
            out["time_limit"] = _time_limit(record["time_limit"])
        if "online_level" in record:
            out["online_level"] = _one_of(record["online_level"], ONLINE_LEVELS)
        for name in DOSSIER_FLAGS:
            if name in record:
                out[name] = _flag(record[name])
        steps = record.get("steps", [])
        if not isinstance(steps, list):
            raise _Defer
        out["steps"] = [_step(step) for step in steps]
        if "evaluation" in record:
            out["evaluation"] = _evaluation(record["evaluation"])
        return out
    except _Defer:
        return None
