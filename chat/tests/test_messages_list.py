"""GET /api/threads/<id>/messages/: offset pages, and keyset pages with ?before= / ?after=."""

from urllib.parse import parse_qs, urlparse

import pytest

from chat.tests.factories import make_message, make_thread


def url(thread_id):
    return f"/api/threads/{thread_id}/messages/"


def ids(response):
    return [message["id"] for message in response.json()["results"]]


def query_of(link):
    return {key: values[0] for key, values in parse_qs(urlparse(link).query).items()}


@pytest.fixture
def ten_messages(thread, alice, bob):
    """Ten messages, alternately from alice and bob, oldest first."""
    return [make_message(thread, (alice, bob)[n % 2], f"message {n}") for n in range(10)]


def test_messages_come_newest_first_in_the_message_shape(client_for, alice, bob, thread):
    first = make_message(thread, alice, "first")
    second = make_message(thread, bob, "second")

    response = client_for(alice).get(url(thread.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [m["id"] for m in body["results"]] == [second.pk, first.pk]
    assert body["results"][0] == {
        "id": second.pk,
        "thread": thread.pk,
        "sender": bob.pk,
        "text": "second",
        "created": body["results"][0]["created"],
        "is_read": False,
        "edited": None,
        "deleted": False,
        "attachments": [],
    }
    assert body["results"][0]["created"] >= body["results"][1]["created"]


def test_only_this_threads_messages_are_listed(client_for, alice, bob, outsider, thread):
    mine = make_message(thread, alice, "here")
    make_message(make_thread(alice, outsider), outsider, "elsewhere")

    assert ids(client_for(alice).get(url(thread.pk))) == [mine.pk]


def test_offset_pages_link_to_each_other(client_for, alice, ten_messages):
    newest_first = [m.pk for m in reversed(ten_messages)]
    client = client_for(alice)

    first = client.get(url(ten_messages[0].thread_id), {"limit": 4})
    second = client.get(first.json()["next"])
    last = client.get(second.json()["next"])

    assert ids(first) == newest_first[:4]
    assert ids(second) == newest_first[4:8]
    assert ids(last) == newest_first[8:]
    assert first.json()["previous"] is None
    assert last.json()["next"] is None
    assert ids(client.get(last.json()["previous"])) == newest_first[4:8]


def test_before_gives_the_older_messages_newest_first(client_for, alice, ten_messages):
    thread_id = ten_messages[0].thread_id
    pivot = ten_messages[6]

    response = client_for(alice).get(url(thread_id), {"before": pivot.pk, "limit": 3})

    body = response.json()
    assert ids(response) == [ten_messages[5].pk, ten_messages[4].pk, ten_messages[3].pk]
    assert body["count"] == 10
    assert query_of(body["next"]) == {"before": str(ten_messages[3].pk), "limit": "3"}
    assert query_of(body["previous"]) == {"after": str(ten_messages[5].pk), "limit": "3"}


def test_after_gives_the_newer_messages_oldest_first(client_for, alice, ten_messages):
    thread_id = ten_messages[0].thread_id

    response = client_for(alice).get(url(thread_id), {"after": ten_messages[2].pk, "limit": 3})

    body = response.json()
    assert ids(response) == [ten_messages[3].pk, ten_messages[4].pk, ten_messages[5].pk]
    assert query_of(body["next"]) == {"after": str(ten_messages[5].pk), "limit": "3"}
    assert query_of(body["previous"]) == {"before": str(ten_messages[3].pk), "limit": "3"}


def test_following_before_links_walks_the_whole_history_once(client_for, alice, ten_messages):
    client = client_for(alice)
    thread_id = ten_messages[0].thread_id
    seen = []
    link = None
    response = client.get(url(thread_id), {"before": ten_messages[-1].pk + 1, "limit": 4})
    while True:
        seen += ids(response)
        link = response.json()["next"]
        if link is None:
            break
        response = client.get(link)

    assert seen == [m.pk for m in reversed(ten_messages)]


def test_following_after_links_catches_up_in_order(client_for, alice, bob, thread, ten_messages):
    client = client_for(alice)
    seen = []
    response = client.get(url(thread.pk), {"after": ten_messages[1].pk, "limit": 3})
    while True:
        seen += ids(response)
        if response.json()["next"] is None:
            break
        response = client.get(response.json()["next"])

    assert seen == [m.pk for m in ten_messages[2:]]


def test_the_last_keyset_page_has_no_next_link(client_for, alice, ten_messages):
    thread_id = ten_messages[0].thread_id

    response = client_for(alice).get(url(thread_id), {"before": ten_messages[2].pk})

    assert ids(response) == [ten_messages[1].pk, ten_messages[0].pk]
    assert response.json()["next"] is None


def test_an_empty_keyset_page_has_no_links(client_for, alice, ten_messages):
    thread_id = ten_messages[0].thread_id

    response = client_for(alice).get(url(thread_id), {"after": ten_messages[-1].pk})

    assert response.json()["results"] == []
    assert response.json()["next"] is None
    assert response.json()["previous"] is None


def test_keyset_limit_is_capped_at_100(client_for, alice, bob, thread):
    messages = [make_message(thread, alice, str(n)) for n in range(105)]

    response = client_for(alice).get(url(thread.pk), {"after": messages[0].pk, "limit": 1000})

    assert len(ids(response)) == 100


def test_before_and_after_together_are_a_400(client_for, alice, ten_messages):
    response = client_for(alice).get(
        url(ten_messages[0].thread_id), {"before": ten_messages[5].pk, "after": ten_messages[1].pk}
    )

    assert response.status_code == 400
    assert "before" in response.json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"before": "abc"}, "before"),
        ({"before": "0"}, "before"),
        ({"before": "-1"}, "before"),
        ({"before": "99999999999999999999"}, "before"),
        ({"before": "1_0"}, "before"),
        ({"after": "1.5"}, "after"),
        ({"after": "1_0"}, "after"),
        ({"after": "99999999999999999999"}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"offset": "99999999999999999999"}, "offset"),
        ({"before": "5", "limit": "0"}, "limit"),
    ],
)
def test_malformed_parameters_are_a_400_naming_them(client_for, alice, thread, query, field):
    make_message(thread, alice, "hi")

    response = client_for(alice).get(url(thread.pk), query)

    assert response.status_code == 400
    assert field in response.json()


def test_limit_1000_is_clamped_to_100(client_for, alice, thread):
    for n in range(101):
        make_message(thread, alice, str(n))

    response = client_for(alice).get(url(thread.pk), {"limit": 1000})

    assert len(ids(response)) == 100
    assert "limit=100" in response.json()["next"]


def test_outsider_gets_404_and_no_messages(client_for, alice, outsider, thread):
    make_message(thread, alice, "private")

    for query in ({}, {"before": 10**6}, {"after": 1}):
        response = client_for(outsider).get(url(thread.pk), query)
        assert response.status_code == 404
        assert "private" not in response.content.decode()


def test_outsider_with_malformed_parameters_still_gets_404(client_for, outsider, thread):
    response = client_for(outsider).get(url(thread.pk), {"limit": "abc"})

    assert response.status_code == 404


def test_anonymous_caller_gets_401(anon_client, thread):
    assert anon_client.get(url(thread.pk)).status_code == 401


def test_unknown_thread_is_a_404(client_for, alice):
    assert client_for(alice).get(url(99999999999999999999)).status_code == 404


def test_offset_page_runs_a_fixed_number_of_queries(
    client_for, alice, ten_messages, django_assert_num_queries
):
    client = client_for(alice)
    # 1 the caller (JWT), 2 the thread (access check), 3 its message count (kept by the
    # database), 4 the page.
    with django_assert_num_queries(4):
        response = client.get(url(ten_messages[0].thread_id), {"limit": 5, "offset": 3})
    assert len(ids(response)) == 5


@pytest.mark.parametrize("direction", ["before", "after"])
def test_keyset_page_runs_a_fixed_number_of_queries(
    client_for, alice, ten_messages, django_assert_num_queries, direction
):
    client = client_for(alice)
    # 1 the caller (JWT), 2 the thread (access check), 3 its message count (kept by the
    # database), 4 the page (one row more than the limit, to know whether there is a next page).
    with django_assert_num_queries(4):
        response = client.get(
            url(ten_messages[0].thread_id), {direction: ten_messages[5].pk, "limit": 2}
        )
    assert len(ids(response)) == 2
