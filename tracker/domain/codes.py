"""Agency codes and dossier codes (``{agency_code}-{yyMMdd}-{NNNN}``, docs/rules.md#dossier-codes)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

__all__ = [
    "AGENCY_CODE_RE",
    "MAX_DOSSIER_NUMBER",
    "is_agency_code",
    "dossier_code",
    "normalize_dossier_code",
    "parse_dossier_code",
]

#: National e-government agency code style (QCVN 102:2016), e.g. ``000.00.00.H57``.
AGENCY_CODE_RE = r"^[0-9A-Z.]{3,32}$"

# fullmatch and re.ASCII: "$" alone would accept a trailing newline, and without ASCII
# "\d"-like classes could let other scripts' digits through.
_AGENCY_CODE = re.compile(AGENCY_CODE_RE, re.ASCII)
# The counter has at least four digits and is written without extra leading zeros beyond
# four, so that each (agency, day, number) has exactly one spelling. Twelve digits bound the
# integer conversion of hostile input; no agency registers a trillion dossiers a day.
_DOSSIER_CODE = re.compile(
    r"([0-9A-Z.]{3,32})-([0-9]{2})([0-9]{2})([0-9]{2})-([0-9]{4,12})", re.ASCII
)

#: A code kept from an earlier system on import (3 to 64 letters, digits, ``.``, ``-``, ``_``, ``/``):
#: receipts already printed stay valid. Match it with ``fullmatch``.
IMPORTED_CODE_RE = r"[0-9A-Za-z.\-_/]{3,64}"
IMPORTED_CODE_MESSAGE = "A code is 3 to 64 letters, digits, '.', '-', '_' or '/'."

#: Largest daily counter a code can carry (twelve digits).
MAX_DOSSIER_NUMBER = 999_999_999_999


def is_agency_code(s: str) -> bool:
    """Tell whether ``s`` is a well-formed agency code (3 to 32 of ``0-9``, ``A-Z``, ``.``)."""
    return isinstance(s, str) and _AGENCY_CODE.fullmatch(s) is not None


def dossier_code(agency_code: str, day: date, number: int) -> str:
    """Format a dossier code: ``{agency}-{yyMMdd}-{NNNN}``, four digits at least, more after 9999.

    Raises ``ValueError`` for a malformed agency code, a number outside 1..MAX_DOSSIER_NUMBER,
    or a year outside 2000..2099 (a two-digit year could not be read back unambiguously).
    """
    if not is_agency_code(agency_code):
        raise ValueError(f"Not an agency code: {agency_code!r}")
    # bool is an int subclass; True as a counter is a bug, not the number 1.
    if not isinstance(number, int) or isinstance(number, bool):
        raise ValueError(f"Dossier number must be an integer, got {number!r}")
    if not 1 <= number <= MAX_DOSSIER_NUMBER:
        raise ValueError(f"Dossier number out of range: {number}")
    if not isinstance(day, date) or not 2000 <= day.year <= 2099:
        raise ValueError(f"Date out of range for a dossier code: {day!r}")
    return f"{agency_code}-{day:%y%m%d}-{number:04d}"


# Zero-width space, non-joiner, joiner, word joiner, and the byte-order mark: copied from
# chat apps and PDFs, invisible on screen.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# Dashes a keyboard, a word processor or a phone puts where the code has "-" (those NFKC
# leaves alone: en and em dash, hyphen, non-breaking hyphen, minus, small and full-width hyphen-minus).
_DASHES = dict.fromkeys(map(ord, "\u2013\u2014\u2010\u2011\u2212\ufe63\uff0d"), "-")
_SPACED_DASH = re.compile(r"\s*-\s*")
_SPACES = re.compile(r"\s+")


def normalize_dossier_code(s: str) -> str:
    """Canonical form of a code as people type it (docs/rules.md#dossier-codes).

    Unicode NFKC (full-width letters and digits become ASCII), invisible characters
    dropped, other dashes read as "-", spaces around a dash dropped, a run of spaces
    in place of a dash read as one, surrounding spaces removed, upper case.
    """
    text = unicodedata.normalize("NFKC", s.translate(_INVISIBLE)).translate(_DASHES)
    text = _SPACED_DASH.sub("-", text.strip())
    return _SPACES.sub("-", text).upper()


def parse_dossier_code(s: str) -> tuple[str, date, int] | None:
    """Split a dossier code into (agency code, date, number), or None when it is not well formed.

    The input is normalised first (case, surrounding spaces), as lookups are. Impossible dates
    (``250230``), a zero counter and non-canonical counters (``00001``) are not well formed.
    """
    if not isinstance(s, str):
        return None
    match = _DOSSIER_CODE.fullmatch(normalize_dossier_code(s))
    if match is None:
        return None
    agency, yy, mm, dd, digits = match.groups()
    number = int(digits)
    if number < 1 or f"{number:04d}" != digits:
        return None
    try:
        day = date(2000 + int(yy), int(mm), int(dd))
    except ValueError:
        return None
    return agency, day, number
