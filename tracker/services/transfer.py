"""Bulk import and export in JSON Lines (API.md, Operations).

Each line is a record with a ``type``: ``agency``, ``procedure`` and
``calendar_override`` records are the POST bodies; ``dossier`` records are the
POST /dossiers body with its existing ``code``, the admin fields, the
``time_limit`` it was accepted with (optional: the procedure's by default) and
its ``steps`` (step bodies with their ``at``). Every line is validated like the
API, state machine and times included; a bad line is reported with its number
and the rest goes in. The export writes parents before their children and the
calendar overrides before the dossiers, so that its file imports as it is.
Dossiers already present (by code) are skipped, so importing a file twice adds
nothing. Dossiers are written in batches with bulk inserts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Iterator

import marshmallow as ma
import orjson
from flask import current_app
from sqlalchemy import insert, select

from tracker.api.agencies import AgencySchema
from tracker.api.calendar import OverrideSchema
from tracker.api.common import LocalDateTime, _nul_fields
from tracker.api.dossier_schemas import DossierCreateSchema, StepCreateSchema, _plausible_time
from tracker.api.problems import flatten_errors
from tracker.api.procedures import ProcedureSchema, TimeLimitSchema
from tracker.domain import progress
from tracker.domain.codes import normalize_dossier_code, parse_dossier_code
from tracker.domain.deadlines import Deadlines, TimeLimit
from tracker.domain.statuses import Status
from tracker.domain.workflow import REGISTER, Action, MissingFields, TransitionRefused
from tracker.extensions import db
from tracker.models import Agency, CalendarOverride, Dossier, Procedure, Step
from tracker.models.types import utcnow
from tracker.services import audit, overrides, reference, statistics
from tracker.services.audit import Actor
from tracker.services.bulk_validation import load_dossier
from tracker.services.calendar import deadlines
from tracker.services.codes import reserve_numbers
from tracker.services.dossiers import CLOCK_FIELDS, CLOCK_SKEW, _applicant_columns
from tracker.services.errors import ServiceError

BATCH = 2000
PLURALS = {"agency": "agencies", "procedure": "procedures", "dossier": "dossiers",
           "calendar_override": "calendar overrides"}
KINDS = ("agency", "procedure", "dossier", "calendar_override")
STEP_FIELDS = ("handler", "note", "public_note", "reason", "result", "new_appointment_at")
# Every row of a multi-row insert needs every column: absent applicant details are NULL.
APPLICANT_NONE = {f"applicant_{k}": None for k in ("id_number", "phone", "email", "address")}


class ImportStepSchema(StepCreateSchema):
    at = LocalDateTime(required=True, validate=_plausible_time)


class ImportDossierSchema(DossierCreateSchema):
    type = ma.fields.String()
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^[0-9A-Za-z.\-_/]{3,64}$", error="A code is 3 to 64 letters, digits, '.', '-', '_' or '/'."))
    agency_code = ma.fields.String(required=True)
    submitted_at = LocalDateTime(allow_none=True, validate=_plausible_time)
    time_limit = ma.fields.Nested(TimeLimitSchema, metadata={
        "description": "The limit the dossier was accepted with; the procedure's current one by default."})
    steps = ma.fields.List(ma.fields.Nested(ImportStepSchema), load_default=list)


agency_loader = AgencySchema(unknown=ma.EXCLUDE)
procedure_loader = ProcedureSchema(unknown=ma.EXCLUDE)
override_loader = OverrideSchema(unknown=ma.EXCLUDE)
dossier_loader = ImportDossierSchema()


class LineError(Exception):
    """A line that cannot go in, with the reason a person reads."""


@dataclass
class ImportReport:
    """What an import did."""

    added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    errors: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the operator (calendar overrides only when some were added)."""
        added = ", ".join(f"{n} {PLURALS[k] if n != 1 else k.replace('_', ' ')}" for k, n in self.added.items()
                          if k != "calendar_override" or n)
        skipped = sum(self.skipped.values())
        return f"Imported {added}; {skipped} already present; {len(self.errors)} bad lines."


def _describe(messages) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in flatten_errors(messages).items())


def _reason(error: Exception) -> str:
    """The words of a refusal, with the fields a service named."""
    errors = getattr(error, "extra", {}).get("errors") if isinstance(error, ServiceError) else None
    if errors:
        return _describe(errors)
    return getattr(error, "message", None) or str(error)


@dataclass
class _Context:
    """What dossier lines refer to, loaded once and kept current while importing."""

    rules: Deadlines
    agencies: dict[str, int]
    procedures: dict[str, tuple[int, int, str]]
    payment_pauses: bool = True
    seen_codes: set[str] = field(default_factory=set)
    now: datetime = field(default_factory=utcnow)


def _load_context() -> _Context:
    agencies = dict(db.session.execute(select(Agency.code, Agency.id)).all())
    procedures = {code: (pid, value, unit) for code, pid, value, unit in db.session.execute(
        select(Procedure.code, Procedure.id, Procedure.time_limit_value, Procedure.time_limit_unit))}
    return _Context(rules=deadlines(), agencies=agencies, procedures=procedures,
                    payment_pauses=current_app.config["TRACKER_PAYMENT_PAUSES"])


def _replay(data: dict, limit: TimeLimit, ctx: _Context, agency_id: int) -> tuple[dict, list[dict]]:
    """Validate a dossier's history through the state machine; give its row and step rows."""
    status = data.get("status") or Status.ACCEPTED
    first_at = data.get("accepted_at") if status == Status.ACCEPTED else data.get("submitted_at")
    if first_at is None and status == Status.REGISTERED and data["steps"]:
        first_at = data["steps"][0]["at"]
    if first_at is None:
        name = "accepted_at" if status == Status.ACCEPTED else "submitted_at"
        raise LineError(f"{name}: required to import a dossier in status {status}.")
    clock = progress.DossierClock(status=Status.REGISTERED, limit=limit)
    if status == Status.ACCEPTED:
        progress.apply(clock, Action.ACCEPT, first_at, ctx.rules)
    handling = agency_id
    steps = [{"seq": 1, "action": Action.ACCEPT.value if status == Status.ACCEPTED else REGISTER,
              "status_before": None, "status_after": clock.status, "at": first_at, "agency_id": agency_id,
              "note": data.get("note")}]
    previous = first_at
    for number, step in enumerate(data["steps"], start=1):
        at = step["at"]
        if at < previous:
            raise LineError(f"steps[{number}].at: earlier than the step before it.")
        if at > ctx.now + CLOCK_SKEW:
            raise LineError(f"steps[{number}].at: in the future.")
        to_agency_id = None
        if step.get("to_agency_code"):
            to_agency_id = ctx.agencies.get(step["to_agency_code"])
            if to_agency_id is None or step["action"] != Action.PROCESS:
                raise LineError(f"steps[{number}].to_agency_code: unknown agency or not a 'process' step.")
        before = clock.status
        try:
            progress.apply(clock, step["action"], at, ctx.rules, step, payment_pauses=ctx.payment_pauses)
        except TransitionRefused as refused:
            raise LineError(f"steps[{number}]: '{step['action']}' is not allowed in status '{before}' "
                            f"(allowed: {', '.join(refused.allowed)}).") from refused
        except MissingFields as missing:
            raise LineError(f"steps[{number}]: {_describe(missing.errors)}") from missing
        except progress.BadAppointment as bad:
            raise LineError(f"steps[{number}].new_appointment_at: {bad}") from bad
        steps.append({"seq": number + 1, "action": step["action"], "status_before": before,
                      "status_after": clock.status, "at": at, "agency_id": handling, "to_agency_id": to_agency_id,
                      **{k: step.get(k) for k in STEP_FIELDS}})
        handling = to_agency_id or handling
        previous = at
    if first_at > ctx.now + CLOCK_SKEW:
        raise LineError("The dossier's first time is in the future.")
    row = {name: getattr(clock, name) for name in CLOCK_FIELDS}
    row.update(handling_agency_id=handling, submitted_at=data.get("submitted_at") or first_at)
    return row, steps


def _dossier_rows(data: dict, ctx: _Context) -> tuple[dict, list[dict]]:
    code = normalize_dossier_code(data["code"])
    if code in ctx.seen_codes:
        raise LineError(f"code: {code} appears twice in this file.")
    agency_id = ctx.agencies.get(data["agency_code"])
    if agency_id is None:
        raise LineError(f"agency_code: no agency has the code {data['agency_code']}.")
    procedure = ctx.procedures.get(data["procedure_code"])
    if procedure is None:
        raise LineError(f"procedure_code: no procedure has the code {data['procedure_code']}.")
    procedure_id, value, unit = procedure
    if data.get("time_limit"):
        value, unit = data["time_limit"]["value"], data["time_limit"]["unit"]
    row, steps = _replay(data, TimeLimit(value, unit), ctx, agency_id)
    row.update(code=code, agency_id=agency_id, procedure_id=procedure_id, channel=data["channel"],
               note=data.get("note"), limit_value=value, limit_unit=unit, version=len(steps),
               **(APPLICANT_NONE | _applicant_columns(data["applicant"])))
    _check_lengths(row, Dossier.__table__, "")
    for number, step in enumerate(steps[1:], start=1):
        _check_lengths(step, Step.__table__, f"steps[{number}].")
    return row, steps


def _check_lengths(row: dict, table, prefix: str) -> None:
    """Text that outgrew its column in normalisation (NFC can lengthen a few scripts) is a bad line, not a crash."""
    for name, value in row.items():
        if isinstance(value, str):
            length = getattr(table.c[name].type, "length", None)
            if length is not None and len(value) > length:
                raise LineError(f"{prefix}{name.replace('applicant_', 'applicant.')}: longer than {length} characters "
                                "once normalised (Unicode NFC).")


def _existing_codes(codes: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(codes), 500):
        found.update(db.session.scalars(select(Dossier.code).where(Dossier.code.in_(codes[start:start + 500]))))
    return found


STEP_COLUMNS = ("dossier_id", "seq", "action", "status_before", "status_after", "at", "recorded_at", "user_id",
                "agency_id", "to_agency_id", *STEP_FIELDS)


def _write_batch(batch: list[tuple[dict, list[dict]]], report: ImportReport, agencies: dict[str, int]) -> None:
    """Insert a batch with plain multi-row statements (the ORM's unit of work is too slow here)."""
    if not batch:
        return
    present = _existing_codes([row["code"] for row, _ in batch])
    fresh = [(row, steps) for row, steps in batch if row["code"] not in present]
    report.skipped["dossier"] += len(batch) - len(fresh)
    if fresh:
        now = utcnow()
        rows = [{**row, "created_at": now, "updated_at": now} for row, _ in fresh]
        dossiers = Dossier.__table__
        ids = db.session.execute(
            dossiers.insert().returning(dossiers.c.id, sort_by_parameter_order=True), rows).scalars().all()
        step_rows = [{name: None for name in STEP_COLUMNS} | step | {"dossier_id": dossier_id, "recorded_at": now}
                     for dossier_id, (_, steps) in zip(ids, fresh) for step in steps]
        db.session.execute(Step.__table__.insert(), step_rows)
        _reserve_codes([row for row, _ in fresh], agencies)
    db.session.commit()
    report.added["dossier"] += len(fresh)
    batch.clear()


def _reserve_codes(rows: list[dict], agencies: dict[str, int]) -> None:
    # The number belongs to the agency the code names (the one next_code would write),
    # even in the odd legacy record whose receiving agency is another one.
    highest: dict[tuple[int, object], int] = {}
    for row in rows:
        parsed = parse_dossier_code(row["code"])
        if parsed is not None and parsed[0] in agencies:
            key = (agencies[parsed[0]], parsed[1])
            highest[key] = max(highest.get(key, 0), parsed[2])
    reserve_numbers(highest)


def _reference_record(kind: str, record: dict, ctx: _Context, report: ImportReport, who: Actor) -> None:
    loader, exists, create, key = {
        "agency": (agency_loader, reference.agency_by_code, reference.create_agency, "code"),
        "procedure": (procedure_loader, reference.procedure_by_code, reference.create_procedure, "code"),
        "calendar_override": (override_loader, lambda day: db.session.get(CalendarOverride, day),
                              overrides.create_override, "date"),
    }[kind]
    data = loader.load(record)
    if exists(data[key]) is not None:
        report.skipped[kind] += 1
        return
    thing = create(who, data)
    db.session.commit()
    if kind == "agency":
        ctx.agencies[thing.code] = thing.id
    elif kind == "procedure":
        ctx.procedures[thing.code] = (thing.id, thing.time_limit_value, thing.time_limit_unit)
    else:
        ctx.rules = deadlines()  # the next dossiers' deadlines follow the new calendar
    report.added[kind] += 1


def import_lines(lines: Iterable[str | bytes], who: Actor, source: str = "-",
                 advance: Callable[[int], None] | None = None) -> ImportReport:
    """Import JSON Lines; bad lines are reported, the others committed batch by batch."""
    report = ImportReport()
    ctx = _load_context()
    batch: list[tuple[dict, list[dict]]] = []
    for number, line in enumerate(lines, start=1):
        if advance:
            advance(len(line))
        if number == 1:  # a byte-order mark, as some Windows tools write, is not part of the first record
            line = line.removeprefix(b"\xef\xbb\xbf" if isinstance(line, bytes) else "\ufeff")
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            if not isinstance(record, dict):
                raise LineError("A line must be a JSON object.")
            # JSON can only carry a NUL escaped; PostgreSQL cannot store one at all.
            nul = _nul_fields(record) if (b"\\u0000" if isinstance(line, bytes) else "\\u0000") in line else None
            if nul:
                raise LineError(f"{', '.join(nul)}: must not contain the NUL character (U+0000).")
            kind = record.get("type")
            if kind in ("agency", "procedure", "calendar_override"):
                _write_batch(batch, report, ctx.agencies)
                _reference_record(kind, record, ctx, report, who)
            elif kind == "dossier":
                data = load_dossier(record) or dossier_loader.load(record)
                row, steps = _dossier_rows(data, ctx)
                ctx.seen_codes.add(row["code"])
                batch.append((row, steps))
                if len(batch) >= BATCH:
                    _write_batch(batch, report, ctx.agencies)
            else:
                raise LineError("type: must be agency, procedure, calendar_override or dossier.")
        except ma.ValidationError as invalid:
            db.session.rollback()
            report.errors.append((number, _describe(invalid.messages)))
        except (LineError, ServiceError, orjson.JSONDecodeError, ValueError) as bad:
            db.session.rollback()
            report.errors.append((number, _reason(bad)))
    _write_batch(batch, report, ctx.agencies)
    statistics.rebuild()
    audit.record(who, "import", "file", source, {"added": report.added, "skipped": report.skipped,
                                                  "errors": len(report.errors)})
    db.session.commit()
    return report



def _parents_first(agencies: list[Agency]) -> list[Agency]:
    """Agencies by depth in the tree, then by id: a parent moved below a younger agency still comes first."""
    parents = {a.id: a.parent_id for a in agencies}
    depth: dict[int, int] = {}

    def depth_of(agency_id: int) -> int:
        chain = []
        while agency_id is not None and agency_id not in depth:
            chain.append(agency_id)
            agency_id = parents[agency_id]
        level = -1 if agency_id is None else depth[agency_id]
        for node in reversed(chain):
            level += 1
            depth[node] = level
        return level

    return sorted(agencies, key=lambda a: (depth_of(a.id), a.id))


def export_records(rules_tz) -> Iterator[dict]:
    """Every agency, procedure, calendar override and dossier (with its steps) as import records."""
    for agency in _parents_first(db.session.scalars(select(Agency).order_by(Agency.id)).all()):
        yield {"type": "agency", "code": agency.code, "name": agency.name, "parent_code": agency.parent_code,
               "level": agency.level}
    for procedure in db.session.scalars(select(Procedure).order_by(Procedure.id)):
        yield {"type": "procedure", "code": procedure.code, "name": procedure.name, "field": procedure.field,
               "time_limit": procedure.time_limit}
    for override in db.session.scalars(select(CalendarOverride).order_by(CalendarOverride.date)):
        yield {"type": "calendar_override", "date": override.date.isoformat(), "working": override.working,
               "name": override.name}
    codes = dict(db.session.execute(select(Agency.id, Agency.code)).all())
    procedures = dict(db.session.execute(select(Procedure.id, Procedure.code)).all())
    last_id = 0
    while True:
        chunk = db.session.scalars(select(Dossier).where(Dossier.id > last_id).order_by(Dossier.id).limit(BATCH)).all()
        if not chunk:
            return
        for dossier in chunk:
            yield _dossier_record(dossier, codes, procedures, rules_tz)
        last_id = chunk[-1].id
        db.session.expunge_all()


def _local(value: datetime | None, tz) -> str | None:
    return value.astimezone(tz).isoformat() if value is not None else None


def _dossier_record(dossier: Dossier, codes: dict, procedures: dict, tz) -> dict:
    first, rest = dossier.steps[0], dossier.steps[1:]
    accepted = first.action == Action.ACCEPT
    applicant = {k: getattr(dossier, f"applicant_{k}") for k in ("name", "id_number", "phone", "email", "address")}
    steps = []
    for step in rest:
        body = {"action": step.action, "at": _local(step.at, tz)}
        for name in ("handler", "note", "public_note", "reason", "result"):
            if getattr(step, name) is not None:
                body[name] = getattr(step, name)
        if step.new_appointment_at is not None:
            body["new_appointment_at"] = _local(step.new_appointment_at, tz)
        if step.to_agency_id is not None:
            body["to_agency_code"] = codes[step.to_agency_id]
        steps.append(body)
    return {
        "type": "dossier", "code": dossier.code, "procedure_code": procedures[dossier.procedure_id],
        "agency_code": codes[dossier.agency_id], "channel": dossier.channel,
        "status": Status.ACCEPTED.value if accepted else Status.REGISTERED.value,
        "applicant": {k: v for k, v in applicant.items() if v is not None},
        "note": dossier.note,
        "accepted_at": _local(first.at, tz) if accepted else None,
        "submitted_at": _local(dossier.submitted_at, tz),
        "time_limit": {"value": dossier.limit_value, "unit": dossier.limit_unit},
        "steps": steps,
    }


def dumps(record: dict) -> bytes:
    """One JSON line, Vietnamese kept as UTF-8."""
    return orjson.dumps({k: v for k, v in record.items() if v is not None}) + b"\n"
