"""Production defaults for gunicorn; every value can be overridden on the command line."""
import multiprocessing
import os

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
accesslog = "-"
errorlog = "-"
# The app is built once in the master and shared by the forked workers.
preload_app = True
# The access log shows no query string of the public lookups and pages (a citizen's
# verify= and code= sit there) and no referer's query string.
logger_class = "tracker.http.accesslog.PrivateAccessLogger"


def on_starting(server):
    """gunicorn's own error answers as problem documents (inherited by the workers)."""
    from tracker.http.server_errors import install

    install()
