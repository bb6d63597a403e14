"""Prometheus metrics at ``/metrics`` (prometheus-flask-exporter), for the loopback and listed addresses.

- ``flask_http_request_duration_seconds`` (histogram) by ``method``, ``endpoint`` and
  ``status``: the endpoint is the view's name (``dossiers.get``, ``public.get``...), never the
  raw path, so dossier codes in paths do not make one series per dossier; its
  ``_count`` is the number of requests per endpoint;
- ``flask_http_request_total`` by ``method`` and ``status``;
- ``tracker_rate_limit_refusals_total`` by ``limit`` (the limiter scope that refused);
- whatever other collectors the factory passes (the importer's progress).

Under gunicorn every worker writes its figures to files in ``PROMETHEUS_MULTIPROC_DIR``
(set up by gunicorn.conf.py) and any worker answers ``/metrics`` with the sum of all.
"""
from __future__ import annotations

import ipaddress
import os
from functools import wraps
from typing import Iterable

from flask import Flask, Request, current_app
from prometheus_client import CollectorRegistry, Counter
from prometheus_flask_exporter import PrometheusMetrics
from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

from tracker.clients import client_address
from tracker.http.problems import problem_response

PATH = "/metrics"
REFUSED = "The metrics are served only to the loopback addresses and to those in TRACKER_METRICS_ALLOW."

RATE_LIMIT_REFUSALS = Counter("tracker_rate_limit_refusals_total", "Requests refused by a rate limit, by limit.",
                              ["limit"], registry=None)


def count_refusal(limit: str) -> None:
    """One more request refused by the rate limit ``limit`` (a limiter scope)."""
    RATE_LIMIT_REFUSALS.labels(limit=limit).inc()


def endpoint(request: Request) -> str:
    """The label of a request: its view's name, ``unmatched`` when no route matched."""
    return request.endpoint or "unmatched"


def allowed_networks(entries: Iterable[str]) -> list:
    """Parse ``TRACKER_METRICS_ALLOW`` (addresses or networks); a bad entry stops the start."""
    try:
        return [ipaddress.ip_network(entry, strict=False) for entry in entries]
    except ValueError as error:
        raise ValueError(f"TRACKER_METRICS_ALLOW: {error}") from error


def may_read_metrics(address: str, networks: list) -> bool:
    """Whether ``address`` is a loopback address or inside one of ``networks``."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return ip.is_loopback or any(ip in network for network in networks)


def internal_only(view):
    """Answer 403 to a client outside the loopback and the configured networks."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not may_read_metrics(client_address(), current_app.extensions["tracker_metrics_allow"]):
            return problem_response(403, REFUSED)
        return view(*args, **kwargs)

    return guarded


def multiprocess() -> bool:
    """Whether the figures are shared by several processes (gunicorn.conf.py sets the directory)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def install(app: Flask, collectors: Iterable = ()) -> PrometheusMetrics:
    """Count the requests of ``app`` and serve ``/metrics`` with ``collectors`` besides."""
    app.extensions["tracker_metrics_allow"] = allowed_networks(app.config["TRACKER_METRICS_ALLOW"])
    options = {"group_by": endpoint, "metrics_decorator": internal_only}
    if multiprocess():
        # The figures of every process are read from the directory, custom ones included.
        return GunicornInternalPrometheusMetrics(app, path=PATH, **options)
    # One registry per app: the suite builds many apps in one process.
    registry = CollectorRegistry()
    for collector in (RATE_LIMIT_REFUSALS, *collectors):
        registry.register(collector)
    return PrometheusMetrics(app, path=PATH, registry=registry, **options)
