"""A WSGI app that answers /readyz at once and /slow after 30 s: for the worker-timeout test."""
import time


def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(30)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"status": "ok"}']
