"""Production defaults for gunicorn; every value can be overridden on the command line."""
import glob
import multiprocessing
import os
import shutil
import tempfile

bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
if threads == 1:
    # The sync worker that answers a request running past the timeout with a 503 problem
    # (tracker/http/server_errors.py); with threads, gunicorn's gthread worker as it is.
    worker_class = "tracker.http.server_errors.ProblemSyncWorker"
timeout = 30
graceful_timeout = 30
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
# What gunicorn refuses itself, as problem documents: a request line (method, URL,
# version) over 4094 bytes is 414, more than 100 header fields or one over 8190 bytes 431.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# The app writes one JSON line per request itself (method, path without the query string,
# status, duration, request id). gunicorn's own access log stays off; turned on
# (--access-logfile -), it too leaves out the public query strings (logger_class below).
accesslog = None
errorlog = "-"
# The app is built once in the master and shared by the forked workers.
preload_app = True
# The access log shows no query string of the public lookups and pages (a citizen's
# verify= and code= sit there) and no referer's query string.
logger_class = "tracker.http.accesslog.PrivateAccessLogger"

# Logs as JSON lines unless asked otherwise (TRACKER_LOG_FORMAT=plain); gunicorn's own
# messages take the same format (tracker.logs).
os.environ.setdefault("TRACKER_LOG_FORMAT", "json")

# /metrics sums the figures of every worker, which each write to files in this
# directory (prometheus_client's multiprocess mode). It must be set before the app,
# and prometheus_client with it, is imported.
_METRICS_PREFIX = "tracker-metrics-"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=_METRICS_PREFIX)


def on_starting(server):
    """gunicorn's own error answers as problem documents (inherited by the workers); an empty
    metrics directory (counters of an earlier run would be added in)."""
    from tracker.http.server_errors import install

    install()
    for stale in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    """A worker is gone: its live gauges no longer count."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics directory if it is the temporary one made above."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    if (os.path.dirname(directory) == tempfile.gettempdir()
            and os.path.basename(directory).startswith(_METRICS_PREFIX)):
        shutil.rmtree(directory, ignore_errors=True)
