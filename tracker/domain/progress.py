"""How each step moves a dossier's clock: acceptance, pauses, apologies, finish, timeliness.

``DossierClock`` holds the deadline-related facts of one dossier; ``apply``
advances it by one step. The API, the importer and the statistics all replay
steps through this one function, so a dossier gets the same dates whichever
way it arrived.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping

from tracker.domain.deadlines import Deadlines, TimeLimit
from tracker.domain.statuses import Status
from tracker.domain.workflow import Action, next_status

OPEN = frozenset({Status.ACCEPTED, Status.PROCESSING, Status.SUPPLEMENT_REQUESTED, Status.PAYMENT_REQUESTED})


#: A client clock a little ahead of ours is not "the future".
CLOCK_SKEW = timedelta(seconds=5)

#: The optional fields a step carries besides its action and time.
STEP_FIELDS = ("handler", "note", "public_note", "reason", "result", "new_appointment_at")


class BadAppointment(ValueError):
    """An apology must promise a later date than the current appointment."""


class StepRefused(ValueError):
    """A step that may not be appended as given; ``field`` names the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def check_step(action: str, at: datetime, previous_at: datetime | None, now: datetime,
               hands_off: bool = False) -> None:
    """Refuse a step that is in the future, earlier than the step before it, or a hand-off
    that is not a ``process`` step (``StepRefused``); the API and the importer both ask here."""
    if hands_off and action != Action.PROCESS:
        raise StepRefused("to_agency_code", "Only a 'process' step hands a dossier to another agency.")
    if at > now + CLOCK_SKEW:
        raise StepRefused("at", "Must not be in the future.")
    if previous_at is not None and at < previous_at:
        raise StepRefused("at", f"Must not be earlier than the previous step ({previous_at.isoformat()}).")


@dataclass
class DossierClock:
    """The dates of one dossier that the steps move."""

    status: str
    limit: TimeLimit
    accepted_at: datetime | None = None
    effective_intake_at: datetime | None = None
    due_at: datetime | None = None
    appointment_at: datetime | None = None
    finished_at: datetime | None = None
    returned_at: datetime | None = None
    withdrawn_at: datetime | None = None
    paused_at: datetime | None = None
    paused_days: int = 0
    supplement_count: int = 0
    result: str | None = None
    timeliness: str | None = None
    pauses: list[tuple[datetime, datetime]] = field(default_factory=list)

    def snapshot(self) -> DossierClock:
        """A copy to compare with after a step; cheaper than ``copy.copy`` over millions of replayed steps."""
        twin = object.__new__(DossierClock)
        twin.__dict__.update(self.__dict__)
        twin.pauses = list(self.pauses)  # the one field a step changes in place
        return twin


def accept(clock: DossierClock, at: datetime, rules: Deadlines) -> None:
    """Start the clock: effective intake after the cut-off, and the legal deadline."""
    clock.accepted_at = at
    clock.effective_intake_at = rules.effective_intake(at)
    clock.due_at = rules.due(clock.effective_intake_at, clock.limit)
    clock.appointment_at = clock.due_at


def pause_extension(clock: DossierClock, until: datetime, rules: Deadlines) -> int:
    """What the current pause adds to the deadline if it ended at ``until``.

    The pause counts from the later of its request and the effective intake
    (docs/rules.md#pauses), so the clock needs ``effective_intake_at``.
    """
    if clock.paused_at is None or until <= clock.paused_at:
        return 0
    return rules.pause_extension(clock.limit, clock.paused_at, until, clock.effective_intake_at)


def _resume(clock: DossierClock, at: datetime, rules: Deadlines) -> None:
    if clock.paused_at is None:
        return
    amount = pause_extension(clock, at, rules)
    clock.due_at = rules.extend(clock.due_at, clock.limit, amount)
    clock.appointment_at = rules.extend(clock.appointment_at, clock.limit, amount)
    # Processing days count after the effective intake day too: the same start keeps them apart.
    clock.paused_days += rules.paused_working_days(rules.pause_start(clock.paused_at, clock.effective_intake_at), at)
    clock.pauses.append((clock.paused_at, at))
    clock.paused_at = None


def _finish(clock: DossierClock, at: datetime, rules: Deadlines) -> None:
    _resume(clock, at, rules)
    clock.finished_at = at
    clock.timeliness = rules.timeliness(at, clock.due_at, clock.limit, clock.supplement_count)


def apply(clock: DossierClock, action: str, at: datetime, rules: Deadlines,
          fields: Mapping[str, object] | None = None, payment_pauses: bool = True) -> str:
    """Apply one step at ``at``; returns the new status.

    Raises ``workflow.TransitionRefused`` / ``workflow.MissingFields`` for a step
    the state machine refuses, and ``BadAppointment`` for an apology that does
    not move the appointment later. Nothing is changed when it raises.
    """
    fields = fields or {}
    new_status = next_status(clock.status, action, fields)
    if action == Action.APOLOGIZE:
        new_appointment = fields["new_appointment_at"]
        if clock.appointment_at is not None and new_appointment <= clock.appointment_at:
            raise BadAppointment("new_appointment_at must be later than the current appointment.")
        clock.appointment_at = new_appointment
    elif action == Action.ACCEPT:
        accept(clock, at, rules)
    elif action == Action.REQUEST_SUPPLEMENT:
        clock.supplement_count += 1
        clock.paused_at = at
    elif action == Action.REQUEST_PAYMENT and payment_pauses:
        clock.paused_at = at
    elif action in (Action.RECEIVE_SUPPLEMENT, Action.RECEIVE_PAYMENT):
        _resume(clock, at, rules)
    elif action == Action.COMPLETE:
        clock.result = str(fields["result"])
        _finish(clock, at, rules)
    elif action == Action.STOP:
        _finish(clock, at, rules)
    elif action == Action.WITHDRAW:
        _resume(clock, at, rules)
        clock.withdrawn_at = at
    elif action == Action.RETURN_RESULT:
        clock.returned_at = at
        if clock.finished_at is None:
            _finish(clock, at, rules)
    clock.status = new_status
    return new_status


def current_due(clock: DossierClock, at: datetime, rules: Deadlines) -> datetime | None:
    """The deadline as it stands at ``at``: moved by a pause still running."""
    if clock.due_at is None:
        return None
    return rules.extend(clock.due_at, clock.limit, pause_extension(clock, at, rules))


def is_overdue(clock: DossierClock, at: datetime, rules: Deadlines) -> bool:
    """Whether an accepted, unfinished dossier has passed its deadline at ``at``."""
    if clock.status not in OPEN or clock.due_at is None:
        return False
    return rules.overdue(at, current_due(clock, at, rules), clock.limit)
