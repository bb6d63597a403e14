"""Backups of the SQLite database, and their restoration (``flask tracker backup`` / ``restore``).

A backup is taken with SQLite's online backup API from inside one read transaction:
in WAL mode writers go on meanwhile, and the copy is the database as of the moment
the transaction began, whatever was committed after it. It is written next to the
target under another name and renamed into place when complete, so a backup file is
never half-written.

A restore checks the backup first (a tracker database at the migrations' head, whose
integrity check passes), refuses while any process has the database open, and
replaces the file by a rename. PostgreSQL has its own tools: ``pg_dump`` and
``pg_restore`` (see ``postgresql_commands``).
"""
from __future__ import annotations

import os
import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy.engine import URL, make_url

from tracker.services.errors import ServiceError

Progress = Callable[[int, int], None]  # (pages copied, pages in all)


class BackupRefused(ServiceError):
    """A backup or a restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup file holds."""

    path: Path
    revision: str
    dossiers: int
    size: int


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite database URL; None for another database or an in-memory one."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def postgresql_commands(url: str | URL, path: str) -> tuple[str, str]:
    """The ``pg_dump`` and ``pg_restore`` commands for this database and file (password left out)."""
    url = make_url(url)
    target = URL.create("postgresql", url.username, None, url.host, url.port, url.database,
                        url.query).render_as_string(hide_password=False)
    dump = f"pg_dump --format=custom --no-owner --file={shlex.quote(path)} {shlex.quote(target)}"
    restore = f"pg_restore --clean --if-exists --no-owner --dbname={shlex.quote(target)} {shlex.quote(path)}"
    return dump, restore


def _connect(path: Path, timeout: float = 30) -> sqlite3.Connection:
    # Autocommit at the driver level: transactions are begun here, explicitly.
    return sqlite3.connect(path, timeout=timeout, isolation_level=None)


def _copy(source: sqlite3.Connection, target: Path, progress: Progress | None) -> None:
    """Copy ``source`` into ``target`` (replaced atomically) with the backup API, page steps reported."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    pages = source.execute("PRAGMA page_count").fetchone()[0]
    destination = sqlite3.connect(partial)
    try:
        source.backup(destination, pages=max(64, pages // 100),
                      progress=(lambda _status, remaining, total: progress(total - remaining, total))
                      if progress else None)
    finally:
        destination.close()
    _durable_rename(partial, target)


def _durable_rename(partial: Path, target: Path) -> None:
    with open(partial, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def backup(database: Path, target: Path, head: str, progress: Progress | None = None) -> BackupSummary:
    """Copy the live database ``database`` into ``target``, consistent as of the copy's start."""
    if not database.exists():
        raise BackupRefused(f"There is no database at {database}.")
    if target.resolve() == database.resolve():
        raise BackupRefused("The backup file cannot be the database itself.")
    source = _connect(database)
    try:
        # One read transaction for the whole copy: WAL writers go on meanwhile, the copy
        # never restarts because of them, and it shows the database as of this instant.
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        _copy(source, target, progress)
        source.execute("COMMIT")
    finally:
        source.close()
    return check(target, head, quick=True)


def check(path: Path, head: str, quick: bool = False) -> BackupSummary:
    """Check that ``path`` is an intact tracker database at revision ``head``; say what it holds."""
    if not path.is_file():
        raise BackupRefused(f"There is no file at {path}.")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupRefused(f"{path} cannot be opened as a SQLite database: {error}.") from error
    try:
        verdict = connection.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall()
        if verdict != [("ok",)]:
            problems = "; ".join(row[0] for row in verdict[:3])
            raise BackupRefused(f"{path} fails SQLite's integrity check: {problems}.")
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"alembic_version", "dossiers", "steps"} <= tables:
            raise BackupRefused(f"{path} is not a tracker database (it has no dossiers or no schema revision).")
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        if revision is None or revision[0] != head:
            raise BackupRefused(f"{path} is at schema revision {revision[0] if revision else 'none'}, not at "
                                f"{head}: restore it with the version of tracker that wrote it, then upgrade.")
        dossiers = connection.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupRefused(f"{path} is not a readable SQLite database: {error}.") from error
    finally:
        connection.close()
    return BackupSummary(path, revision[0], dossiers, path.stat().st_size)


def restore(source: Path, database: Path, head: str, progress: Progress | None = None) -> BackupSummary:
    """Replace ``database`` by the backup ``source``; refused while any process has it open."""
    summary = check(source, head)
    database.parent.mkdir(parents=True, exist_ok=True)
    guard = _exclusive(database) if database.exists() else None
    try:
        backup_connection = _connect(source)
        try:
            _copy(backup_connection, database, progress)
        finally:
            backup_connection.close()
    finally:
        if guard is not None:
            guard.close()
    return summary


def _exclusive(database: Path) -> sqlite3.Connection:
    """Hold the database alone until the restore has renamed the new file into place.

    Leaving WAL mode needs every other connection closed, so it fails while a server
    or a command has the file open (the app turns WAL on again at its next start).
    """
    connection = _connect(database, timeout=0)
    try:
        mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if mode != "delete":
            raise sqlite3.OperationalError("database is locked")
        connection.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError as error:
        connection.close()
        raise BackupRefused(f"{database} is in use ({error}): stop the server and every command using "
                            "the database, then restore again.") from error
    return connection
