"""Preparing import chunks in worker processes, results taken back in file order.

The main process reads the file and writes; forked workers validate and replay
(``import_records.prepare_chunk``), which is most of the CPU time. Workers inherit
the import context when they fork, so one pool serves one context: the importer
makes a new pool after a reference record changes it.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from typing import Iterator

from sqlalchemy.engine import Engine

from tracker.services.importing.records import ImportContext, PreparedChunk, prepare_chunk

WORKER_NICENESS = 5
# Chunks queued ahead of the one the main process waits for. While the main process
# waits for the database (a counter roll-up takes seconds), the workers go on with
# these: about 32,000 dossiers, some 150 MB once prepared.
IN_FLIGHT = 32
_context: ImportContext | None = None  # what the forked workers prepare against


def _prepare(lines: list) -> PreparedChunk:
    prepared = prepare_chunk(lines, _context)
    gc.collect(1)
    return prepared


def _start_worker(engine: Engine) -> None:
    # The parent's pooled connections are copied into the child: it must never use or close them.
    engine.dispose(close=False)
    # The main process writes in file order and everything waits for it: it gets the CPU first.
    os.nice(WORKER_NICENESS)
    gc.disable()  # the young generation is collected after each chunk (see _prepare)


class ChunkPool:
    """Forked workers preparing chunks; ``submit`` keeps a bounded number in flight."""

    def __init__(self, context: ImportContext, workers: int, engine: Engine):
        global _context
        _context = context
        self._pool = multiprocessing.get_context("fork").Pool(
            workers, initializer=_start_worker, initargs=(engine,))
        self._pending: deque = deque()
        self._limit = max(IN_FLIGHT, 2 * workers + 1)

    def submit(self, lines: list) -> Iterator[PreparedChunk]:
        """Queue a chunk; yield the oldest results while too many are in flight."""
        self._pending.append(self._pool.apply_async(_prepare, (lines,)))
        while len(self._pending) > self._limit:
            yield self._pending.popleft().get()

    def drain(self) -> Iterator[PreparedChunk]:
        """Every result still in flight, oldest first."""
        while self._pending:
            yield self._pending.popleft().get()

    def close(self) -> None:
        """Stop the workers (results not taken are dropped)."""
        self._pending.clear()
        self._pool.terminate()
        self._pool.join()
