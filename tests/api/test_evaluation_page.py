"""The evaluation form of /lookup/evaluation: a plain POST form with the API's rules."""
from __future__ import annotations

import pytest

BASE = "/api/v1/dossiers"
PHONE = "0912345678"


@pytest.fixture
def finished(client, city, auth):
    headers = auth.headers("clerk")
    response = client.post(BASE, headers=headers, json={"procedure_code": "1.000001", "channel": "direct",
                                                         "applicant": {"name": "Lê Văn Tư", "phone": PHONE}})
    code = response.get_json()["code"]
    for body in ({"action": "process"}, {"action": "complete", "result": "approved"}):
        client.post(f"{BASE}/{code}/steps", headers=headers, json=body)
    return code, headers


def test_the_form_records_an_evaluation(client, finished):
    code, headers = finished
    page = client.get("/lookup/evaluation", query_string={"code": code})
    assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    sent = client.post("/lookup/evaluation", data={"code": code, "verify": PHONE, "overall": "satisfied",
                                                   "comment": "Rất nhanh"})
    assert sent.status_code == 201 and "Cảm ơn" in sent.get_data(as_text=True)
    assert "Rất nhanh" not in sent.get_data(as_text=True)
    staff = client.get(f"{BASE}/{code}/evaluation", headers=headers).get_json()
    assert (staff["overall"], staff["comment"]) == ("satisfied", "Rất nhanh")
    again = client.post("/lookup/evaluation", data={"code": code, "verify": PHONE, "overall": "dissatisfied",
                                                    "lang": "en"})
    assert again.status_code == 201 and "replaces" in again.get_data(as_text=True)


def test_the_form_refuses_as_the_api_does(client, finished, auth):
    code, headers = finished
    for _ in range(5):
        wrong = client.post("/lookup/evaluation", data={"code": code, "verify": "0999999999", "overall": "satisfied"})
        assert wrong.status_code == 403 and "không khớp" in wrong.get_data(as_text=True)
    limited = client.post("/lookup/evaluation", data={"code": code, "verify": PHONE, "overall": "satisfied"})
    assert limited.status_code == 429 and limited.headers["Retry-After"].isdigit()
    assert limited.mimetype == "text/html"
    assert client.get("/lookup/evaluation", query_string={"code": "NOPE"}).status_code == 404
    open_one = client.post(BASE, headers=headers, json={"procedure_code": "1.000001", "channel": "direct",
                                                        "applicant": {"name": "An", "phone": PHONE}}).get_json()
    assert client.get("/lookup/evaluation", query_string={"code": open_one["code"]}).status_code == 409
    assert client.post("/lookup/evaluation", data={"code": open_one["code"], "verify": PHONE,
                                                   "overall": "satisfied"}).status_code == 409


def test_the_form_speaks_the_chosen_language_and_names_what_is_missing(client, finished):
    code, _ = finished
    missing = client.post("/lookup/evaluation", data={"code": code, "verify": PHONE})
    assert missing.status_code == 422 and "Vui lòng chọn mức độ hài lòng chung." in missing.get_data(as_text=True)
    page = client.get("/lookup/evaluation", query_string={"code": code, "lang": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "<h1>Rate the service</h1>" in page
    assert 'name="lang" value="en"' in page and "Overall satisfaction" in page
    english = client.post("/lookup/evaluation", data={"code": code, "overall": "satisfied", "lang": "en"})
    text = english.get_data(as_text=True)
    assert english.status_code == 422 and "Give the ID number or phone number" in text
    assert f'href="/lookup/evaluation?code={code}&amp;lang=vi"' in text  # the switch leads back to the form
    lookup = client.get("/lookup", query_string={"code": code}).get_data(as_text=True)
    assert f'href="/lookup/evaluation?code={code}" id="evaluate"' in lookup
