"""``make bench``: import, public reads and a clerk's writes at scale, over HTTP, on each database.

    python -m bench [--dossiers N] [--seconds S] [--only sqlite|postgresql]

``BENCH_DOSSIERS`` (default 1,000,000) and ``BENCH_SECONDS`` (default 10) give the
defaults of ``--dossiers`` and ``--seconds``. One generated file (bench.generate,
kept in bench/cache/, named by its size and the generator's version) feeds every
database: SQLite always, PostgreSQL too when 127.0.0.1:5432 answers (in a database
``tracker_bench`` created and dropped here). The service runs as in production:
gunicorn with gunicorn.conf.py, the rate limits kept in Redis (database 9; a
redis-server is started when none runs), the public limit set so high that it is
counted on every request but never refuses.

Per database: the import (its time, with the importer's progress bar), then after a
warm-up each scenario, timed to the first byte of each answer:

- lookup: random existing codes, in rounds alternating with the bare baseline
  (bench.baseline: Flask and the raw driver reading the same rows, same gunicorn set-up);
- statistics: (a) a year of the whole city by agency under its root agency, (b) a
  quarter of one department by procedure, (c) a year by month, (d) a month by channel;
- clerks: 16 clients logged in as a clerk, each creating a dossier (Idempotency-Key)
  and taking it through four steps (If-Match with the last ETag).

Each scenario prints requests per second, p50, p99 and errors; each database ends with
one ``BENCH {json}`` line. Results are printed, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import quote

import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import generate
from bench.load import Result, Send, get_one_of, measure

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
CACHE = ROOT / "bench" / "cache"
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Its own name for a run kept with --keep, so that other runs do not drop it.
POSTGRES_DATABASE = os.environ.get("BENCH_POSTGRES_DATABASE", "tracker_bench")
REDIS_URL = "redis://127.0.0.1:6379/9"
#: gunicorn's workers, as gunicorn.conf.py counts them: every one must be warm before a measurement.
WORKERS = int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) * 2 + 1))
CLERK = ("bench-clerk", "Lantern-harbour-7-quiet-river")
CLERK_STEPS = [{"action": "process", "public_note": "Đang thẩm định"},
               {"action": "request_supplement", "reason": "Thiếu bản sao giấy khai sinh"},
               {"action": "receive_supplement"},
               {"action": "complete", "result": "approved"}]


def say(line: str) -> None:
    print(line, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def run(cmd: list[str], env: dict, **options) -> float:
    started = time.monotonic()
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, **options)
    return time.monotonic() - started


# -- the data, the databases and the services -------------------------------------------------------

def data_file(dossiers: int, env: dict) -> Path:
    """The generated file for this size, from the cache or made now."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"city-{dossiers}-v{generate.VERSION}.jsonl"
    if not path.exists():
        say(f"generating {dossiers} dossiers into {path.relative_to(ROOT)} ...")
        partial = path.with_suffix(".partial")
        run([PYTHON, "-m", "bench.generate", str(partial), "--dossiers", str(dossiers)], env)
        partial.rename(path)
    return path


class Database:
    """Where one run's data lives: ``url`` for the app, ``create()`` and ``drop()`` around the run."""

    def __init__(self, name: str, url: str, admin_url: str | None = None):
        self.name, self.url, self.admin_url = name, url, admin_url

    @classmethod
    def sqlite(cls, workdir: Path, dossiers: int) -> "Database":
        return cls("sqlite", f"sqlite:///{workdir / f'city-{dossiers}.db'}")

    @classmethod
    def postgresql(cls) -> "Database":
        return cls("postgresql", make_url(POSTGRES_SERVER).set(database=POSTGRES_DATABASE)
                   .render_as_string(hide_password=False), POSTGRES_SERVER)

    def _admin(self, statement: str) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(statement))
        engine.dispose()

    def create(self) -> None:
        if self.admin_url:
            self.drop()
            self._admin(f'CREATE DATABASE "{POSTGRES_DATABASE}"')
        else:
            path = Path(make_url(self.url).database)
            for leftover in path.parent.glob(path.name + "*"):
                leftover.unlink()

    def drop(self) -> None:
        if self.admin_url:
            self._admin(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)')

    def query(self, sql: str) -> list:
        engine = create_engine(self.url)
        with engine.connect() as conn:
            rows = conn.execute(text(sql)).all()
        engine.dispose()
        return rows

    def baseline_env(self) -> dict:
        if self.admin_url:
            return {"BENCH_POSTGRES_DSN": make_url(self.url).set(drivername="postgresql")
                    .render_as_string(hide_password=False)}
        return {"BENCH_SQLITE_PATH": make_url(self.url).database}


def ensure_redis() -> None:
    """A Redis for the rate limits; started here (no persistence) when none answers."""
    if not answers("127.0.0.1", 6379):
        say("starting redis-server on 127.0.0.1:6379 ...")
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
                        "--save", "", "--appendonly", "no"], check=True)
        for _ in range(50):
            if answers("127.0.0.1", 6379):
                break
            time.sleep(0.1)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


@contextmanager
def gunicorn(app: str, env: dict, log: Path):
    """The app under gunicorn with gunicorn.conf.py (only the address changed); yields the port."""
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                                 "--bind", f"127.0.0.1:{port}", app],
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/public/dossiers/NONE", timeout=5)
                break
            except urllib.error.HTTPError:  # the 404 of a served request: up
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{app} did not start, see {log}")
                time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=60)


# -- the scenarios --------------------------------------------------------------------------------

def warm_up(args, port: int, iteration) -> None:
    """More clients than workers, so that every worker has served the scenario (its first request
    compiles the SQL and loads the calendar) before it is measured."""
    measure(port, iteration, args.warmup, max(args.clients, 2 * WORKERS))


def report(name: str, result: Result) -> Result:
    say(f"  {name:34} {result.rps:8.0f} req/s   p50 {result.p50:7.1f} ms   p99 {result.p99:7.1f} ms   "
        f"errors {result.errors}")
    return result


def lookup(args, port: int, baseline_port: int, paths: list[str]) -> tuple[Result, Result]:
    """Rounds alternating between the service and the baseline, so that both see the same machine."""
    read = get_one_of(paths)
    warm_up(args, port, read)
    warm_up(args, baseline_port, read)
    rounds = 3
    tracker = baseline = None
    for n in range(rounds):
        one = measure(port, read, args.seconds, args.clients, seed=10 + n)
        other = measure(baseline_port, read, args.seconds, args.clients, seed=10 + n)
        tracker = one if tracker is None else tracker.add(one)
        baseline = other if baseline is None else baseline.add(other)
    return (report("lookup (service)", tracker), report("lookup (baseline, raw driver)", baseline))


def stats_paths(database: Database) -> dict[str, str]:
    """The statistics requests (and the yearly service index by agency), on the last full year of the data."""
    root = database.query("SELECT code FROM agencies WHERE parent_id IS NULL ORDER BY code LIMIT 1")[0][0]
    department = database.query("SELECT code FROM agencies WHERE level = 'department' AND parent_id IS NOT NULL "
                                 "ORDER BY code LIMIT 1")[0][0]
    year = date.today().year - 1
    base = "/api/v1/public/stats?"
    return {"stats (a) year, by agency under root": f"{base}period={year}&agency={root}&group_by=agency",
            "stats (b) quarter, department, by procedure": f"{base}period={year}-Q2&agency={department}"
                                                            "&group_by=procedure",
            "stats (c) year by month": f"{base}period={year}&group_by=month",
            "stats (d) month by channel": f"{base}period={year}-06&group_by=channel",
            "service index (e) year, by agency under root":
                f"/api/v1/public/service-index?period={year}&agency={root}&group_by=agency"}


def statistics(args, port: int, database: Database) -> list[Result]:
    results = []
    for name, path in stats_paths(database).items():
        read = get_one_of([path])
        warm_up(args, port, read)
        results.append(report(name, measure(port, read, args.seconds, args.stats_clients)))
    return results


def create_clerk(database: Database, env: dict) -> str:
    """A clerk of the first department; their agency's code."""
    agency = database.query("SELECT code FROM agencies WHERE level = 'department' AND parent_id IS NOT NULL "
                            "ORDER BY code LIMIT 1")[0][0]
    run([str(BIN / "flask"), "--app", "wsgi", "tracker", "create-user", CLERK[0], "--role", "clerk",
         "--agency", agency, "--password", CLERK[1]], env, stdout=subprocess.DEVNULL)
    return agency


def login(port: int) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/auth/login", method="POST",
                                     data=json.dumps({"username": CLERK[0], "password": CLERK[1]}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["access_token"]


def clerk_iteration(token: str, procedure: str):
    """Create a dossier, then take it through four steps, as a clerk's client sends them."""
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def iteration(send: Send, rng: random.Random) -> None:
        body = {"procedure_code": procedure, "channel": rng.choice(("direct", "online", "postal")),
                "applicant": {"name": "Nguyễn Văn Thử", "id_number": f"{rng.randrange(10**11, 10**12)}",
                              "phone": f"09{rng.randrange(10**8):08d}"}}
        _, headers, answer = send("POST", "/api/v1/dossiers", {**auth, "Idempotency-Key": uuid.uuid4().hex},
                                  orjson.dumps(body), expect=(201,))
        code, etag = orjson.loads(answer)["code"], headers["ETag"]
        for step in CLERK_STEPS:
            _, headers, _ = send("POST", f"/api/v1/dossiers/{quote(code, safe='')}/steps",
                                 {**auth, "If-Match": etag}, orjson.dumps(step), expect=(201,))
            etag = headers["ETag"]

    return iteration


def clerks(args, port: int, database: Database) -> Result:
    procedure = database.query("SELECT code FROM procedures ORDER BY code LIMIT 1")[0][0]
    write = clerk_iteration(login(port), procedure)
    warm_up(args, port, write)
    return report(f"clerks ({args.write_clients} clients, writes)", measure(port, write, args.seconds,
                                                                             args.write_clients))


# -- one database ---------------------------------------------------------------------------------

def bench_database(args, database: Database, data: Path, env: dict) -> dict:
    app_env = {**env, "TRACKER_DATABASE_URL": database.url}
    if args.reuse:
        say(f"== {database.name}: the database of an earlier --keep run, as it is (migrated to the code's schema)")
        run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], app_env)
        import_seconds = 0.0
    else:
        say(f"== {database.name}: importing {data.name} ({data.stat().st_size / 1e6:.0f} MB)")
        database.create()
    try:
        if not args.reuse:
            run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], app_env)
            import_seconds = run([str(BIN / "flask"), "--app", "wsgi", "tracker", "import", str(data)], app_env)
            say(f"  import: {args.dossiers} dossiers in {import_seconds:.1f} s = "
                f"{args.dossiers / import_seconds:.0f} dossiers/s")
            create_clerk(database, app_env)
        codes = [row[0] for row in database.query("SELECT code FROM dossiers ORDER BY random() LIMIT 5000")]
        paths = [f"/api/v1/public/dossiers/{quote(code, safe='')}" for code in codes]
        logs = Path(args.workdir)
        with gunicorn("wsgi:app", app_env, logs / f"gunicorn-{database.name}.log") as port, \
                gunicorn("bench.baseline:app", {**env, **database.baseline_env()},
                         logs / f"baseline-{database.name}.log") as baseline_port:
            served, bare = lookup(args, port, baseline_port, paths)
            stats = statistics(args, port, database)
            writes = clerks(args, port, database)
    finally:
        if not args.keep:
            database.drop()
    slowest_p50 = max(stats, key=lambda r: r.p50)
    slowest_p99 = max(stats, key=lambda r: r.p99)
    return {"database": database.name, "dossiers": args.dossiers, "import_seconds": round(import_seconds, 1),
            "lookup_rps": round(served.rps), "baseline_rps": round(bare.rps),
            "lookup_ratio": round(served.rps / bare.rps, 3) if bare.rps else None,
            "lookup_p99_ms": round(served.p99, 1), "stats_p50_ms": round(slowest_p50.p50, 1),
            "stats_p99_ms": round(slowest_p99.p99, 1), "write_steps_per_s": round(writes.rps, 1),
            "write_p99_ms": round(writes.p99, 1),
            "errors": served.errors + bare.errors + sum(r.errors for r in stats) + writes.errors}


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmarks of the dossier tracker.")
    parser.add_argument("--dossiers", type=int, default=int(os.environ.get("BENCH_DOSSIERS", 1_000_000)))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 10)),
                        help="Length of each measurement (the lookup takes three rounds of it, each side).")
    parser.add_argument("--warmup", type=float, default=3, help="Seconds of warm-up before each scenario.")
    parser.add_argument("--clients", type=int, default=8, help="Concurrent clients of the lookup.")
    parser.add_argument("--stats-clients", type=int, default=4, help="Concurrent clients of the statistics.")
    parser.add_argument("--write-clients", type=int, default=16, help="Concurrent clerks.")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="Measure one database only.")
    parser.add_argument("--keep", action="store_true",
                        help="Keep the databases after the run (for --reuse; the SQLite file stays in --workdir).")
    parser.add_argument("--reuse", action="store_true",
                        help="Measure the databases an earlier --keep run of the same size left, without importing.")
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TRACKER_INSTANCE_DIR": str(workdir / "instance"),
           "TRACKER_SECRET_KEY": "bench-" + "x" * 40, "PYTHONPATH": str(ROOT),
           "TRACKER_RATELIMIT_STORAGE_URL": REDIS_URL, "TRACKER_RATELIMIT_PUBLIC": "100000000/minute",
           # The importer's progress bar, redrawn once a second rather than ten times.
           "TQDM_MININTERVAL": "1"}
    env.pop("TRACKER_DATABASE_REPLICA_URL", None)
    say(f"machine: {os.cpu_count()} CPUs; gunicorn workers: {WORKERS}")
    ensure_redis()
    data = data_file(args.dossiers, env)
    databases = []
    if args.only in (None, "sqlite"):
        databases.append(Database.sqlite(workdir, args.dossiers))
    if args.only in (None, "postgresql"):
        if answers("127.0.0.1", 5432):
            databases.append(Database.postgresql())
        else:
            say("PostgreSQL does not answer on 127.0.0.1:5432: measured on SQLite only")
    lines = [bench_database(args, database, data, env) for database in databases]
    for line in lines:
        say("BENCH " + json.dumps(line))


if __name__ == "__main__":
    main()
