"""Generated requests against every operation of the OpenAPI document, valid ones and
invalid ones (wrong types, missing fields, NUL characters, odd paths): whatever the input,
the answer is never a server error. The requests carry an admin's token, so that they
reach the handlers rather than stop at the authentication; fewer carry a clerk's token
(the agency scope's paths) or none (the public ones and the refusals)."""
from __future__ import annotations

import schemathesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error

from tests.conftest import PASSWORD



@pytest.mark.parametrize(("user", "examples"), [("admin", 25), ("clerk", 8), (None, 8)])  # per operation and kind
def test_no_input_gets_a_server_error(app, city, client, user, examples):
    headers = {}
    if user:
        response = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
        assert response.status_code == 200, response.get_data(as_text=True)
        headers = {"Authorization": "Bearer " + response.get_json()["access_token"]}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.generation.update(allow_x00=True)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 25, "the document lists the API's operations"
    for operation in operations:
        for mode in schemathesis.GenerationMode:
            try:
                _no_server_error(operation.as_strategy(generation_mode=mode), headers, examples)
            except Unsatisfiable:
                if mode is schemathesis.GenerationMode.POSITIVE:
                    raise
                # An operation that takes no input has no invalid input to send.


def _no_server_error(cases, headers: dict, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def check(case):
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    check()
