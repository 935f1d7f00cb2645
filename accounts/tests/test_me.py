"""GET /api/users/me/: the caller."""

URL = "/api/users/me/"


def test_me_is_the_caller(client_for, alice, outsider):
    assert client_for(alice).get(URL).json() == {"id": alice.pk, "username": "alice"}
    assert client_for(outsider).get(URL).json() == {"id": outsider.pk, "username": "mallory"}


def test_anonymous_caller_gets_401(anon_client, db):
    assert anon_client.get(URL).status_code == 401
