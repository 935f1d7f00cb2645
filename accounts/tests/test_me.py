"""GET and PATCH /api/users/me/: the caller, with their own settings (`show_presence`)."""

import pytest

from accounts.models import Profile
from accounts.signals import presence_visibility_changed

URL = "/api/users/me/"


def test_me_is_the_caller_with_their_settings(client_for, alice, outsider):
    assert client_for(alice).get(URL).json() == {
        "id": alice.pk,
        "username": "alice",
        "show_presence": True,
    }
    assert client_for(outsider).get(URL).json()["username"] == "mallory"


def test_anonymous_caller_gets_401(anon_client, db):
    assert anon_client.get(URL).status_code == 401
    assert anon_client.patch(URL, {"show_presence": False}, format="json").status_code == 401


def test_hiding_and_showing_presence(client_for, alice, bob):
    client = client_for(alice)

    hidden = client.patch(URL, {"show_presence": False}, format="json")

    assert hidden.status_code == 200
    assert hidden.json() == {"id": alice.pk, "username": "alice", "show_presence": False}
    assert client.get(URL).json()["show_presence"] is False
    assert client_for(bob).get(URL).json()["show_presence"] is True  # only the caller's own
    shown = client.patch(URL, {"show_presence": True}, format="json")
    assert shown.json()["show_presence"] is True
    assert Profile.objects.get(user=alice).show_presence is True


def test_an_empty_patch_changes_nothing(client_for, alice):
    response = client_for(alice).patch(URL, {}, format="json")

    assert response.status_code == 200
    assert response.json()["show_presence"] is True
    assert not Profile.objects.filter(user=alice).exists()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"show_presence": "false"}, {"show_presence": ["Must be a valid boolean."]}),
        ({"show_presence": 0}, {"show_presence": ["Must be a valid boolean."]}),
        ({"show_presence": None}, {"show_presence": ["This field may not be null."]}),
        ({"show_presence": [True]}, {"show_presence": ["Must be a valid boolean."]}),
        (
            {"username": "root"},
            {"username": ["Unknown field; only show_presence can be changed."]},
        ),
        (
            {"show_presence": True, "is_staff": True},
            {"is_staff": ["Unknown field; only show_presence can be changed."]},
        ),
        (
            {"show_presence": "yes", "id": 7},
            {
                "show_presence": ["Must be a valid boolean."],
                "id": ["Unknown field; only show_presence can be changed."],
            },
        ),
        ([True], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
        ("false", {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}),
    ],
)
def test_bad_input_is_a_400_that_says_what_is_wrong(client_for, alice, body, errors):
    response = client_for(alice).patch(URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert not Profile.objects.filter(user=alice).exists()


@pytest.mark.parametrize("raw", [b"{", b"null", b"[]", b'{"show_presence": tru}'])
def test_malformed_json_is_a_400_never_a_500(client_for, alice, raw):
    response = client_for(alice).patch(URL, raw, content_type="application/json")

    assert response.status_code == 400


def test_a_change_is_signalled_once_after_commit_and_a_repeat_not_at_all(
    client_for, alice, django_capture_on_commit_callbacks
):
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs)

    presence_visibility_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client_for(alice).patch(URL, {"show_presence": False}, format="json")
            client_for(alice).patch(URL, {"show_presence": False}, format="json")
            assert heard == []  # not before the commit
    finally:
        presence_visibility_changed.disconnect(receiver)
    assert heard == [
        {"signal": presence_visibility_changed, "user_id": alice.pk, "show_presence": False}
    ]


def test_query_counts(client_for, alice, counted):
    client = client_for(alice)
    # 1 the caller (JWT), 2 their profile.
    with counted(2):
        client.get(URL)
    # 1 the caller (JWT), 2 SAVEPOINT, 3 the profile, locked, 4 SAVEPOINT, 5 INSERT it (the first
    # change), 6 RELEASE, 7 UPDATE show_presence, 8 RELEASE; after commit, 9 who to tell (the
    # partners online: chat's receiver of the signal).
    with counted(9):
        response = client.patch(URL, {"show_presence": False}, format="json")
    assert response.json()["show_presence"] is False
    # 1 the caller (JWT), 2 SAVEPOINT, 3 the profile, locked, 4 RELEASE: unchanged, no event.
    with counted(4):
        client.patch(URL, {"show_presence": False}, format="json")
