"""The OpenAPI document gives every error answer the content type the API sends:
application/problem+json (schemathesis checks the live answers against it in CI)."""
from __future__ import annotations

from tests.conftest import assert_problem

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _resolve(spec, response):
    ref = response.get("$ref")
    return spec["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else response


def test_every_error_answer_is_documented_as_a_problem(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    errors = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status == "default" or status[0] in "45":
                    errors.append((path, method, status, _resolve(spec, response).get("content")))
    assert len(errors) > 60
    assert [e for e in errors if e[3] != PROBLEM] == []
    # Successful answers keep their own types.
    assert spec["paths"]["/api/v1/agencies"]["get"]["responses"]["200"]["content"].keys() == {"application/json"}


def test_the_live_errors_match(client, city):
    assert_problem(client.get("/api/v1/public/dossiers/NONE"), 404)
    assert_problem(client.get("/api/v1/dossiers"), 401)
    assert_problem(client.post("/api/v1/public/dossiers/NONE/verify", json={}), 422)
