"""marshmallow's error messages in the flat form the API and the import report give them."""
from __future__ import annotations


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into ``{"applicant.phone": ["..."]}``.

    webargs nests them under the request location (``json``, ``query``); that
    level is dropped because clients name fields, not locations.
    """
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key)
            if not prefix and name in {"json", "query", "headers", "form", "view_args", "files"}:
                name = ""
            if name == "_schema" and prefix:
                # A nested object refused as a whole belongs to the field that holds it.
                name = ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            flat.update(flatten_errors(value, path))
    elif isinstance(messages, (list, tuple)) and messages and all(isinstance(m, str) for m in messages):
        flat.setdefault(prefix or "_schema", []).extend(messages)
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            flat.update(flatten_errors(item, prefix))
    else:
        flat.setdefault(prefix or "_schema", []).append(str(messages))
    return flat
