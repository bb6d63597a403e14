"""The OpenAPI document describes every route, with its security; /docs works offline."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tracker.api.security import roles_required

METHODS_IGNORED = {"HEAD", "OPTIONS"}
OPENAPI = "/api/v1/openapi.json"


def to_openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def to_sample_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", "X-1", rule)


def api_operations(app):
    """(rule, method, view function) for every route under /api/v1 but the document itself."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api-docs.openapi_json":
            continue
        for method in sorted(rule.methods - METHODS_IGNORED):
            yield rule.rule, method, app.view_functions[rule.endpoint]


_ROLES_WRAPPER = roles_required("admin")(lambda: None).__code__


def guarded_by_roles(view) -> bool:
    """Whether ``roles_required`` wraps ``view`` (anywhere along its ``__wrapped__`` chain)."""
    while view is not None:
        if getattr(view, "__code__", None) is _ROLES_WRAPPER:
            return True
        view = getattr(view, "__wrapped__", None)
    return False


@pytest.fixture
def spec(client):
    response = client.get(OPENAPI)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_it_is_openapi_3(spec):
    assert re.fullmatch(r"3\.\d+\.\d+", spec["openapi"]), spec["openapi"]
    assert spec["info"]["title"] and spec["info"]["version"]
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer",
                                                                   "bearerFormat": "JWT"}


def test_every_api_route_is_documented_and_nothing_else(app, spec):
    routes = {(to_openapi_path(rule), method.lower()) for rule, method, _ in api_operations(app)}
    assert len(routes) >= 20
    documented = {(path, method) for path, item in spec["paths"].items() for method in item
                  if method in {"get", "post", "put", "patch", "delete"}}
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented operations the app does not have"


def test_every_operation_documents_its_responses(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = set(operation.get("responses", {}))
            assert any(code.startswith("2") for code in codes), (method, path, codes)
            assert operation.get("summary") or operation.get("description"), (method, path)
            if method in {"post", "patch", "put"} and not path.endswith(("/logout", "/refresh")):
                assert "requestBody" in operation, (method, path)


def test_operations_guarded_by_roles_declare_bearer_auth(app, spec):
    guarded = [(rule, method) for rule, method, view in api_operations(app) if guarded_by_roles(view)]
    assert len(guarded) >= 10  # users, reference writes, overrides, ... at least
    missing = [(rule, method) for rule, method in guarded
               if {"bearerAuth": []} not in spec["paths"][to_openapi_path(rule)][method.lower()].get("security", [])]
    assert missing == []


def test_what_refuses_anonymous_callers_declares_bearer_auth(app, client, spec):
    """Behaviourally: an operation that answers 401 without a token must say it needs one."""
    undeclared, public = [], []
    for rule, method, _ in api_operations(app):
        response = client.open(to_sample_path(rule), method=method, json={})
        operation = spec["paths"][to_openapi_path(rule)][method.lower()]
        declared = {"bearerAuth": []} in operation.get("security", [])
        if response.status_code == 401 and not declared:
            undeclared.append((rule, method))
        if response.status_code != 401:
            public.append((rule, method))
            assert response.status_code < 500, (rule, method, response.get_data(as_text=True))
    assert undeclared == []
    # The public reference data is not marked as needing a token.
    assert ("/api/v1/agencies", "GET") in public and ("/api/v1/calendar/due", "GET") in public
    assert "security" not in spec["paths"]["/api/v1/agencies"]["get"]
    assert "security" not in spec["paths"]["/api/v1/auth/login"]["post"]


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def test_docs_page_is_served_without_internet(client, app):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "http://" not in page and "https://" not in page
    parser = _Assets()
    parser.feed(page)
    assert any(u.endswith(".js") for u in parser.urls) and any(u.endswith(".css") for u in parser.urls)
    for url in parser.urls:
        assert not re.match(r"^([a-z]+:)?//", url), url  # no other host
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.get_data()) > 20, url
    # The page's own script points Swagger UI at the local document.
    init = [u for u in parser.urls if "init" in u]
    assert init, parser.urls
    script = client.get(init[0]).get_data(as_text=True)
    assert OPENAPI in script and "http://" not in script and "https://" not in script


OPERATIONS = ("get", "post", "put", "patch", "delete")
#: flask-smorest's own pagination-header schema, which no operation of this API uses.
UNUSED_BUILTINS = {"PaginationMetadata"}


def test_every_operation_parameter_and_field_is_described(spec):
    undescribed = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in OPERATIONS:
                continue
            if not (operation.get("summary") or operation.get("description")):
                undescribed.append(f"{method} {path}")
            undescribed += [f"{method} {path} ?{p['name']}" for p in operation.get("parameters", [])
                            if not p.get("description")]
    for name, schema in spec["components"]["schemas"].items():
        if name in UNUSED_BUILTINS:
            continue
        undescribed += [f"{name}.{field}" for field, prop in schema.get("properties", {}).items()
                        if "description" not in prop and "$ref" not in prop and "allOf" not in prop]
    assert not undescribed, undescribed


def test_every_plain_field_has_an_example(spec):
    missing = [f"{name}.{field}" for name, schema in spec["components"]["schemas"].items()
               if name not in UNUSED_BUILTINS
               for field, prop in schema.get("properties", {}).items()
               if prop.get("type") in ("string", "integer", "number", "boolean")
               and "example" not in prop and "enum" not in prop]
    assert not missing, missing


def test_the_step_operation_carries_the_actions_table(spec):
    from tracker.domain.workflow import RULES

    description = spec["paths"]["/api/v1/dossiers/{code}/steps"]["post"]["description"]
    for action, rule in RULES.items():
        row = next((line for line in description.splitlines() if line.startswith(f"| `{action.value}` |")), None)
        assert row is not None, action
        for field in rule.required:
            assert f"`{field}`" in row, (action, field)
    assert "`to_agency_code`" in description and "`public_note`" in description
