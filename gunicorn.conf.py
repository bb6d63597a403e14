"""Production defaults for gunicorn; every value can be overridden on the command line."""
import multiprocessing
import os

bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
graceful_timeout = 30
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
# The app is built once in the master and shared by the forked workers.
preload_app = True
# The access log shows no query string of the public lookups and pages (a citizen's
# verify= and code= sit there) and no referer's query string.
logger_class = "tracker.http.accesslog.PrivateAccessLogger"
