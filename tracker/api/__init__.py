"""The REST API: one flask-smorest blueprint per resource, all on one ``Api`` whose errors are problem documents."""
from __future__ import annotations

import logging

from flask_smorest import Api
from werkzeug.exceptions import InternalServerError

from tracker.http.problems import ProblemSchema, problem_from_exception

log = logging.getLogger(__name__)


class ProblemApi(Api):
    """flask-smorest ``Api`` whose errors are problem documents."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        if isinstance(error, InternalServerError) and error.original_exception is not None:
            log.exception("unhandled error", exc_info=error.original_exception)
        return problem_from_exception(error)


#: The API's documentation and blueprints, bound to the app in ``create_app``.
api = ProblemApi()
