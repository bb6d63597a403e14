"""Field types and validators that several schemas use."""
from __future__ import annotations

from datetime import datetime, timezone

import marshmallow as ma
from flask import current_app

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


def nul_fields(value, prefix: str = "") -> list[str]:
    """The dotted names of the JSON values (or keys) that contain a NUL character."""
    found: list[str] = []
    if isinstance(value, str):
        if NUL in value:
            found.append(prefix or "_schema")
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if NUL in str(key):
                found.append(name.replace(NUL, "\\0"))
            else:
                found.extend(nul_fields(item, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(nul_fields(item, f"{prefix}.{index}" if prefix else str(index)))
    return found
