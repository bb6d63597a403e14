"""Generated requests against every operation of the OpenAPI document, valid ones and
invalid ones (wrong types, missing fields, NUL characters, odd paths): whatever the input,
the answer is never a server error. The requests carry an admin's token, so that they
reach the handlers rather than stop at the authentication."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from tests.conftest import PASSWORD

EXAMPLES = 25  # per operation and per kind (valid, invalid)


def test_no_input_gets_a_server_error(app, city, client):
    response = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    headers = {"Authorization": "Bearer " + response.get_json()["access_token"]}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.generation.update(allow_x00=True)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 25, "the document lists the API's operations"
    strategies = st.sampled_from([operation.as_strategy(generation_mode=mode) for operation in operations
                                  for mode in schemathesis.GenerationMode])
    calls = []

    @settings(max_examples=EXAMPLES * len(operations) * 2, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def no_server_error(data):
        case = data.draw(data.draw(strategies))
        calls.append(case.operation.label)
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    no_server_error()
    assert len(set(calls)) == len(operations), "every operation was called"
