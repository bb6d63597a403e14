"""Report queries kept from one request to the next: never one built for other filters."""
from __future__ import annotations

from datetime import date

APPLICANT = {"name": "Đặng Văn Lâm", "id_number": "046195001155", "phone": "0912000333"}


def _received(client, **params) -> int:
    response = client.get("/api/v1/public/stats", query_string={"period": str(date.today().year), **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["totals"]["received"]["total"]


def _create(client, headers) -> None:
    response = client.post("/api/v1/dossiers", headers=headers,
                           json={"procedure_code": "1.000001", "channel": "direct", "applicant": APPLICANT})
    assert response.status_code == 201, response.get_data(as_text=True)


def test_an_agency_added_under_the_filter_is_counted_at_once(client, city, auth):
    _create(client, auth.headers("clerk"))
    assert _received(client, agency="000.01.00.H57") == 1
    assert _received(client, agency="000.01.00.H57", group_by="month") == 1

    city.agency("000.01.02.H57", "Phòng Chứng thực", parent="000.01.00.H57")
    city.user("new_clerk", "clerk", "000.01.02.H57")
    _create(client, auth.headers("new_clerk"))
    assert _received(client, agency="000.01.00.H57") == 2
    assert _received(client, agency="000.01.00.H57", group_by="month") == 2
    assert _received(client, agency="000.02.00.H57") == 0
    assert _received(client) == 2


def test_each_filter_value_has_its_own_query(client, city, auth):
    _create(client, auth.headers("clerk"))
    _create(client, auth.headers("other_clerk"))
    assert _received(client, channel="direct") == 2
    assert _received(client, channel="online") == 0
    assert _received(client, procedure="1.000001") == 2
    assert _received(client, procedure="1.000002") == 0
    assert _received(client, field="Chứng thực") == 0
    assert _received(client, field="Hộ tịch") == 2
