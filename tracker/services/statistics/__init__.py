"""Statistics: counters kept in step with every dossier change, and the reports read from them.

- ``counters``: the write path, in the transaction of each step (``on_created``, ``on_step``);
- ``rebuild``: every counter recomputed from the dossiers' history;
- ``reports``: a period's figures read from the counters (``resolve``, ``report``);
- ``exports``: the II.06a table of a report as CSV and XLSX;
- ``answers``: finished reports of past periods, remembered until the data changes.

The rules are in docs/rules.md#statistics-counters.
"""
from tracker.services.statistics.counters import TABLES, Accumulator, flags_of, on_created, on_evaluation, on_step
from tracker.services.statistics.rebuild import rebuild, replay_deltas, unpaused_deltas
from tracker.services.statistics.reports import (Query, remembered_json, remembered_report, report, report_json,
                                                 resolve)

__all__ = ["TABLES", "Accumulator", "Query", "flags_of", "on_created", "on_evaluation", "on_step", "rebuild",
           "remembered_json", "remembered_report", "replay_deltas", "report", "report_json", "resolve", "unpaused_deltas"]
