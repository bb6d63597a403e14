"""A small HTTP load generator: client processes with keep-alive connections, for a fixed time."""
from __future__ import annotations

import http.client
import multiprocessing
import random
import time


def _worker(port: int, paths: list[str], seconds: float, connections: int, seed: int, out) -> None:
    import threading

    rng = random.Random(seed)
    counts = {"ok": 0, "other": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        ok = other = 0
        while time.monotonic() < stop:
            conn.request("GET", rng.choice(paths))
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                ok += 1
            else:
                other += 1
        conn.close()
        with lock:
            counts["ok"] += ok
            counts["other"] += other

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((counts["ok"], counts["other"]))


def hammer(port: int, paths: list[str], seconds: float = 15, processes: int = 2, connections: int = 4) -> dict:
    """Requests per second over ``seconds`` from ``processes`` × ``connections`` clients."""
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_worker, args=(port, paths, seconds, connections, n, queue))
             for n in range(processes)]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - started
    ok = sum(r[0] for r in results)
    other = sum(r[1] for r in results)
    return {"rps": ok / elapsed, "ok": ok, "other": other, "seconds": elapsed}
