"""Field types and validators that several schemas use."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import marshmallow as ma
from flask import current_app

from tracker.domain.messages import N_
from tracker.domain.people import nfc

NUL = "\x00"

# Dossier codes carry a two-digit year (2000-2099), and times far outside that range overflow
# the database's timestamp conversion: such a time is a typo, refused with 422, never a 500.
# A day of margin at each end keeps the local date inside 2000-2099 in any business time zone.
EARLIEST = datetime(2000, 1, 2, tzinfo=timezone.utc)
LATEST = datetime(2099, 12, 31, tzinfo=timezone.utc)


def plausible_time(value: datetime) -> None:
    """Refuse a time outside the years 2000 to 2099 (a typo, never a real step)."""
    if not EARLIEST <= value <= LATEST:
        raise ma.ValidationError("Must be a time between the years 2000 and 2099.")


def checked_by(validator):
    """A marshmallow validator from a function that returns an error message or None."""
    def run(value):
        message = validator(value)
        if message:
            raise ma.ValidationError(message)
    return run


class FullMatch(ma.validate.Regexp):
    """``Regexp`` over the whole value: ``re.match`` with ``$`` would let a trailing newline
    through. The pattern keeps its ``^…$`` for the OpenAPI document."""

    def __call__(self, value):
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


class LocalDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 time with an offset, given out in the business time zone."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "iso")
        super().__init__(**kwargs)

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is None:
            return None
        local = value.astimezone(current_app.config["OFFICE_HOURS"].tz)
        return local.isoformat()


class Text(ma.fields.String):
    """Text stored in Unicode NFC without surrounding spaces; limits apply to the stored text.

    Normalising before the validators run matters: NFC can lengthen a string (some
    characters decompose), and a limit checked on the raw text would let through a
    value the column cannot hold.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        return nfc(super()._deserialize(value, attr, data, **kwargs))


class CodeNameSchema(ma.Schema):
    """A thing named by its code: ``{code, name}``."""

    code = ma.fields.String()
    name = ma.fields.String()


#: Lone UTF-16 surrogates: a JSON string may spell them ("\\ud800"), no UTF-8 text can hold them.
SURROGATES = re.compile("[\ud800-\udfff]")
NUL_MESSAGE = N_("Must not contain the NUL character (U+0000).")
SURROGATE_MESSAGE = N_("Must not contain a lone UTF-16 surrogate (\\ud800 to \\udfff): it is not text.")


class TooDeep(ValueError):
    """A JSON value nested deeper than the limit given to ``text_problems``."""


def printable_name(name: str) -> str:
    """A field name that can be written back in an answer (NUL and surrogates spelled out)."""
    name = name.replace(NUL, "\\0")
    return SURROGATES.sub(lambda m: "\\u%04x" % ord(m.group()), name)


def _text_problem(text: str) -> str | None:
    if NUL in text:
        return NUL_MESSAGE
    if SURROGATES.search(text):
        return SURROGATE_MESSAGE
    return None


def text_problems(value, max_depth: int | None = None) -> dict[str, str]:
    """The dotted names of the JSON values (or keys) holding NUL or a lone surrogate, with the message.

    Walks without recursion; ``TooDeep`` when arrays and objects nest more than ``max_depth``.
    """
    found: dict[str, str] = {}
    stack = [(value, "", 0)]
    while stack:
        item, prefix, depth = stack.pop()
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                found[printable_name(prefix) or "_schema"] = problem
            continue
        if not isinstance(item, (dict, list)):
            continue
        if max_depth is not None and depth >= max_depth:
            raise TooDeep(f"JSON nested deeper than {max_depth} levels.")
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in pairs:
            name = f"{prefix}.{key}" if prefix else str(key)
            problem = _text_problem(key) if isinstance(key, str) else None
            if problem:
                found[printable_name(name)] = problem
            else:
                stack.append((child, name, depth + 1))
    return found


def nul_fields(value, prefix: str = "") -> list[str]:
    """The dotted names of the JSON values (or keys) that contain a NUL character."""
    names = [name for name, problem in text_problems(value).items() if problem == NUL_MESSAGE]
    return [f"{prefix}.{name}" if prefix else name for name in names]
