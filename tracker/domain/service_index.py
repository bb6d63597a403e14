"""The Decision 766 service index of a report's counters (docs/rules.md#rates).

Decision 766/QĐ-TTg scores an agency out of 100 in five groups. This system holds the
data of four: progress (``progress_rate``), online service (the mean of
``online_rate`` and ``online_payment_rate``, whichever exist), digitisation (the mean
of ``digitized_rate`` and ``electronic_result_rate``) and satisfaction
(``satisfaction_rate``). Each group's points are its rate times its weight.

A group whose rate does not exist (nothing to measure: no dossier received online
or paid, say) is *unmeasured*: it has no points and its weight leaves the maximum.
The score is the sum of the measured groups' points, published with ``max_score``,
the points those groups allow (82 with the default weights and all four measured),
never scaled up to 100: transparency (18 points) is not measured here at all.
"""
from __future__ import annotations

from typing import Mapping

__all__ = ["GROUPS", "DEFAULT_WEIGHTS", "UNMEASURED_WEIGHT", "group_rates", "service_index"]

#: The measured groups, in the order of the index.
GROUPS = ("progress", "online", "digitization", "satisfaction")
#: Decision 766's points for those groups.
DEFAULT_WEIGHTS: dict[str, float] = {"progress": 20.0, "online": 22.0, "digitization": 22.0, "satisfaction": 18.0}
#: Transparency (công khai, minh bạch): scored by Decision 766, not measured by this system.
UNMEASURED_WEIGHT = {"transparency": 18.0}


def _mean(*rates: float | None) -> float | None:
    present = [r for r in rates if r is not None]
    return round(sum(present) / len(present), 4) if present else None


def group_rates(counters: Mapping) -> dict[str, float | None]:
    """The rate of each group from a counters object (``Counters.as_dict``); None when unmeasured."""
    return {
        "progress": counters["progress_rate"],
        "online": _mean(counters["online_rate"], counters["online_payment_rate"]),
        "digitization": _mean(counters["digitized_rate"], counters["electronic_result_rate"]),
        "satisfaction": counters["satisfaction_rate"],
    }


def service_index(counters: Mapping, weights: Mapping[str, float]) -> dict:
    """``{progress, online, digitization, satisfaction: {rate, points, max_points}, score, max_score}``.

    Points are rounded to 2 places, and the score is the sum of the rounded points, so
    that the published figures add up.
    """
    result: dict = {}
    score = max_score = 0.0
    for group, rate in group_rates(counters).items():
        weight = float(weights[group])
        points = None if rate is None else round(rate * weight, 2)
        result[group] = {"rate": rate, "points": points, "max_points": weight}
        if points is not None:
            score += points
            max_score += weight
    result["score"] = round(score, 2)
    result["max_score"] = round(max_score, 2)
    return result
