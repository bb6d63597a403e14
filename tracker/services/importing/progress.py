"""How far imports have gone, as a Prometheus counter (served at /metrics by tracker.http.metrics)."""
from __future__ import annotations

from prometheus_client import Counter

IMPORTED_DOSSIERS = Counter("tracker_import_dossiers_total",
                            "Dossiers written by imports so far (committed, not the ones already present).",
                            registry=None)


def count_imported(dossiers: int) -> None:
    """``dossiers`` more dossiers were committed by an import."""
    IMPORTED_DOSSIERS.inc(dossiers)
