"""Loading and writing whole databases as JSON Lines: ``flask tracker import`` and ``export``.

- ``importer``: reads a file line by line and drives the pipeline, reference records in
  the main process, dossier lines in chunks;
- ``validation``: the fast path that checks an ordinary dossier line without marshmallow;
- ``records``: one dossier line validated (schemas, then the state machine) into rows;
- ``pool``: worker processes that prepare chunks while the main process writes;
- ``writer``: the bulk inserts of prepared rows;
- ``export``: the same format written from the database.

The format is described in docs/api-guide.md#import-and-export.
"""
