"""Service levels, dossier flags and the citizens' evaluation (docs/rules.md#statistics-counters).

Pure rules, no Flask and no database:

- a procedure's **online level** (``full``, ``partial``, ``none``);
- the **flags** a dossier collects at intake and from three steps (``digitized`` with
  ``accept``, ``online`` with ``receive_payment``, ``electronic_result`` with
  ``complete``), held in :class:`Flags` and moved by :func:`apply_step_flags`;
- the **evaluation**: its levels, who may give one and when a new one replaces it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Mapping

from tracker.domain.statuses import Status, normalize_language
from tracker.domain.workflow import Action

__all__ = [
    "ONLINE_LEVELS", "FULL", "PARTIAL", "NONE", "ONLINE_CAPABLE", "online_level_label", "Flags",
    "STEP_FLAGS", "step_flag_errors", "apply_step_flags", "LEVELS", "VERY_SATISFIED", "SATISFIED",
    "DISSATISFIED", "level_label", "EVALUABLE", "REPLACE_WINDOW", "EvaluationRefused", "check_evaluation",
]

FULL, PARTIAL, NONE = "full", "partial", "none"
#: The online levels of Decree 42/2022/NĐ-CP, from most to least online.
ONLINE_LEVELS = (FULL, PARTIAL, NONE)
#: Levels whose dossiers count in the online rate's denominator.
ONLINE_CAPABLE = frozenset({FULL, PARTIAL})
_ONLINE_LABELS = {
    FULL: {"vi": "Dịch vụ công trực tuyến toàn trình", "en": "Fully online"},
    PARTIAL: {"vi": "Dịch vụ công trực tuyến một phần", "en": "Partly online"},
    NONE: {"vi": "Không trực tuyến", "en": "Not online"},
}


def online_level_label(level: str, lang: str = "vi") -> str:
    """The level's name in ``lang`` (Vietnamese by default)."""
    return _label(_ONLINE_LABELS, level, lang)


def _label(labels: dict[str, dict[str, str]], key: str, lang: str) -> str:
    return labels[key][normalize_language(lang)]


@dataclass(frozen=True)
class Flags:
    """What a dossier's statistics need besides its clock.

    ``online_capable``: its procedure was offered online (full or partial) when it was
    received; ``paid``: it paid fees (a ``receive_payment`` step, or paid online with the
    submission); the other three are the dossier's own flags.
    """

    online_capable: bool = False
    digitized: bool = False
    paid: bool = False
    paid_online: bool = False
    electronic_result: bool = False


#: The step field that sets a flag, per action: (action, step field, dossier flag).
STEP_FLAGS: tuple[tuple[str, str, str], ...] = (
    (Action.ACCEPT.value, "digitized", "digitized"),
    (Action.RECEIVE_PAYMENT.value, "online", "paid_online"),
    (Action.COMPLETE.value, "electronic_result", "electronic_result"),
)
_FIELD_ACTION = {name: action for action, name, _ in STEP_FLAGS}


def step_flag_errors(action: str, fields: Mapping[str, object]) -> dict[str, list[str]]:
    """Field errors for a flag given with an action it does not belong to (empty when all is well)."""
    return {name: [f"Only the '{owner}' step takes '{name}'."]
            for name, owner in _FIELD_ACTION.items() if fields.get(name) is not None and action != owner}


def apply_step_flags(flags: Flags, action: str, fields: Mapping[str, object]) -> Flags:
    """The flags after a step; a flag once set stays set (the step history is never undone)."""
    changes = {}
    if action == Action.RECEIVE_PAYMENT:
        changes["paid"] = True
    for owner, name, flag in STEP_FLAGS:
        if action == owner and fields.get(name):
            changes[flag] = True
    return replace(flags, **changes) if changes else flags


VERY_SATISFIED, SATISFIED, DISSATISFIED = "very_satisfied", "satisfied", "dissatisfied"
#: The evaluation levels, best first.
LEVELS = (VERY_SATISFIED, SATISFIED, DISSATISFIED)
_LEVEL_LABELS = {
    VERY_SATISFIED: {"vi": "Rất hài lòng", "en": "Very satisfied"},
    SATISFIED: {"vi": "Hài lòng", "en": "Satisfied"},
    DISSATISFIED: {"vi": "Không hài lòng", "en": "Dissatisfied"},
}


def level_label(level: str, lang: str = "vi") -> str:
    """An evaluation level's name in ``lang``."""
    return _label(_LEVEL_LABELS, level, lang)


#: Statuses in which the applicant may evaluate the dossier.
EVALUABLE = frozenset({Status.DONE, Status.RETURNED, Status.STOPPED, Status.NOT_ACCEPTED})
#: A new evaluation within this time of the first one replaces it; later ones are refused.
REPLACE_WINDOW = timedelta(days=30)


class EvaluationRefused(Exception):
    """The dossier cannot be evaluated now (HTTP 409); the message says why."""


def check_evaluation(status: str, first_given_at: datetime | None, now: datetime) -> bool:
    """Whether an evaluation given ``now`` is allowed; True when it replaces an earlier one.

    Raises :class:`EvaluationRefused` when the dossier is not finished, or when the
    first evaluation is older than :data:`REPLACE_WINDOW`.
    """
    if status not in EVALUABLE:
        raise EvaluationRefused("Only a dossier that is done, returned, stopped or not accepted can be evaluated.")
    if first_given_at is None:
        return False
    if now - first_given_at > REPLACE_WINDOW:
        raise EvaluationRefused("This dossier was evaluated more than 30 days ago: the evaluation can no longer "
                                "be changed.")
    return True
