"""Applicant data: Unicode normalisation, search keys, masking, validation and matching.

Vietnamese text arrives both precomposed (NFC) and decomposed (NFD, e.g. from macOS or some
keyboards); everything is compared and stored in NFC so the two spellings are one name.
"""

from __future__ import annotations

import hmac
import re
import unicodedata

__all__ = [
    "nfc",
    "fold",
    "mask_name",
    "normalize_id_number",
    "validate_id_number",
    "normalize_phone",
    "national_phone",
    "validate_phone",
    "validate_email",
    "EMAIL_MAX_LENGTH",
    "mask_secret",
    "phone_matches",
    "id_matches",
]

EMAIL_MAX_LENGTH = 254

_ID_NUMBER = re.compile(r"[0-9]{9}|[0-9]{12}", re.ASCII)
_PHONE_NATIONAL = re.compile(r"0[0-9]{9}", re.ASCII)
_PHONE_INTERNATIONAL = re.compile(r"\+84[0-9]{9}", re.ASCII)
_PHONE_SEPARATORS = re.compile(r"[\s.\-]+")
_WHITESPACE = re.compile(r"\s+")


def nfc(s: str) -> str:
    """Return ``s`` in Unicode NFC with surrounding whitespace removed."""
    return unicodedata.normalize("NFC", s).strip()


def fold(s: str) -> str:
    """Return a search key: lower case, no diacritics, "đ" as "d", single spaces.

    ``fold("Nguyễn Văn An") == "nguyen van an"``; ``fold("ĐẶNG") == "dang"``.
    """
    # "đ" is a letter of its own, not d plus a mark, so decomposition would not remove its bar.
    lowered = unicodedata.normalize("NFC", s).lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", lowered)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())


def mask_name(name: str) -> str:
    """Mask a name for the public page: each word keeps its first character, the rest become "*".

    ``"Phạm Thị Kiểm" -> "P*** T** K***"``. Lengths are counted in NFC characters, so a
    decomposed "ạ" counts as one; words are joined by single spaces.
    """
    return " ".join(word[0] + "*" * (len(word) - 1) for word in nfc(name).split())


def normalize_id_number(s: str) -> str:
    """Return an ID number with all whitespace removed (clerks often type it in groups)."""
    return _WHITESPACE.sub("", s)


def validate_id_number(s: object) -> str | None:
    """Return an error message, or None when ``s`` is 9 digits (CMND) or 12 digits (CCCD).

    Whitespace between digit groups is tolerated (see :func:`normalize_id_number`).
    """
    if not isinstance(s, str):
        return "Must be a string of 9 digits (CMND) or 12 digits (CCCD)."
    if _ID_NUMBER.fullmatch(normalize_id_number(s)) is None:
        return "Must be 9 digits (CMND) or 12 digits (CCCD)."
    return None


def normalize_phone(s: str) -> str:
    """Return the phone number with separators (whitespace, dots, dashes) removed."""
    return _PHONE_SEPARATORS.sub("", s.strip())


def national_phone(s: str) -> str | None:
    """Return a valid phone number in national form (``0xxxxxxxxx``), or None when invalid.

    ``+84`` followed by nine digits is the same subscriber as ``0`` followed by them.
    """
    if not isinstance(s, str):
        return None
    phone = normalize_phone(s)
    if _PHONE_NATIONAL.fullmatch(phone):
        return phone
    if _PHONE_INTERNATIONAL.fullmatch(phone):
        return "0" + phone[3:]
    return None


def validate_phone(s: object) -> str | None:
    """Return an error message, or None for ``0`` + 9 digits or ``+84`` + 9 digits (separators allowed)."""
    if not isinstance(s, str) or national_phone(s) is None:
        return (
            "Must be a Vietnamese phone number: 10 digits starting with 0, "
            "or +84 followed by 9 digits."
        )
    return None


def validate_email(s: object) -> str | None:
    """Return an error message, or None for a plausible e-mail address.

    Pragmatic rather than RFC 5322: one "@", a non-empty local part, a domain with a dot and
    no empty labels, no whitespace, at most 254 characters. The real check is delivery.
    """
    if not isinstance(s, str):
        return "Must be an e-mail address."
    if len(s) > EMAIL_MAX_LENGTH:
        return f"Must be at most {EMAIL_MAX_LENGTH} characters."
    if any(ch.isspace() for ch in s):
        return "Must not contain spaces."
    if s.count("@") != 1:
        return "Must contain exactly one '@'."
    local, domain = s.split("@")
    if not local:
        return "Must have a name before the '@'."
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels):
        return "Must have a domain with a dot after the '@', like example.vn."
    return None


#: The applicant's details a dossier holds, and those of them that are personal numbers or contacts.
APPLICANT_FIELDS = ("name", "id_number", "phone", "email", "address")
SECRET_FIELDS = ("id_number", "phone", "email", "address")


def mask_secret(s: str | None) -> str | None:
    """Mask a secret for logs and audit: keep the last 3 characters, the rest as "*".

    ``"046195001122" -> "*********122"``. A value of 3 characters or fewer is masked entirely,
    since keeping its last 3 would reveal all of it. None stays None.
    """
    if s is None:
        return None
    if len(s) <= 3:
        return "*" * len(s)
    return "*" * (len(s) - 3) + s[-3:]


def _same(given: str, stored: str) -> bool:
    """Constant-time comparison (hmac.compare_digest only accepts ASCII str, so compare bytes)."""
    return hmac.compare_digest(given.encode("utf-8"), stored.encode("utf-8"))


def phone_matches(given: str, stored: str) -> bool:
    """Tell whether two phone numbers are the same subscriber (``+84...`` equals ``0...``).

    An invalid or empty number never matches, so a blank ``verify`` cannot unmask a dossier
    whose applicant gave no phone.
    """
    given_national = national_phone(given) if isinstance(given, str) else None
    stored_national = national_phone(stored) if isinstance(stored, str) else None
    if given_national is None or stored_national is None:
        return False
    return _same(given_national, stored_national)


def id_matches(given: str, stored: str) -> bool:
    """Tell whether two ID numbers are equal once whitespace is removed; empty never matches."""
    if not isinstance(given, str) or not isinstance(stored, str):
        return False
    given_id = normalize_id_number(given)
    stored_id = normalize_id_number(stored)
    if not given_id or not stored_id:
        return False
    return _same(given_id, stored_id)
