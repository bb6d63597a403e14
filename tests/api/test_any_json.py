"""Any JSON at all, to every operation of the OpenAPI document, as an admin and without a
token: deep nesting, lone surrogates, huge numbers, odd keys mixed with the API's own
field names. Whatever arrives, the answer is never a server error, and every error is a
problem document."""
from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_public import new_dossier
from tests.conftest import PASSWORD

EXAMPLES = 20  # per operation and caller
METHODS = ("get", "post", "put", "patch", "delete")

#: Any code point, lone surrogates included (hypothesis leaves them out by default).
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)


class Raw(str):
    """JSON text written as it is (numbers ``json.dumps`` cannot or would not write)."""


HUGE_NUMBERS = st.sampled_from([Raw("1e999999"), Raw("-1e400"), Raw("9" * 5000), Raw("1" + "0" * 40),
                                Raw("-0"), Raw("1.5e-400"), Raw("123456789012345678901234567890")])


def dump(value) -> str:
    """JSON text of ``value``, ``Raw`` parts as they are, every string ASCII-escaped."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dump(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return json.dumps(value)


def _field_names(spec) -> list[str]:
    names = set()
    for schema in spec.get("components", {}).get("schemas", {}).values():
        names.update(schema.get("properties", {}))
    return sorted(names)


def bodies(spec):
    """JSON texts of arbitrary structure; objects often use the API's own field names."""
    keys = st.one_of(st.sampled_from(_field_names(spec)), ANY_TEXT)
    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                       ANY_TEXT, HUGE_NUMBERS, st.sampled_from(["000.01.00.H57", "1.000001", "2025-01-02",
                                                                "admin", "accept", "working_days"]))
    values = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(keys, inner, max_size=6)), max_leaves=25)
    objects = st.dictionaries(keys, values, max_size=8)
    deep = st.builds(lambda depth, core: "[" * depth + dump(core) + "]" * depth, st.integers(1, 3000), values)
    return st.one_of(objects.map(dump), values.map(dump), deep)


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method


@pytest.fixture
def known(client, city, auth):
    """Real values for the path parameters (the rest are generated), and an admin's token."""
    code = new_dossier(client, auth.headers("clerk"))["code"]
    return {"code": [code, "000.01.00.H57", "1.000001"], "username": ["viewer"], "date_text": ["2025-01-01"]}


@pytest.mark.parametrize("user", ["admin", None])
def test_no_json_gets_a_server_error(client, known, user):
    spec = client.get("/api/v1/openapi.json").get_json()
    ops = list(operations(spec))
    assert len(ops) > 25, "the document lists the API's operations"
    sent = {}
    for path, method in ops:
        # A fresh token for each operation: one of them (logout) revokes the token it carries.
        headers = {}
        if user:
            login = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
            headers["Authorization"] = "Bearer " + login.get_json()["access_token"]
        sent[(path, method)] = _send_any_json(client, spec, path, method, headers, known)
    assert all(count == EXAMPLES for count in sent.values()), sent


def _send_any_json(client, spec, path, method, headers, known) -> int:
    names = re.findall(r"{([^}]+)}", path)
    params = st.fixed_dictionaries({name: st.one_of(st.sampled_from(known.get(name, ["X"])), ANY_TEXT)
                                    for name in names})
    count = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(body=bodies(spec), values=params)
    def check(body, values):
        nonlocal count
        count += 1
        url = path
        for name, value in values.items():
            url = url.replace("{%s}" % name, quote(value.encode("utf-8", "surrogatepass"), safe="") or "X")
        response = client.open(url, method=method.upper(), data=body.encode("utf-8", "surrogatepass"),
                               content_type="application/json", headers=headers)
        assert response.status_code < 500, (method, url, body[:300], response.get_data(as_text=True))
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json", (method, url, response.headers)

    check()
    return count
