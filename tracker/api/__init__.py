"""The REST API: one flask-smorest blueprint per resource, all on one ``Api`` whose errors are problem documents."""
from __future__ import annotations

import http
import logging

from apispec import BasePlugin
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import InternalServerError

from tracker.http.problems import PROBLEM_CONTENT_TYPE, ProblemSchema, problem_from_exception

log = logging.getLogger(__name__)


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _is_error(status) -> bool:
    return str(status) == "default" or str(status)[:1] in "45"


class ProblemResponses(BasePlugin):
    """Documents every error answer of an operation as ``application/problem+json``.

    ``alt_response`` with a description only (404, 409, 429...) would otherwise document
    no body, and flask-smorest's shared ones say ``application/json``.
    """

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            for status, response in operation.get("responses", {}).items():
                if _is_error(status) and isinstance(response, dict) and "$ref" not in response:
                    response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}


class ProblemApi(Api):
    """flask-smorest ``Api`` whose errors are problem documents, and documented as such."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, *, extra_plugins=None, **kwargs):
        super()._init_spec(extra_plugins=[*(extra_plugins or ()), ProblemResponses()], **kwargs)

    def _register_responses(self):
        # flask-smorest's own shared responses (UNPROCESSABLE_ENTITY, DEFAULT_ERROR...), as problems.
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if _is_error(status.value):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec,
                             PROBLEM_CONTENT_TYPE if _is_error(status.value) else self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def handle_http_exception(self, error):
        if isinstance(error, InternalServerError) and error.original_exception is not None:
            log.exception("unhandled error", exc_info=error.original_exception)
        return problem_from_exception(error)


#: The API's documentation and blueprints, bound to the app in ``create_app``.
api = ProblemApi()
