"""Dossier statuses and submission channels, with their national codes and labels.

The keys, numeric codes and labels are those of the national list (docs/rules.md#statuses-and-channels); they are
part of the public contract (``status_code``, ``status_label``), so they must never drift.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = [
    "Status",
    "STATUS_CODES",
    "STATUS_LABELS",
    "status_label",
    "Channel",
    "CHANNEL_CODES",
    "CHANNEL_LABELS",
    "channel_label",
    "LANGUAGES",
    "DEFAULT_LANGUAGE",
    "normalize_language",
    "pick_language",
]

#: Languages the product speaks; Vietnamese comes first because it is the default.
LANGUAGES: tuple[str, ...] = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


class Status(StrEnum):
    """A dossier status from the national list (docs/rules.md#statuses-and-channels)."""

    REGISTERED = "registered"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    PROCESSING = "processing"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    PAYMENT_REQUESTED = "payment_requested"
    WITHDRAWN = "withdrawn"
    STOPPED = "stopped"
    DONE = "done"
    RETURNED = "returned"


#: National numeric status codes (1..10), reported as ``status_code``.
STATUS_CODES: dict[Status, int] = {
    Status.REGISTERED: 1,
    Status.ACCEPTED: 2,
    Status.NOT_ACCEPTED: 3,
    Status.PROCESSING: 4,
    Status.SUPPLEMENT_REQUESTED: 5,
    Status.PAYMENT_REQUESTED: 6,
    Status.WITHDRAWN: 7,
    Status.STOPPED: 8,
    Status.DONE: 9,
    Status.RETURNED: 10,
}

#: Labels exactly as in the national list (docs/rules.md#statuses-and-channels), per language.
STATUS_LABELS: dict[Status, dict[str, str]] = {
    Status.REGISTERED: {"vi": "Mới đăng ký", "en": "Submitted, awaiting acceptance"},
    Status.ACCEPTED: {"vi": "Đã tiếp nhận", "en": "Accepted"},
    Status.NOT_ACCEPTED: {"vi": "Không được tiếp nhận", "en": "Not accepted"},
    Status.PROCESSING: {"vi": "Đang xử lý", "en": "Processing"},
    Status.SUPPLEMENT_REQUESTED: {
        "vi": "Yêu cầu bổ sung hồ sơ",
        "en": "Additional documents requested",
    },
    Status.PAYMENT_REQUESTED: {
        "vi": "Yêu cầu thực hiện nghĩa vụ tài chính",
        "en": "Payment of fees/obligations requested",
    },
    Status.WITHDRAWN: {
        "vi": "Công dân yêu cầu rút hồ sơ",
        "en": "Withdrawn at the applicant's request",
    },
    Status.STOPPED: {"vi": "Dừng xử lý", "en": "Processing stopped"},
    Status.DONE: {"vi": "Đã xử lý xong", "en": "Processing done, result ready"},
    Status.RETURNED: {"vi": "Đã trả kết quả", "en": "Result handed over"},
}


def normalize_language(lang: str | None) -> str:
    """Return a supported language code for ``lang`` ("en", "en-US" -> "en"); anything else -> "vi"."""
    if not isinstance(lang, str):
        return DEFAULT_LANGUAGE
    primary = lang.strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def status_label(status: str, lang: str = "vi") -> str:
    """Return the national label of ``status`` in ``lang`` (an unknown language falls back to Vietnamese).

    Raises ``ValueError`` for an unknown status: a label for a status that does not exist would
    hide a bug rather than help a citizen.
    """
    return STATUS_LABELS[Status(status)][normalize_language(lang)]


class Channel(StrEnum):
    """How the dossier was submitted (kênh nộp)."""

    DIRECT = "direct"
    ONLINE = "online"
    POSTAL = "postal"


#: National channel codes.
CHANNEL_CODES: dict[Channel, int] = {
    Channel.DIRECT: 1,
    Channel.ONLINE: 2,
    Channel.POSTAL: 3,
}

#: Human labels for channels (statistics tables, pages).
CHANNEL_LABELS: dict[Channel, dict[str, str]] = {
    Channel.DIRECT: {"vi": "Trực tiếp", "en": "In person"},
    Channel.ONLINE: {"vi": "Trực tuyến", "en": "Online"},
    Channel.POSTAL: {"vi": "Qua dịch vụ bưu chính công ích", "en": "Public postal service"},
}


def channel_label(channel: str, lang: str = "vi") -> str:
    """Return the label of ``channel`` in ``lang`` (unknown language -> Vietnamese; unknown channel -> ValueError)."""
    return CHANNEL_LABELS[Channel(channel)][normalize_language(lang)]


# RFC 9110 qvalue: 0 to 1 with at most three decimals. Anything else makes the entry invalid,
# and an invalid entry is ignored rather than guessed at.
_QVALUE_RE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)", re.ASCII)
_LANGUAGE_TAG_RE = re.compile(r"[a-z]{1,8}(?:-[a-z0-9]{1,8})*", re.ASCII)


def pick_language(accept_language: str | None) -> str:
    """Choose "vi" or "en" from an ``Accept-Language`` header.

    The supported language with the highest q-value wins; on a tie the one listed first wins.
    Entries with q=0 (explicitly unacceptable), wildcards, malformed tags or q-values are
    ignored. With no usable entry the answer is Vietnamese, the product's default.
    """
    if not isinstance(accept_language, str):
        return DEFAULT_LANGUAGE
    best: tuple[float, int, str] | None = None
    for index, entry in enumerate(accept_language.split(",")):
        tag, *params = (part.strip() for part in entry.split(";"))
        tag = tag.lower()
        if not _LANGUAGE_TAG_RE.fullmatch(tag):
            continue
        quality = 1.0
        valid = True
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() != "q":
                continue  # other parameters carry no preference
            value = value.strip()
            if not _QVALUE_RE.fullmatch(value):
                valid = False
                break
            quality = float(value)
        if not valid or quality <= 0:
            continue
        primary = tag.split("-", 1)[0]
        if primary not in LANGUAGES:
            continue
        # Negative index so that, at equal quality, the earlier entry compares greater.
        candidate = (quality, -index, primary)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best is not None else DEFAULT_LANGUAGE
