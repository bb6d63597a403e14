"""``make bench``: import, lookup and statistics at scale, each against its reference.

    python -m bench [--dossiers 1000000] [--seconds 15] [--workdir bench/results]

1. Generates a city's history (bench.generate) and imports it into a fresh
   SQLite database with ``flask tracker import``: time and dossiers per second
   (with ``--import-baseline``, also in one process without workers, to compare).
2. Serves the app and the bare baseline (bench.baseline) with gunicorn, the
   same number of workers each, and loads both with the same random codes:
   requests per second and the ratio (the budget is 70% or more).
3. Times the yearly city-wide statistics grouped by agency (the budget is
   20 ms or less per request).
Results are printed, never asserted: the numbers depend on the machine.
"""
from __future__ import annotations

import argparse
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from bench.load import hammer

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd: list[str], env: dict) -> float:
    started = time.monotonic()
    subprocess.run(cmd, env=env, cwd=ROOT, check=True)
    return time.monotonic() - started


@contextmanager
def gunicorn(app: str, env: dict, workers: int):
    port = free_port()
    # The app writes its log line per request as in production, into a file rather than over the results.
    log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)
    proc = subprocess.Popen([str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                             "--access-logfile", "/dev/null", "--error-logfile", "-", "--log-level", "warning", app],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/public/dossiers/NONE", timeout=2)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def prepare(args, env: dict) -> Path:
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"city-{args.dossiers}.jsonl"
    database = work / f"city-{args.dossiers}.db"
    if not data.exists():
        print(f"generating {args.dossiers} dossiers ...", flush=True)
        run([PYTHON, "-m", "bench.generate", str(data), "--dossiers", str(args.dossiers)], env)
    if database.exists() and args.reuse:
        return database
    print(f"importing {data.name} ({data.stat().st_size / 1e6:.0f} MB) ...", flush=True)
    seconds = import_into(database, data, env)
    print(f"IMPORT  {args.dossiers} dossiers in {seconds:.0f} s = {args.dossiers / seconds:.0f} dossiers/s "
          f"(budget: a few minutes for a million)", flush=True)
    if args.import_baseline:
        single = import_into(work / f"city-{args.dossiers}-single.db", data, env, "--workers", "0")
        print(f"IMPORT  baseline, one process: {single:.0f} s = {args.dossiers / single:.0f} dossiers/s; "
              f"with workers {single / seconds:.1f} times faster", flush=True)
    return database


def import_into(database: Path, data: Path, env: dict, *options: str) -> float:
    """Import ``data`` into a new SQLite database; the seconds it took."""
    for leftover in database.parent.glob(database.name + "*"):
        leftover.unlink()
    env = {**env, "TRACKER_DATABASE_URL": f"sqlite:///{database}"}
    run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], env)
    return run([str(BIN / "flask"), "--app", "wsgi", "tracker", "import", str(data), *options], env)


def lookup(args, env: dict, database: Path) -> None:
    with sqlite3.connect(database) as db:
        codes = [row[0] for row in db.execute("SELECT code FROM dossiers ORDER BY random() LIMIT 5000")]
    paths = [f"/api/v1/public/dossiers/{code}" for code in codes]
    app_env = {**env, "TRACKER_DATABASE_URL": f"sqlite:///{database}"}
    results = {}
    for name, target, extra in (("baseline", "bench.baseline:app", {"BENCH_SQLITE_PATH": str(database)}),
                                ("tracker", "wsgi:app", {})):
        with gunicorn(target, {**app_env, **extra}, args.workers) as port:
            hammer(port, paths, seconds=3)  # warm-up
            results[name] = hammer(port, paths, seconds=args.seconds)
        print(f"LOOKUP  {name:8} {results[name]['rps']:8.0f} req/s ({results[name]['other']} non-200)", flush=True)
    ratio = results["tracker"]["rps"] / results["baseline"]["rps"]
    print(f"LOOKUP  tracker / baseline = {ratio:.0%} (budget: 70% or more)")


def stats(args, env: dict, database: Path) -> None:
    year = date.today().year - 1
    app_env = {**env, "TRACKER_DATABASE_URL": f"sqlite:///{database}"}
    url = f"/api/v1/public/stats?period={year}&group_by=agency"
    with gunicorn("wsgi:app", app_env, 1) as port:
        timings = []
        for n in range(args.stats_requests + 5):
            started = time.perf_counter()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{url}", timeout=60) as response:
                response.read()
            if n >= 5:
                timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"STATS   {url}: median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms over {len(timings)} "
          f"requests (budget: 20 ms or less)")


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmarks of the dossier tracker.")
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stats-requests", type=int, default=200)
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--reuse", action="store_true", help="Keep an already imported database.")
    parser.add_argument("--import-baseline", action="store_true",
                        help="Also import the file in one process (no workers), to compare.")
    args = parser.parse_args()
    env = {**os.environ, "TRACKER_INSTANCE_DIR": str(Path(args.workdir) / "instance"),
           "TRACKER_RATELIMIT_PUBLIC": "100000000/second", "TRACKER_SECRET_KEY": "bench-" + "x" * 40,
           "PYTHONPATH": str(ROOT)}
    random.seed(1)
    database = prepare(args, env)
    lookup(args, env, database)
    stats(args, env, database)


if __name__ == "__main__":
    main()
