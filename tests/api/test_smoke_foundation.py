"""First checks that the fixtures and the factory give a working app."""


def test_login_and_me(client, city, auth):
    response = client.get("/api/v1/auth/me", headers=auth.headers("clerk"))
    assert response.status_code == 200
    assert response.get_json() == {"username": "clerk", "full_name": "Clerk", "role": "clerk",
                                   "agency_code": "000.01.00.H57"}
