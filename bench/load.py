"""A small HTTP load generator: client processes of threads, each with its own connection, for a fixed time.

A client repeats an *iteration* (one request, or a clerk's create and four steps)
until the time is up. Each request is timed to its first byte: from sending it to
having read the status line and headers (``getresponse``), then the body is read.
Connections are kept alive where the server allows it (gunicorn's sync workers
close each one; http.client then opens the next by itself).
"""
from __future__ import annotations

import http.client
import multiprocessing
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable

#: (method, path, headers, body or None) -> (status, headers, body)
Send = Callable[..., tuple[int, http.client.HTTPMessage, bytes]]
#: An iteration gets a send function and a random generator; it calls ``send`` one or more times.
Iteration = Callable[[Send, random.Random], None]


@dataclass
class Result:
    """Throughput and latency of one measurement."""

    requests: int
    errors: int
    seconds: float
    timings_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.timings_ms:
            return float("nan")
        ordered = sorted(self.timings_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)

    def add(self, other: "Result") -> "Result":
        return Result(self.requests + other.requests, self.errors + other.errors, self.seconds + other.seconds,
                      self.timings_ms + other.timings_ms)


class Failed(Exception):
    """An answer the scenario did not expect (counted as an error, the iteration stops)."""


def _client(port: int, iteration: Iteration, stop: float, seed: int, out: list, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    timings: list[float] = []
    errors = 0

    def send(method: str, path: str, headers: dict | None = None, body: bytes | None = None,
             expect: tuple[int, ...] = (200,)):
        nonlocal errors
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            timings.append((time.perf_counter() - started) * 1000)
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            errors += 1
            raise Failed(repr(error)) from error
        if response.status not in expect:
            errors += 1
            raise Failed(f"{method} {path}: {response.status} {data[:200]!r}")
        return response.status, response.headers, data

    while time.monotonic() < stop:
        try:
            iteration(send, rng)
        except Failed:
            pass
    conn.close()
    with lock:
        out.append((len(timings), errors, timings))


def _process(port: int, iteration: Iteration, seconds: float, clients: int, seed: int, queue) -> None:
    stop = time.monotonic() + seconds
    out: list = []
    lock = threading.Lock()
    threads = [threading.Thread(target=_client, args=(port, iteration, stop, seed * 1000 + n, out, lock))
               for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    timings = [t for _, _, ts in out for t in ts]
    queue.put((sum(n for n, _, _ in out), sum(e for _, e, _ in out), timings))


def measure(port: int, iteration: Iteration, seconds: float, clients: int, processes: int = 2,
            seed: int = 1) -> Result:
    """Run ``clients`` concurrent clients (spread over ``processes``) for ``seconds``."""
    context = multiprocessing.get_context("fork")  # the iteration may be a closure
    queue = context.Queue()
    processes = max(1, min(processes, clients))
    shares = [clients // processes + (1 if n < clients % processes else 0) for n in range(processes)]
    procs = [context.Process(target=_process, args=(port, iteration, seconds, share, seed + n, queue))
             for n, share in enumerate(shares)]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - started
    return Result(sum(r[0] for r in results), sum(r[1] for r in results), elapsed,
                  [t for r in results for t in r[2]])


def get_one_of(paths: list[str], headers: dict | None = None) -> Iteration:
    """An iteration that GETs one of ``paths`` at random."""

    def iteration(send: Send, rng: random.Random) -> None:
        send("GET", rng.choice(paths), headers)

    return iteration
