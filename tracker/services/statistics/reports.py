"""Reading the counters: the report of a period, its filters and its groups.

**Reading them.** A report for the local days [from, to] needs, per group:

- carried over = Σ (received − resolved − withdrawn) over every day before ``from``;
- the flows = Σ received (by channel), resolved (by timeliness), withdrawn and
  processing days over [from, to];
- pending = carried over + received − resolved − withdrawn;
- overdue = Σ of the overdue deltas up to the judging day, plus, when that day is
  not a working day, Σ of the "overdue on days off" deltas (a running pause whose
  deadline fell on its request day, see ``overdue_profile``).

Each Σ is a few ranges of cells (years, months, days; ``range_cells``, and for the
cumulative ones ``cumulative_cells``, which may take whole years and subtract the
months and days after the day), so a yearly report reads a few rows per agency and
channel whatever the number of dossiers: three grouped queries, and past periods never
touch the dossier table.

**What "judged at the end of ``to``" means.** For a period that ended before today,
exactly that: each dossier's state after its steps of that day, judged at the last
instant of the day. A period that reaches today or later is judged *now*: only the
instants up to now have happened, and the rule book's test is about an instant, so a
dossier due later today (working-hour limits) is still within its deadline, and one
that will be overdue next month is not overdue yet. The counters hold the answer for
the end of today; the few open working-hour dossiers whose answer differs now (due
later today, found by the indexed deadline, or waiting for the applicant, found by
the indexed status) are read from the dossier table in one small query
(``_judged_now``). Flows in the future are simply those recorded so far (none).

A dossier counts for the agency that received it (``agency_id``, its code's agency),
whoever handles it later: received, resolved and pending then always add up.
"""
from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable, Iterable, TypeVar

import orjson
from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, case, false, func, literal, or_, select, union_all

from tracker.domain import progress
from tracker.domain.agencies import AgencyTree
from tracker.domain import statistics as rules_of
from tracker.domain.messages import N_
from tracker.domain.deadlines import HOURS, Deadlines, TimeLimit
from tracker.domain.statistics import Counters, Period
from tracker.domain.service_levels import ONLINE_LEVELS, online_level_label
from tracker.domain.statuses import CHANNEL_CODES, Channel, channel_label, normalize_language
from tracker.domain.workflow import PAUSED_STATUSES
from tracker.extensions import db
from tracker.models import Agency, Dossier, Procedure
from tracker.models.statistics import StatAgencyCell, StatCell, StatProcedureCell
from tracker.models.types import utcnow
from tracker.services.calendar import deadlines
from tracker.services.statistics import answers
from tracker.services.reference import agency_tree
from tracker.services.replica import public_read
from tracker.services.errors import Invalid

T = TypeVar("T")

_fine = StatCell.__table__
_coarse = StatAgencyCell.__table__
_by_procedure = StatProcedureCell.__table__


@dataclass
class Query:
    """A report request whose values all exist (see ``resolve``).

    ``agency`` and ``procedure`` are rows with ``id``, ``code`` and ``name``.
    """

    period: Period
    agency: object | None = None
    procedure: object | None = None
    field: str | None = None
    channel: str | None = None
    group_by: str | None = None
    min_resolved: int | None = None
    lang: str = "vi"


def resolve(args: dict, lang: str = "vi") -> Query:
    """Turn parsed query arguments into a ``Query``; ``Invalid`` (422) for what does not exist.

    ``args`` may hold ``period`` or ``from_`` and ``to`` (dates), ``agency``,
    ``procedure``, ``field``, ``channel``, ``group_by`` and ``min_resolved``.
    Without a period, the report covers the current year. Read from the replica when
    one is configured, as is ``report``.
    """
    return public_read(_remembered_resolve, args, lang)


def _remembered_resolve(args: dict, lang: str) -> Query:
    if not (args.get("period") or args.get("from_") or args.get("to")):
        return _resolve(args, lang)  # the current year's: it changes on New Year's Day
    key = ("query", tuple(sorted((name, str(value)) for name, value in args.items() if value is not None)), lang)
    return answers.remembered(key, lambda: _resolve(args, lang))


def _resolve(args: dict, lang: str) -> Query:
    errors: dict[str, list[str]] = {}
    period = None
    try:
        if args.get("period"):
            if args.get("from_") or args.get("to"):
                raise rules_of.PeriodError("period", N_("Give either period or from and to, not both."))
            period = rules_of.parse_period(args["period"])
        elif args.get("from_") or args.get("to"):
            if not (args.get("from_") and args.get("to")):
                missing = "to" if args.get("from_") else "from"
                raise rules_of.PeriodError(missing, N_("Give both from and to (dates, YYYY-MM-DD)."))
            period = rules_of.explicit_period(args["from_"], args["to"])
        else:
            year = deadlines().local(utcnow()).year
            period = Period(date(year, 1, 1), date(year, 12, 31))
    except rules_of.PeriodError as bad:
        errors[bad.field] = [" ".join(m.translated(gettext) for m in bad.messages)]
    query = Query(period=period, channel=args.get("channel"), group_by=args.get("group_by"),
                  min_resolved=args.get("min_resolved"), lang=normalize_language(lang))
    if args.get("agency"):
        query.agency = db.session.execute(select(Agency.id, Agency.code, Agency.name)
                                          .where(Agency.code == args["agency"].strip())).first()
        if query.agency is None:
            errors["agency"] = [gettext("No agency has the code %(code)s.", code=args["agency"])]
    if args.get("procedure"):
        query.procedure = db.session.execute(select(Procedure.id, Procedure.code, Procedure.name)
                                             .where(Procedure.code == args["procedure"].strip())).first()
        if query.procedure is None:
            errors["procedure"] = [gettext("No procedure has the code %(code)s.", code=args["procedure"])]
    if args.get("field"):
        query.field = args["field"].strip()
        if db.session.scalar(select(Procedure.id).where(Procedure.field == query.field).limit(1)) is None:
            errors["field"] = [gettext("No procedure belongs to the field '%(field)s'.", field=query.field)]
    if query.channel is not None and query.channel not in {c.value for c in Channel}:
        errors["channel"] = [gettext("Must be one of: %(choices)s.", choices="direct, online, postal")]
    if query.group_by is not None and query.group_by not in rules_of.GROUP_BY:
        errors["group_by"] = [gettext("Must be one of: %(choices)s.", choices=", ".join(rules_of.GROUP_BY))]
    if (period is not None and query.group_by == "month"
            and len(rules_of.month_periods(period)) > rules_of.MAX_MONTH_GROUPS):
        errors["group_by"] = [gettext("Grouping by month covers at most %(n)s months.",
                                       n=rules_of.MAX_MONTH_GROUPS)]
    if errors:
        raise Invalid(errors, gettext("The statistics request names a period or a filter that does not exist."))
    return query


@dataclass
class _Plan:
    """How one report reads the cells: which table, which filters, which SQL expression is the group.

    ``key`` is None without grouping; ``group_of`` maps a value of ``key`` (and, for the
    open-dossier query, an agency id, procedure id or channel) to the group.
    """

    table: object
    conditions: list
    key: object | None
    group_of: Callable[[object], object]
    source: str | None = None  # the dossier column behind the key: agency, procedure or channel
    constant: object | None = None  # the only group, when there is just one
    #: What the SQL depends on besides the dates (table, filters' values, key), to reuse statements.
    signature: tuple = ()


def _identity(key):
    return key


def _plan(query: Query, tree: AgencyTree) -> _Plan:
    procedure_ids = None
    if query.procedure is not None:
        procedure_ids = {query.procedure.id}
    if query.field is not None:
        field_ids = set(db.session.scalars(select(Procedure.id).where(Procedure.field == query.field)))
        procedure_ids = field_ids if procedure_ids is None else procedure_ids & field_ids
    by_procedure = procedure_ids is not None or query.group_by in ("procedure", "field", "online_level")
    by_agency = query.agency is not None or query.group_by == "agency"
    # The narrowest table that has every column the report filters or groups by.
    table = (_fine if by_procedure and by_agency else _by_procedure if by_procedure else _coarse)
    scope = tree.subtree(query.agency.id) if query.agency is not None else None
    plan = _filtered(table, scope if scope is not None and len(scope) < len(tree.by_id) else None,
                     procedure_ids, query.channel)
    plan.source = {"agency": "agency", "procedure": "procedure", "field": "procedure",
                   "channel": "channel", "online_level": "procedure"}.get(query.group_by)
    if query.group_by == "agency":
        groups = tree.group_of(query.agency.id if query.agency else None)
        inside = {a: g for a, g in groups.items() if scope is None or a in scope}
        if len(set(inside.values())) == 1:
            # One group (a city with a single top-level agency, or a leaf): nothing to split in SQL.
            plan.group_of, plan.constant = inside.get, next(iter(inside.values()))
            return plan
        # One row per agency (a few hundred at most), added up into the groups here.
        return _keyed(plan, "agency_id", inside.get)
    if query.group_by == "procedure":
        return _keyed(plan, "procedure_id")
    if query.group_by == "field":
        return _keyed(plan, "procedure_id", dict(db.session.execute(select(Procedure.id, Procedure.field)).all()).get)
    if query.group_by == "channel":
        return _keyed(plan, "channel")
    if query.group_by == "online_level":
        # The procedure's level now, as the field is its field now (the online rate itself
        # counts each dossier with the level it was received with).
        return _keyed(plan, "procedure_id",
                      dict(db.session.execute(select(Procedure.id, Procedure.online_level)).all()).get)
    return plan


def _filtered(table, scope: set | None, procedure_ids: set | None, channel: str | None) -> _Plan:
    """The plan's table and filters, not yet grouped (``group_of`` gives every row to None)."""
    conditions, signature = [], [table.name]
    if scope is not None:
        conditions.append(table.c.agency_id.in_(sorted(scope)))
        signature.append(("agency", tuple(sorted(scope))))
    if procedure_ids is not None:
        conditions.append(table.c.procedure_id.in_(sorted(procedure_ids)) if procedure_ids else false())
        signature.append(("procedure", tuple(sorted(procedure_ids))))
    if channel is not None:
        conditions.append(table.c.channel == channel)
        signature.append(("channel", channel))
    return _Plan(table, conditions, None, lambda key: None, signature=tuple(signature))


def _keyed(plan: _Plan, column: str, group_of: Callable[[object], object] = _identity) -> _Plan:
    """Group the plan's rows by ``column``, each value to the group ``group_of`` gives it."""
    plan.group_of = group_of
    plan.key = plan.table.c[column]
    plan.signature += (("key", column),)
    return plan


def _in_range(table, first: date, last: date):
    """The cells covering the days [first, last]."""
    cells = rules_of.range_cells(first, last)
    if not cells:
        return false()
    return or_(*[and_(table.c.grain == grain, table.c.start.between(lo, hi)) for grain, lo, hi in cells])


def _cumulative(table, last: date):
    """(condition, sign) for the cells whose signed sum covers every day up to ``last``."""
    cells = rules_of.cumulative_cells(last)
    condition = or_(*[and_(table.c.grain == grain, table.c.start.between(lo, hi)) for grain, lo, hi, _ in cells])
    negative = [grain for grain, *_, sign in cells if sign < 0]
    sign = case((table.c.grain.in_(negative), -1), else_=1) if negative else 1
    return condition, sign


#: The service-level flows (docs/rules.md#rates) read after the eight II.06a flows, as ``Counters`` names them.
_SERVICE_FLOWS = ("online_capable", "online_capable_online", "digitized", "paid", "paid_online", "completed",
                  "electronic_result", "very_satisfied", "satisfied", "dissatisfied")
_WIDTH = 8 + len(_SERVICE_FLOWS)  # values per row of the report query (the flows need them all)


def _service_flows(t) -> list:
    """The SQL of each of ``_SERVICE_FLOWS``: a column, or the online share of ``online_capable``."""
    return [case((t.c.channel == "online", t.c.online_capable), else_=0) if name == "online_capable_online"
            else t.c[name] for name in _SERVICE_FLOWS]


def _part(plan: _Plan, number: int, condition, columns: list):
    """One grouped SELECT of the report query: (part, group key, sums padded to _WIDTH)."""
    sums = [func.sum(c) for c in columns] + [literal(0)] * (_WIDTH - len(columns))
    key = plan.key if plan.key is not None else literal(None)
    statement = select(literal(number).label("part"), key.label("group_key"),
                       *[value.label(f"v{i}") for i, value in enumerate(sums)]).where(condition, *plan.conditions)
    return statement.group_by(plan.key) if plan.key is not None else statement


def _statement(plan: _Plan, period: Period, judged: date):
    """The report query of ``_figures``: carried over, flows and overdue, in three grouped parts."""
    t = plan.table
    carried_cells, carried_sign = _cumulative(t, period.start - timedelta(days=1))
    overdue_cells, overdue_sign = _cumulative(t, judged)
    flows = [*[case((t.c.channel == channel, t.c.received), else_=0) for channel in ("online", "direct", "postal")],
             t.c.early, t.c.on_time, t.c.late, t.c.withdrawn, t.c.processing_days, *_service_flows(t)]
    return union_all(
        _part(plan, 0, carried_cells, [(t.c.received - t.c.early - t.c.on_time - t.c.late - t.c.withdrawn)
                                       * carried_sign]),
        _part(plan, 1, _in_range(t, period.start, period.end), flows),
        _part(plan, 2, overdue_cells, [t.c.overdue * overdue_sign, t.c.overdue_nonworking * overdue_sign]))


class _StatementCache:
    """The last statements built, by what they depend on: building one costs more than running it.

    A report by month builds thirteen, the same ones for every request on the same
    period; a statement holds only its table, filters' values and dates, never a row.
    """

    def __init__(self, size: int):
        self.size = size
        self.lock = threading.Lock()
        self.entries: OrderedDict = OrderedDict()

    def get(self, key):
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key, statement):
        with self.lock:
            self.entries[key] = statement
            if len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return statement


_statements = _StatementCache(512)


def _figures(plan: _Plan, period: Period, today: date, rules: Deadlines,
             judged_now: dict | None) -> dict[object, Counters]:
    """The counters of each group for one period (see the module docstring).

    One query of three grouped parts: the cells before ``from`` (carried over), the
    cells of [from, to] (flows), and the cells up to the judging day (overdue).
    """
    judged = rules_of.judge_day(period.end, today)
    signature = (plan.signature, period.start, period.end, judged)
    statement = _statements.get(signature)
    if statement is None:
        statement = _statements.put(signature, _statement(plan, period, judged))
    off = not rules.calendar.is_working_day(judged)
    result: dict[object, Counters] = defaultdict(Counters)
    for part, key, *values in db.session.execute(statement).all():
        values = [int(v or 0) for v in values]
        if not any(values):
            continue
        counters = result[plan.group_of(key) if plan.key is not None else plan.constant]
        if part == 0:
            counters.carried_over += values[0]
        elif part == 1:
            counters.online += values[0]
            counters.direct += values[1]
            counters.postal += values[2]
            counters.early += values[3]
            counters.on_time += values[4]
            counters.late += values[5]
            counters.withdrawn += values[6]
            counters.processing_days += values[7]
            for name, value in zip(_SERVICE_FLOWS, values[8:]):
                setattr(counters, name, getattr(counters, name) + value)
        else:
            counters.overdue += values[0] + (values[1] if off else 0)
    if judged == today and judged_now:
        for key, change in judged_now.items():
            result[key].overdue += change
    for counters in result.values():
        counters.pending = (counters.carried_over + counters.online + counters.direct + counters.postal
                            - counters.resolved_total - counters.withdrawn)
    return result


def _judged_now(query: Query, plan: _Plan, tree: AgencyTree, now: datetime, rules: Deadlines) -> dict:
    """Per group, how many more (or fewer) dossiers are overdue now than at the end of today.

    Only open dossiers with working-hour limits can differ: those due later today
    (found by the indexed deadline; at most a day's worth) and those waiting for the
    applicant (found by their indexed status; few). One small query on open dossiers.
    """
    d = Dossier.__table__
    today = rules.local(now).date()
    tomorrow = datetime.combine(today + timedelta(days=1), time(0), tzinfo=rules.hours.tz)
    columns = (d.c.agency_id, d.c.procedure_id, d.c.channel, d.c.status, d.c.limit_value, d.c.limit_unit,
               d.c.due_at, d.c.paused_at, d.c.effective_intake_at)
    filters = [d.c.limit_unit == HOURS, d.c.due_at < tomorrow]
    due_later_today = select(*columns).where(d.c.due_at >= now, d.c.paused_at.is_(None), *filters)
    paused = select(*columns).where(d.c.status.in_(sorted(str(s) for s in PAUSED_STATUSES)),
                                    d.c.paused_at.is_not(None), *filters)
    # The report's filters are applied to these few rows here: in SQL they could lead the
    # planner to a wider index (all the dossiers of an agency).
    scope = tree.subtree(query.agency.id) if query.agency is not None else None
    procedures = None
    if query.procedure is not None:
        procedures = {query.procedure.id}
    if query.field is not None:
        in_field = set(db.session.scalars(select(Procedure.id).where(Procedure.field == query.field)))
        procedures = in_field if procedures is None else procedures & in_field
    end_of_today = rules_of.end_of_day(today, rules.hours.tz)
    changes: dict = defaultdict(int)
    for row in db.session.execute(union_all(due_later_today, paused)):
        if (row.status not in progress.OPEN or (scope is not None and row.agency_id not in scope)
                or (procedures is not None and row.procedure_id not in procedures)
                or (query.channel is not None and row.channel != query.channel)):
            continue
        clock = progress.DossierClock(status=row.status, limit=TimeLimit(row.limit_value, row.limit_unit),
                                      due_at=row.due_at, paused_at=row.paused_at,
                                      effective_intake_at=row.effective_intake_at)
        change = int(progress.is_overdue(clock, now, rules)) - int(progress.is_overdue(clock, end_of_today, rules))
        if not change:
            continue
        source = {"agency": row.agency_id, "procedure": row.procedure_id, "channel": row.channel}.get(plan.source)
        changes[plan.group_of(source) if plan.source is not None else None] += change
    return changes


_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")


def _month_name(start: date, lang: str) -> str:
    if lang == "en":
        return f"{_EN_MONTHS[start.month - 1]} {start.year}"
    return f"Tháng {start.month:02d}/{start.year}"


def _group_labels(query: Query, tree: AgencyTree, keys: Iterable) -> list[tuple[object, str, str]]:
    """(group key, public key, name) for each group, in display order."""
    keys = [k for k in keys if k is not None]
    if query.group_by == "agency":
        rows = [tree.by_id[k] for k in keys]
        return [(row.id, row.code, row.name) for row in sorted(rows, key=lambda r: r.code)]
    if query.group_by == "procedure":
        rows = db.session.execute(select(Procedure.id, Procedure.code, Procedure.name)
                                  .where(Procedure.id.in_(keys))).all() if keys else []
        return [(row.id, row.code, row.name) for row in sorted(rows, key=lambda r: r.code)]
    if query.group_by == "field":
        return [(k, k, k) for k in sorted(keys)]
    if query.group_by == "channel":
        return [(k, k, channel_label(k, query.lang)) for k in sorted(keys, key=lambda c: CHANNEL_CODES[Channel(c)])]
    if query.group_by == "online_level":
        return [(k, k, online_level_label(k, query.lang)) for k in sorted(keys, key=ONLINE_LEVELS.index)]
    return []


def report(query: Query, now: datetime | None = None) -> dict:
    """The statistics report, ``{period, filters, totals, groups}`` (docs/api-guide.md#public-endpoints).

    Groups with nothing received (nothing carried over, received, resolved, pending or
    withdrawn) are left out; with ``min_resolved``, so are groups that resolved fewer
    dossiers (totals always cover every dossier the filters select).
    """
    return public_read(_remembered_report, query, now)


def query_key(query: Query) -> tuple:
    """What a report depends on besides the data, as a key (``answers.remembered``)."""
    return (query.period.start, query.period.end, query.agency.id if query.agency else None,
            query.procedure.id if query.procedure else None, query.field, query.channel, query.group_by,
            query.min_resolved, query.lang)


def settled(query: Query, now: datetime) -> bool:
    """Whether the query's period ended before today, so that its report no longer moves with the clock."""
    # The business time zone alone (not the whole calendar, which costs a query).
    return query.period.end < now.astimezone(current_app.config["OFFICE_HOURS"].tz).date()


def remembered_report(kind: str, query: Query, now: datetime | None, compute: Callable[[datetime], T]) -> T:
    """``compute(now)`` (now by default), remembered under ``kind`` and the query while the data
    stays the same, when the query's period is settled (``answers``); call it where the public
    reads go (``public_read``)."""
    now = now or utcnow()
    if not settled(query, now):
        return compute(now)
    return answers.remembered((kind, query_key(query)), lambda: compute(now))


def remembered_json(kind: str, query: Query, now: datetime | None,
                    build: Callable[[Query, datetime], dict]) -> bytes:
    """``build(query, now)`` as JSON bytes, remembered as ``kind.json`` (see ``remembered_report``)."""
    return public_read(remembered_report, f"{kind}.json", query, now, lambda at: orjson.dumps(build(query, at)))


def report_json(query: Query, now: datetime | None = None) -> bytes:
    """``report`` as JSON, the bytes themselves remembered as the report is."""
    return remembered_json("report", query, now, _remembered_report)


def _remembered_report(query: Query, now: datetime | None) -> dict:
    return remembered_report("report", query, now, lambda at: _report(query, at))


def _report(query: Query, now: datetime) -> dict:
    rules = deadlines()
    today = rules.local(now).date()
    tree = agency_tree()
    plan = _plan(query, tree)
    period = query.period
    judged_now = _judged_now(query, plan, tree, now, rules) if period.end >= today else None
    if query.group_by == "month":
        totals = _figures(plan, period, today, rules, judged_now).get(None, Counters())
        labelled = []
        for month in rules_of.month_periods(period):
            counters = _figures(plan, month, today, rules, judged_now if month.end >= today else None)
            labelled.append((rules_of.month_key(month.start), _month_name(month.start, query.lang),
                             counters.get(None, Counters())))
    else:
        figures = _figures(plan, period, today, rules, judged_now)
        totals = Counters()
        for counters in figures.values():
            totals.add(counters)
        labelled = [(public, name, figures[key]) for key, public, name in _group_labels(query, tree, figures)]
    groups = []
    for public, name, counters in labelled:
        if counters.received_total == 0:
            continue
        if query.min_resolved is not None and counters.resolved_total < query.min_resolved:
            continue
        groups.append({"key": public, "name": name, **counters.as_dict()})
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "filters": {"agency": query.agency.code if query.agency else None,
                    "procedure": query.procedure.code if query.procedure else None,
                    "field": query.field, "channel": query.channel, "group_by": query.group_by,
                    "min_resolved": query.min_resolved},
        "totals": totals.as_dict(),
        "groups": groups,
    }
