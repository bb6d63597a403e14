"""Log output: one handler on the root logger, plain text or JSON, never a personal number.

``TRACKER_LOG_FORMAT=json`` writes one JSON object a line (what log collectors parse);
``plain`` (the default outside gunicorn) writes ``time level logger: message``. Either
way two filters run on every record the handler writes:

- ``RequestContext`` adds the request id of the request being served (``request_id``);
- ``PersonalDataMask`` masks whatever looks like an ID number (9 or 12 digits), a
  phone number or an e-mail address in the message, its arguments, its traceback and
  its extra fields, so that a careless ``log.info("%s", body)`` leaks nothing
  (docs/rules.md#masking-and-personal-data).
"""
from __future__ import annotations

import logging
import re
import sys

from pythonjsonlogger.orjson import OrjsonFormatter

FORMATS = ("plain", "json")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"
JSON_RENAMES = {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"}

# A citizen identity card number has 12 digits, the old identity card 9; Vietnamese phone
# numbers are 0 or +84/84 and 9 or 10 digits, with optional spaces, dots or dashes. Digits
# glued to other digits are something else (a longer number): matches stop at digit boundaries.
PERSONAL_NUMBER = re.compile(r"(?<![\d+])(?:(?:\+84|0084|84|0)(?:[ .-]?\d){9,10}|\d{12}|\d{9})(?!\d)")
# Only runs of 9 characters or more of digits and separators can hold one: finding those
# first keeps the masking cheap on the ordinary line (a request line is written every request).
NUMBER_RUN = re.compile(r"\+?\d[\d .-]{7,}\d")
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MASK = "***"

#: Attributes every LogRecord has; anything else was passed with ``extra=``.
STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
#: Extra fields written by the application itself that are never personal (and must stay intact).
TRUSTED_EXTRAS = frozenset({"request_id"})


def mask(text: str) -> str:
    """``text`` with ID numbers, phone numbers and e-mail addresses replaced by ``***``."""
    if "@" in text:
        text = EMAIL.sub(MASK, text)
    return NUMBER_RUN.sub(lambda run: PERSONAL_NUMBER.sub(MASK, run.group()), text)


class PersonalDataMask(logging.Filter):
    """Masks personal numbers in a record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Formatting once here covers the message and its arguments of any type.
        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        for name, value in vars(record).items():
            if isinstance(value, str) and name not in STANDARD_ATTRIBUTES and name not in TRUSTED_EXTRAS:
                setattr(record, name, mask(value))
        return True


class RequestContext(logging.Filter):
    """Adds ``request_id`` to records written while a request is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            from tracker.http.requestlog import current_request_id

            request_id = current_request_id()
            if request_id is not None:
                record.request_id = request_id
        return True


def json_formatter() -> logging.Formatter:
    """The JSON formatter: time, level, logger, message and every extra field, UTF-8 as is
    (orjson's: a line is written for every request)."""
    return OrjsonFormatter(JSON_FIELDS, rename_fields=JSON_RENAMES)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (a test's capture, a redirection)."""

    def __init__(self):
        super().__init__(None)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def make_handler(log_format: str, stream=None) -> logging.Handler:
    """A stream handler (the current stderr by default) in ``log_format`` with both filters."""
    if log_format not in FORMATS:
        raise ValueError(f"TRACKER_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    handler = logging.StreamHandler(stream) if stream is not None else StderrHandler()
    handler.setFormatter(json_formatter() if log_format == "json" else logging.Formatter(PLAIN_FORMAT))
    handler.addFilter(RequestContext())
    handler.addFilter(PersonalDataMask())
    handler.tracker_handler = True
    return handler


def configure(log_format: str, stream=None) -> logging.Handler | None:
    """Install the tracker's handler on the root logger, replacing an earlier one of ours.

    In plain format, a root logger that already has someone else's handlers (a test
    runner, a host application) is left alone; JSON is always installed, since it
    was asked for explicitly.
    """
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if getattr(handler, "tracker_handler", False)]
    if log_format == "plain" and root.handlers and not ours:
        return None
    for handler in ours:
        root.removeHandler(handler)
    handler = make_handler(log_format, stream)
    root.addHandler(handler)
    if log_format == "json":
        # Under gunicorn, its own messages (worker starts, timeouts) in the same format.
        for theirs in logging.getLogger("gunicorn.error").handlers:
            theirs.setFormatter(json_formatter())
            if not any(isinstance(f, PersonalDataMask) for f in theirs.filters):
                theirs.addFilter(PersonalDataMask())
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler
