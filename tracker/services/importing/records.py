"""One import line in, the rows to write out: validation, replay and counter deltas.

Nothing here touches the database, so that the work can run in worker processes
(``tracker.services.importing.pool``) while the main process writes. ``prepare_chunk``
takes numbered dossier lines and gives, for each good one, its dossier row and step
rows already in the driver's column order and value types (``RowFormat``), the
number its code takes in the agency's daily counter, and what it adds to the
statistics counters; and for each bad one its line number and reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, NamedTuple

import marshmallow as ma
import orjson

from tracker.domain import progress
from tracker.domain import statistics as rules_of
from tracker.domain.codes import (IMPORTED_CODE_MESSAGE, IMPORTED_CODE_RE, normalize_dossier_code,
                                  parse_dossier_code)
from tracker.domain.deadlines import Deadlines, TimeLimit
from tracker.domain.people import SECRET_FIELDS
from tracker.domain.progress import STEP_FIELDS
from tracker.domain.service_levels import (EVALUABLE, LEVELS, NONE, ONLINE_CAPABLE, ONLINE_LEVELS, Flags,
                                           apply_step_flags, step_flag_errors)
from tracker.domain.statuses import Status
from tracker.domain.workflow import REGISTER, Action, MissingFields, TransitionRefused
from tracker.models import Dossier, Step
from tracker.models.types import UTCDateTime, utcnow
from tracker.schemas.dossiers import DossierCreateSchema, StepCreateSchema
from tracker.schemas.errors import flatten_errors
from tracker.schemas.fields import FullMatch, LocalDateTime, nul_fields, plausible_time
from tracker.schemas.reference import TimeLimitSchema
from tracker.services.importing.validation import load_dossier
from tracker.services.clock import CLOCK_FIELDS, applicant_columns, step_flag_columns
from tracker.services.errors import ServiceError
from tracker.services.seals import STEP_SEALED, encode_step

# The columns the import writes, in the order of the rows it builds; the id (and the
# step's dossier id) is put in front by the writer, which alone knows them.
DOSSIER_COLUMNS = tuple(c.name for c in Dossier.__table__.columns if c.name != "id")
# The step's audit id, too, is the writer's: it names the batch's audit record (see ``DossierWriter.write``).
STEP_COLUMNS = tuple(c.name for c in Step.__table__.columns if c.name not in ("id", "dossier_id", "audit_id"))
# Where each sealed step value sits in a step row.
SEALED_AT = tuple(STEP_COLUMNS.index(name) for name in STEP_SEALED)
# Every row needs every column: absent applicant details are NULL.
APPLICANT_NONE = {f"applicant_{k}": None for k in SECRET_FIELDS}


class ImportStepSchema(StepCreateSchema):
    at = LocalDateTime(required=True, validate=plausible_time)


class ImportEvaluationSchema(ma.Schema):
    """The applicant's evaluation of an exported dossier, as it was given."""

    overall = ma.fields.String(required=True, validate=ma.validate.OneOf(LEVELS))
    criteria = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(max=32)),
                              values=ma.fields.String(validate=ma.validate.OneOf(LEVELS)), load_default=dict)
    comment = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000))
    first_given_at = LocalDateTime(required=True, validate=plausible_time)
    given_at = LocalDateTime(required=True, validate=plausible_time)


class ImportDossierSchema(DossierCreateSchema):
    type = ma.fields.String()
    code = ma.fields.String(required=True, validate=FullMatch(IMPORTED_CODE_RE, error=IMPORTED_CODE_MESSAGE))
    agency_code = ma.fields.String(required=True)
    submitted_at = LocalDateTime(allow_none=True, validate=plausible_time)
    time_limit = ma.fields.Nested(TimeLimitSchema, metadata={
        "description": "The limit the dossier was accepted with; the procedure's current one by default."})
    steps = ma.fields.List(ma.fields.Nested(ImportStepSchema), load_default=list)
    evaluation = ma.fields.Nested(ImportEvaluationSchema, allow_none=True)
    online_level = ma.fields.String(validate=ma.validate.OneOf(ONLINE_LEVELS), metadata={
        "description": "The procedure's online level when the dossier came in; its current one by default."})


dossier_loader = ImportDossierSchema()


class LineError(Exception):
    """A line that cannot go in, with the reason a person reads."""


def describe(messages) -> str:
    """marshmallow's nested messages as one line: ``field: words; field: words``."""
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in flatten_errors(messages).items())


def reason(error: Exception) -> str:
    """The words of a refusal, with the fields a service named."""
    if isinstance(error, ma.ValidationError):
        return describe(error.messages)
    errors = getattr(error, "extra", {}).get("errors") if isinstance(error, ServiceError) else None
    if errors:
        return describe(errors)
    return getattr(error, "message", None) or str(error)


#: The exceptions that make a line bad rather than the import broken.
BAD_LINE = (ma.ValidationError, LineError, ServiceError, orjson.JSONDecodeError, ValueError)


def _text_limits(table, columns: tuple[str, ...]) -> tuple[tuple[int, str, int], ...]:
    """(position, column, length) of each length-limited text column."""
    return tuple((i, name, table.c[name].type.length) for i, name in enumerate(columns)
                 if getattr(table.c[name].type, "length", None) is not None)


def _datetime_positions(table, columns: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(i for i, name in enumerate(columns) if isinstance(table.c[name].type, UTCDateTime))


@dataclass(frozen=True)
class RowFormat:
    """How rows are laid out for the driver: column order, and timestamps converted by ``to_db``."""

    to_db: Callable[[datetime], object]
    dossier_times: tuple[int, ...] = _datetime_positions(Dossier.__table__, DOSSIER_COLUMNS)
    step_times: tuple[int, ...] = _datetime_positions(Step.__table__, STEP_COLUMNS)
    dossier_texts: tuple[tuple[int, str, int], ...] = _text_limits(Dossier.__table__, DOSSIER_COLUMNS)
    step_texts: tuple[tuple[int, str, int], ...] = _text_limits(Step.__table__, STEP_COLUMNS)

    def convert(self, values: list, times: tuple[int, ...], memo: dict) -> tuple:
        """The row with its timestamps in the driver's form.

        ``memo`` keeps the values converted for this chunk: equal instants (intake,
        effective intake and submission; deadline and appointment; the import's own
        time) are converted once and sent to the main process as one object.
        """
        to_db = self.to_db
        for i in times:
            value = values[i]
            if value is not None:
                converted = memo.get(value)
                if converted is None:
                    converted = memo[value] = to_db(value)
                values[i] = converted
        return tuple(values)


@dataclass
class ImportContext:
    """What dossier lines refer to, as it stands when they are read."""

    rules: Deadlines
    agencies: dict[str, int]
    procedures: dict[str, tuple[int, int, str]]
    payment_pauses: bool
    layout: RowFormat
    now: datetime = field(default_factory=utcnow)
    #: Procedure code -> online level (``tracker.domain.service_levels``).
    online_levels: dict[str, str] = field(default_factory=dict)


class PreparedDossier(NamedTuple):
    """A good dossier line, ready to write (a tuple: it crosses from the workers by the thousand)."""

    number: int
    code: str
    row: tuple
    steps: list[tuple]
    # The steps as the audit seal reads them (``seals.encode_step``), encoded here, in the workers.
    sealed: bytes
    # (agency id, day, number) when the code follows the national pattern of a known agency.
    counter: tuple[int, date, int] | None
    # (agency id, procedure id, channel) and what its steps add to the counters of each day.
    cell: tuple[int, int, str]
    deltas: dict[date, list[int]]
    # The evaluation's row (``EVALUATION_COLUMNS``), if the dossier was evaluated.
    evaluation: tuple | None = None


@dataclass
class PreparedChunk:
    """What ``prepare_chunk`` made of its lines."""

    dossiers: list[PreparedDossier] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def prepare_chunk(lines: list[tuple[int, bytes | str]], ctx: ImportContext) -> PreparedChunk:
    """Validate numbered dossier lines; the good ones become rows, the bad ones errors."""
    out = PreparedChunk()
    memo: dict = {}
    for number, line in lines:
        try:
            out.dossiers.append(prepare_line(number, line, ctx, memo))
        except BAD_LINE as bad:
            out.errors.append((number, reason(bad)))
    return out


def parse_line(line: bytes | str) -> dict:
    """A line's record: a JSON object without NUL characters (which PostgreSQL cannot store)."""
    record = orjson.loads(line)
    if not isinstance(record, dict):
        raise LineError("A line must be a JSON object.")
    # JSON can only carry a NUL escaped, so the scan is needed only when the escape is there.
    nul = nul_fields(record) if (b"\\u0000" if isinstance(line, bytes) else "\\u0000") in line else None
    if nul:
        raise LineError(f"{', '.join(nul)}: must not contain the NUL character (U+0000).")
    return record


def prepare_line(number: int, line: bytes | str, ctx: ImportContext, memo: dict | None = None) -> PreparedDossier:
    """One dossier line, validated like the API, as rows; raises one of ``BAD_LINE``.

    ``memo`` shares equal timestamps and days between the lines of a chunk (``RowFormat.convert``).
    """
    memo = {} if memo is None else memo
    record = parse_line(line)
    if record.get("type") != "dossier":  # it began with "type": "dossier", and said another type later
        raise LineError("type: given more than once.")
    data = load_dossier(record) or dossier_loader.load(record)
    code = normalize_dossier_code(data["code"])
    agency_id = ctx.agencies.get(data["agency_code"])
    if agency_id is None:
        raise LineError(f"agency_code: no agency has the code {data['agency_code']}.")
    procedure = ctx.procedures.get(data["procedure_code"])
    if procedure is None:
        raise LineError(f"procedure_code: no procedure has the code {data['procedure_code']}.")
    procedure_id, value, unit = procedure
    if data.get("time_limit"):
        value, unit = data["time_limit"]["value"], data["time_limit"]["unit"]
    online_level = data.get("online_level") or ctx.online_levels.get(data["procedure_code"], NONE)
    clock_row, steps, deltas = _replay(data, TimeLimit(value, unit), ctx, agency_id, online_level)
    evaluation = _evaluation(data.get("evaluation"), clock_row, ctx, deltas)
    clock_row.update(code=code, online_level=online_level, agency_id=agency_id, procedure_id=procedure_id, channel=data["channel"],
                     note=data.get("note"), limit_value=value, limit_unit=unit, version=len(steps),
                     created_at=ctx.now, updated_at=ctx.now,
                     **(APPLICANT_NONE | applicant_columns(data["applicant"])))
    layout = ctx.layout
    row = [clock_row[name] for name in DOSSIER_COLUMNS]
    _check_lengths(row, layout.dossier_texts, "")
    step_rows = []
    for index, step in enumerate(steps):  # index 0 is the intake, not one of the record's steps
        values = [step.get(name) for name in STEP_COLUMNS]
        if index:
            _check_lengths(values, layout.step_texts, f"steps[{index}].")
        step_rows.append(layout.convert(values, layout.step_times, memo))
    sealed = b"".join(encode_step(code, [values[i] for i in SEALED_AT]) for values in step_rows)
    parsed = parse_dossier_code(code)
    counter = None
    if parsed is not None and parsed[0] in ctx.agencies:
        # The number belongs to the agency the code names (the one next_code would write),
        # even in the odd legacy record whose receiving agency is another one.
        counter = (ctx.agencies[parsed[0]], parsed[1], parsed[2])
    return PreparedDossier(number=number, code=code, row=layout.convert(row, layout.dossier_times, memo),
                           steps=step_rows, sealed=sealed, counter=counter, cell=(agency_id, procedure_id, data["channel"]),
                           deltas=_by_day(deltas, memo),
                           evaluation=layout.convert(evaluation, EVALUATION_TIMES, memo) if evaluation else None)


#: The evaluation columns the import writes (after the dossier's id), and where its times are.
EVALUATION_COLUMNS = ("overall", "criteria", "comment", "first_given_at", "given_at")
EVALUATION_TIMES = (3, 4)


def _evaluation(given: dict | None, row: dict, ctx: ImportContext, deltas: list) -> list | None:
    """The evaluation's row, counted on the resolution day as the live path counts it."""
    if not given:
        return None
    if row["status"] not in EVALUABLE:
        raise LineError(f"evaluation: a dossier in status {row['status']} cannot have been evaluated.")
    if given["given_at"] < given["first_given_at"]:
        raise LineError("evaluation.given_at: must not be before first_given_at.")
    if row["accepted_at"] is not None:
        deltas.append(rules_of.evaluation_deltas(row["finished_at"], None, given["overall"], ctx.rules))
    return [given["overall"], orjson.dumps(given.get("criteria") or {}).decode(), given.get("comment"),
            given["first_given_at"], given["given_at"]]


def _by_day(deltas: list[dict[date, list[int]]], memo: dict) -> dict[date, list[int]]:
    """The steps' deltas summed per day, each day one shared object (``memo``)."""
    total: dict[date, list[int]] = {}
    for step in deltas:
        for day, vector in step.items():
            rules_of.accumulate(total, memo.setdefault(day, day), vector)
    return total


def _check_lengths(values: list, limits: tuple[tuple[int, str, int], ...], prefix: str) -> None:
    """Text that outgrew its column in normalisation (NFC can lengthen a few scripts) is a bad line, not a crash."""
    for i, name, length in limits:
        value = values[i]
        if value is not None and len(value) > length:
            raise LineError(f"{prefix}{name.replace('applicant_', 'applicant.')}: longer than {length} characters "
                            "once normalised (Unicode NFC).")


def _replay(data: dict, limit: TimeLimit, ctx: ImportContext, agency_id: int,
            online_level: str) -> tuple[dict, list[dict], list[dict[date, list[int]]]]:
    """Validate a dossier's history through the state machine.

    Gives its clock columns, its step rows and the counter deltas of each step (as the
    live path adds them, ``statistics.on_step``).
    """
    status = data.get("status") or Status.ACCEPTED
    first_at = data.get("accepted_at") if status == Status.ACCEPTED else data.get("submitted_at")
    if first_at is None and status == Status.REGISTERED and data["steps"]:
        first_at = data["steps"][0]["at"]
    if first_at is None:
        name = "accepted_at" if status == Status.ACCEPTED else "submitted_at"
        raise LineError(f"{name}: required to import a dossier in status {status}.")
    rules = ctx.rules
    clock = progress.DossierClock(status=Status.REGISTERED, limit=limit)
    deltas = []
    if status == Status.ACCEPTED:
        before = clock.snapshot()
        progress.apply(clock, Action.ACCEPT, first_at, rules)
        deltas.append(rules_of.step_deltas(before, clock, first_at, rules))
    handling = agency_id
    steps = [{"seq": 1, "action": Action.ACCEPT.value if status == Status.ACCEPTED else REGISTER,
              "status_before": None, "status_after": clock.status, "at": first_at, "agency_id": agency_id,
              "note": data.get("note"), "recorded_at": ctx.now,
              "digitized": data.get("digitized") if status == Status.ACCEPTED else None}]
    flags = Flags(online_capable=online_level in ONLINE_CAPABLE, digitized=bool(data.get("digitized")),
                  paid=bool(data.get("paid_online")), paid_online=bool(data.get("paid_online")))
    previous = first_at
    for number, step in enumerate(data["steps"], start=1):
        at = step["at"]
        try:
            progress.check_step(step["action"], at, previous, ctx.now, hands_off=bool(step.get("to_agency_code")))
        except progress.StepRefused as refused:
            raise LineError(f"steps[{number}].{refused.field}: {refused.message}") from refused
        to_agency_id = None
        if step.get("to_agency_code"):
            to_agency_id = ctx.agencies.get(step["to_agency_code"])
            if to_agency_id is None:
                raise LineError(f"steps[{number}].to_agency_code: no agency has the code {step['to_agency_code']}.")
        wrong_flags = step_flag_errors(step["action"], step)
        if wrong_flags:
            raise LineError(f"steps[{number}]: {describe(wrong_flags)}")
        before = clock.snapshot()
        try:
            progress.apply(clock, step["action"], at, rules, step, payment_pauses=ctx.payment_pauses)
        except TransitionRefused as refused:
            raise LineError(f"steps[{number}]: '{step['action']}' is not allowed in status '{before.status}' "
                            f"(allowed: {', '.join(refused.allowed)}).") from refused
        except MissingFields as missing:
            raise LineError(f"steps[{number}]: {describe(missing.errors)}") from missing
        except progress.BadAppointment as bad:
            raise LineError(f"steps[{number}].new_appointment_at: {bad}") from bad
        if clock.accepted_at is not None:
            deltas.append(rules_of.step_deltas(before, clock, at, rules))
        steps.append({"seq": number + 1, "action": step["action"], "status_before": before.status,
                      "status_after": clock.status, "at": at, "agency_id": handling, "to_agency_id": to_agency_id,
                      "recorded_at": ctx.now, **{k: step.get(k) for k in STEP_FIELDS},
                      **step_flag_columns(step)})
        flags = apply_step_flags(flags, step["action"], step)
        handling = to_agency_id or handling
        previous = at
    if first_at > ctx.now + progress.CLOCK_SKEW:
        raise LineError("The dossier's first time is in the future.")
    if clock.accepted_at is not None:
        deltas.append(rules_of.history_flag_deltas(clock, flags, rules))
    row = {name: getattr(clock, name) for name in CLOCK_FIELDS}
    row.update(handling_agency_id=handling, submitted_at=data.get("submitted_at") or first_at,
               digitized=flags.digitized, paid_online=flags.paid_online, electronic_result=flags.electronic_result)
    return row, steps, [d for d in deltas if d]
