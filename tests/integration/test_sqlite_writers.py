"""SQLite writers take turns on a lock file before ``BEGIN IMMEDIATE`` (``tracker.sqlite_writers``).

These run on a SQLite file of their own: the queue is SQLite's alone.
"""
from __future__ import annotations

import fcntl
import os
import threading

from sqlalchemy import create_engine, event, text

from tracker.database import configure_engine
from tracker.sqlite_writers import lock_path

LIVENESS = 20  # seconds a thread may take before the test calls it stuck (never reached when it works)


def lock_is_taken(engine) -> bool:
    """Whether some writer holds the database's turn (probed without waiting)."""
    descriptor = os.open(lock_path(engine.url.database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def engine_on(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    configure_engine(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE entries (n INTEGER)"))
    return engine


def test_a_second_writer_waits_for_the_first_to_commit(tmp_path):
    engine = engine_on(tmp_path)
    order: list[str] = []
    began = threading.Event()

    def second_writer():
        with engine.begin() as connection:  # waits for its turn here
            order.append("second began")
            began.set()
            connection.execute(text("INSERT INTO entries VALUES (2)"))

    assert not lock_is_taken(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO entries VALUES (1)"))
        assert lock_is_taken(engine)
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not began.wait(0.5)  # still queued while the first is open
        order.append("first commits")
    assert began.wait(LIVENESS)
    thread.join(LIVENESS)
    assert order == ["first commits", "second began"]
    assert not lock_is_taken(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM entries ORDER BY n")).scalars().all() == [1, 2]
    engine.dispose()


def writer_in_another_thread(engine) -> threading.Event:
    """A write started in a thread of its own; the event is set once it committed."""
    done = threading.Event()

    def write():
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO entries VALUES (2)"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done


def test_a_rolled_back_or_failed_writer_lets_the_next_one_in(tmp_path):
    engine = engine_on(tmp_path)
    connection = engine.connect()  # kept open after its rollback
    connection.begin()
    connection.execute(text("INSERT INTO entries VALUES (1)"))
    connection.rollback()
    assert writer_in_another_thread(engine).wait(LIVENESS)
    connection.begin()
    try:
        connection.execute(text("INSERT INTO no_such_table VALUES (1)"))
    except Exception:
        connection.rollback()
    assert writer_in_another_thread(engine).wait(LIVENESS)
    connection.close()
    engine.dispose()


def test_a_forked_child_does_not_keep_the_parents_turn(tmp_path):
    """The import's workers are forked while the main process writes; their copy of the
    lock file must not hold the lock after the parent lets it go."""
    engine = engine_on(tmp_path)
    read_end, write_end = os.pipe()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO entries VALUES (1)"))
        child = os.fork()
        if child == 0:  # the child lives on, idle, until the parent is done
            os.close(write_end)
            os.read(read_end, 1)
            os._exit(0)
    try:
        assert writer_in_another_thread(engine).wait(LIVENESS)
    finally:
        os.close(write_end)
        os.waitpid(child, 0)
        os.close(read_end)
    engine.dispose()


def test_a_thread_already_writing_is_not_made_to_wait_for_itself(tmp_path):
    """A second connection of the same thread goes straight to SQLite's own lock, which
    answers "database is locked" after its busy timeout, rather than waiting for ever."""
    engine = create_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    configure_engine(engine)
    # After the app's own settings: a short busy timeout, so that SQLite answers at once.
    event.listen(engine, "connect", lambda dbapi_connection, _record: dbapi_connection.execute("PRAGMA busy_timeout = 100"))
    outcome: list[str] = []

    def two_writers():
        with engine.connect() as first:
            first.begin()
            first.execute(text("CREATE TABLE entries (n INTEGER)"))
            with engine.connect() as second:
                try:
                    second.begin()
                    outcome.append("began")
                except Exception as error:  # SQLite's own answer
                    outcome.append(type(error).__name__ + ": " + str(error.orig))
            first.commit()

    thread = threading.Thread(target=two_writers)
    thread.start()
    thread.join(LIVENESS)
    assert not thread.is_alive()
    assert outcome == ["OperationalError: database is locked"]
    engine.dispose()
