"""The dossier state machine: which action is allowed from which status, and what it needs.

``RULES`` is a transcription of the actions table (docs/rules.md#actions-and-the-state-machine) and the single source of truth
for the rest of the application; the tests check it against an independently written copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from tracker.domain.statuses import Status, normalize_language

__all__ = [
    "Action",
    "Rule",
    "RULES",
    "ACTION_LABELS",
    "action_label",
    "COMPLETE_RESULTS",
    "TransitionRefused",
    "MissingFields",
    "allowed_actions",
    "next_status",
    "missing_fields",
    "PAUSING_ACTIONS",
    "RESUMING_ACTIONS",
    "PAUSED_STATUSES",
    "FINISHED",
    "CLOSED",
]


class Action(StrEnum):
    """A processing step a clerk can record on a dossier (docs/rules.md#actions-and-the-state-machine)."""

    ACCEPT = "accept"
    REFUSE_INTAKE = "refuse_intake"
    PROCESS = "process"
    REQUEST_SUPPLEMENT = "request_supplement"
    RECEIVE_SUPPLEMENT = "receive_supplement"
    REQUEST_PAYMENT = "request_payment"
    RECEIVE_PAYMENT = "receive_payment"
    COMPLETE = "complete"
    STOP = "stop"
    WITHDRAW = "withdraw"
    RETURN_RESULT = "return_result"
    APOLOGIZE = "apologize"
    COMMENT = "comment"


@dataclass(frozen=True)
class Rule:
    """One row of the actions table.

    ``sources`` is None when the action is allowed from any status; ``target`` is None when the
    action leaves the status unchanged. ``required`` fields must all be given; of
    ``required_any``, at least one must be given (only ``comment`` uses it).
    """

    action: Action
    sources: frozenset[Status] | None
    target: Status | None
    required: tuple[str, ...] = ()
    required_any: tuple[str, ...] = ()


S = Status  # short alias to keep the table below readable

#: The actions table, in the order of the rule book (that order is also the order of allowed lists).
RULES: dict[Action, Rule] = {
    rule.action: rule
    for rule in (
        Rule(Action.ACCEPT, frozenset({S.REGISTERED}), S.ACCEPTED),
        Rule(Action.REFUSE_INTAKE, frozenset({S.REGISTERED}), S.NOT_ACCEPTED, ("reason",)),
        Rule(Action.PROCESS, frozenset({S.ACCEPTED, S.PROCESSING}), S.PROCESSING),
        Rule(
            Action.REQUEST_SUPPLEMENT,
            frozenset({S.ACCEPTED, S.PROCESSING}),
            S.SUPPLEMENT_REQUESTED,
            ("reason",),
        ),
        Rule(Action.RECEIVE_SUPPLEMENT, frozenset({S.SUPPLEMENT_REQUESTED}), S.PROCESSING),
        Rule(Action.REQUEST_PAYMENT, frozenset({S.PROCESSING}), S.PAYMENT_REQUESTED),
        Rule(Action.RECEIVE_PAYMENT, frozenset({S.PAYMENT_REQUESTED}), S.PROCESSING),
        Rule(Action.COMPLETE, frozenset({S.PROCESSING}), S.DONE, ("result",)),
        Rule(
            Action.STOP,
            frozenset({S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED}),
            S.STOPPED,
            ("reason",),
        ),
        Rule(
            Action.WITHDRAW,
            frozenset(
                {
                    S.REGISTERED,
                    S.ACCEPTED,
                    S.PROCESSING,
                    S.SUPPLEMENT_REQUESTED,
                    S.PAYMENT_REQUESTED,
                }
            ),
            S.WITHDRAWN,
        ),
        Rule(Action.RETURN_RESULT, frozenset({S.DONE}), S.RETURNED),
        Rule(
            Action.APOLOGIZE,
            frozenset({S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED}),
            None,
            ("reason", "new_appointment_at"),
        ),
        Rule(Action.COMMENT, None, None, required_any=("note", "public_note")),
    )
}
del S

#: The values ``complete`` accepts for ``result``.
COMPLETE_RESULTS: tuple[str, ...] = ("approved", "denied")

#: Short citizen-facing labels of steps for the public timeline.
ACTION_LABELS: dict[Action, dict[str, str]] = {
    Action.ACCEPT: {"vi": "Tiếp nhận hồ sơ", "en": "Dossier accepted"},
    Action.REFUSE_INTAKE: {"vi": "Từ chối tiếp nhận hồ sơ", "en": "Dossier not accepted"},
    Action.PROCESS: {"vi": "Chuyển xử lý hồ sơ", "en": "Dossier forwarded for processing"},
    Action.REQUEST_SUPPLEMENT: {
        "vi": "Yêu cầu bổ sung hồ sơ",
        "en": "Additional documents requested",
    },
    Action.RECEIVE_SUPPLEMENT: {
        "vi": "Tiếp nhận hồ sơ bổ sung",
        "en": "Additional documents received",
    },
    Action.REQUEST_PAYMENT: {
        "vi": "Yêu cầu thực hiện nghĩa vụ tài chính",
        "en": "Payment of fees/obligations requested",
    },
    Action.RECEIVE_PAYMENT: {
        "vi": "Đã hoàn thành nghĩa vụ tài chính",
        "en": "Payment received",
    },
    Action.COMPLETE: {
        "vi": "Đã có kết quả giải quyết",
        "en": "Processing done, result ready",
    },
    Action.STOP: {"vi": "Dừng xử lý hồ sơ", "en": "Processing stopped"},
    Action.WITHDRAW: {
        "vi": "Rút hồ sơ theo yêu cầu của người nộp",
        "en": "Withdrawn at the applicant's request",
    },
    Action.RETURN_RESULT: {"vi": "Trả kết quả", "en": "Result handed over"},
    Action.APOLOGIZE: {
        "vi": "Xin lỗi và hẹn lại ngày trả kết quả",
        "en": "Apology and new appointment date",
    },
    Action.COMMENT: {"vi": "Cập nhật thông tin hồ sơ", "en": "Dossier update"},
}


#: The first step of an online submission: recorded by the intake, never sent as an action.
REGISTER = "register"
REGISTER_LABELS = {"vi": "Nộp hồ sơ trực tuyến", "en": "Dossier submitted"}


def action_label(action: str, lang: str = "vi") -> str:
    """Return the timeline label of ``action`` in ``lang`` (unknown language -> Vietnamese)."""
    labels = REGISTER_LABELS if action == REGISTER else ACTION_LABELS[Action(action)]
    return labels[normalize_language(lang)]


#: Actions that make the dossier wait for the applicant (the deadline clock may stop).
PAUSING_ACTIONS: frozenset[Action] = frozenset({Action.REQUEST_SUPPLEMENT, Action.REQUEST_PAYMENT})
#: Actions that end such a wait.
RESUMING_ACTIONS: frozenset[Action] = frozenset({Action.RECEIVE_SUPPLEMENT, Action.RECEIVE_PAYMENT})
#: Statuses reached by a pausing action. Whether payment_requested actually stops the clock is
#: configurable (docs/rules.md#pauses); that choice belongs to the deadline code, not here.
PAUSED_STATUSES: frozenset[Status] = frozenset(
    {Status.SUPPLEMENT_REQUESTED, Status.PAYMENT_REQUESTED}
)
#: Statuses that give a dossier a finish time for timeliness (docs/rules.md#timeliness).
FINISHED: frozenset[Status] = frozenset({Status.DONE, Status.RETURNED, Status.STOPPED})


class TransitionRefused(Exception):
    """The action is not allowed from the dossier's current status (HTTP 409).

    ``allowed`` lists the actions that are allowed from that status, in table order.
    """

    def __init__(self, action: str, status: str, allowed: list[str]) -> None:
        """Record the refused pair and the allowed alternatives."""
        self.action = str(action)
        self.status = str(status)
        self.allowed = list(allowed)
        super().__init__(
            f"Action '{self.action}' is not allowed when the dossier is '{self.status}'. "
            f"Allowed: {', '.join(self.allowed) or 'none'}."
        )


class MissingFields(Exception):
    """Fields the action needs are missing or invalid (HTTP 422).

    ``errors`` maps each field name to a list of human-readable messages.
    """

    def __init__(self, errors: dict[str, list[str]]) -> None:
        """Keep the per-field messages."""
        self.errors = errors
        super().__init__(
            "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
        )


def _status(status: str) -> Status:
    """Convert to Status, with a clear ValueError for unknown values."""
    try:
        return Status(status)
    except ValueError:
        raise ValueError(f"Unknown status: {status!r}") from None


def _action(action: str) -> Action:
    """Convert to Action, with a clear ValueError for unknown values."""
    try:
        return Action(action)
    except ValueError:
        raise ValueError(f"Unknown action: {action!r}") from None


def allowed_actions(status: str) -> list[str]:
    """List the actions allowed from ``status``, in table order (unknown status -> ValueError)."""
    current = _status(status)
    return [
        str(rule.action)
        for rule in RULES.values()
        if rule.sources is None or current in rule.sources
    ]


def _is_blank(value: object) -> bool:
    """A field counts as not given when absent, None, or a string of only whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def missing_fields(action: str, fields: Mapping[str, object]) -> dict[str, list[str]]:
    """Return the field errors of ``fields`` for ``action`` (empty dict when all is well).

    Does not look at the status: use :func:`next_status` for the full check.
    """
    rule = RULES[_action(action)]
    errors: dict[str, list[str]] = {}
    for name in rule.required:
        if _is_blank(fields.get(name)):
            errors[name] = [f"Required for action '{rule.action}'."]
    if rule.required_any and all(_is_blank(fields.get(name)) for name in rule.required_any):
        names = " or ".join(f"'{name}'" for name in rule.required_any)
        message = f"Action '{rule.action}' needs {names}."
        for name in rule.required_any:
            errors[name] = [message]
    if rule.action is Action.COMPLETE and "result" not in errors:
        result = fields.get("result")
        if not isinstance(result, str) or result not in COMPLETE_RESULTS:
            errors["result"] = [
                f"Must be one of: {', '.join(COMPLETE_RESULTS)} (got {result!r})."
            ]
    return errors


def next_status(status: str, action: str, fields: Mapping[str, object]) -> str:
    """Return the status after recording ``action`` with ``fields`` on a dossier in ``status``.

    Checks, in this order: unknown status or action (``ValueError``), the transition
    (``TransitionRefused``), then the required fields (``MissingFields``). Returns the same
    status for actions that do not change it (apologize, comment).

    Whether ``new_appointment_at`` is later than the current appointment is not checked here:
    it needs the dossier's current appointment, which ``tracker.domain.progress.apply`` holds
    and checks (``BadAppointment``).
    """
    current = _status(status)
    act = _action(action)
    rule = RULES[act]
    if rule.sources is not None and current not in rule.sources:
        raise TransitionRefused(act, current, allowed_actions(current))
    errors = missing_fields(act, fields)
    if errors:
        raise MissingFields(errors)
    return str(rule.target if rule.target is not None else current)


#: Statuses from which no further status change is possible: only ``comment`` remains.
#: Derived from the table rather than written out, so it cannot disagree with it.
CLOSED: frozenset[Status] = frozenset(
    status for status in Status if allowed_actions(status) == [str(Action.COMMENT)]
)
# The actions table implies exactly these; fail at import if a table edit changes that
# silently, because statistics and the public pages rely on it (not an assert: -O drops those).
if CLOSED != {Status.NOT_ACCEPTED, Status.WITHDRAWN, Status.STOPPED, Status.RETURNED}:
    raise RuntimeError(f"Actions table changed the closed statuses: {sorted(CLOSED)}")
