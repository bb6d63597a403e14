"""Statistics counters kept in step with each dossier change (filled in by the statistics module)."""
from __future__ import annotations


def on_created(dossier) -> None:
    """Count a new dossier."""


def on_step(dossier, before, after, at) -> None:
    """Move the counters of a dossier by one step."""
