"""GET /api/messages/search/?q=: the caller's own messages, every word matching as a word prefix
ignoring case and accents, newest first, with character-offset highlights."""

import pytest

from chat import services
from chat.models import HiddenMessage
from chat.search import fold, highlights
from chat.tests.factories import make_message, make_thread

URL = "/api/messages/search/"


def search(client, q, **params):
    return client.get(URL, {"q": q, **params})


def found(client, q, **params) -> list[int]:
    response = search(client, q, **params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"]) or body["next"]
    return [result["message"]["id"] for result in body["results"]]


@pytest.fixture
def talk(thread, alice, bob):
    return {
        "address": make_message(thread, bob, "My new address is 12 Rue de l'Église, Paris"),
        "crème": make_message(thread, alice, "Crème brûlée tonight?"),
        "plain": make_message(thread, bob, "see you at the station"),
    }


def test_finds_by_word_prefix_ignoring_case_and_accents(client_for, alice, talk):
    client = client_for(alice)

    assert found(client, "address") == [talk["address"].pk]
    assert found(client, "ADDR") == [talk["address"].pk]
    assert found(client, "eglise") == [talk["address"].pk]
    assert found(client, "creme BRULEE") == [talk["crème"].pk]
    assert found(client, "crè") == [talk["crème"].pk]
    assert found(client, "ress") == []  # a prefix of a word, not any part of it


def test_every_word_is_required(client_for, alice, talk):
    client = client_for(alice)

    assert found(client, "address paris") == [talk["address"].pk]
    assert found(client, "address station") == []


def test_results_come_newest_first_with_highlights_of_the_matched_words(
    client_for, alice, bob, thread, talk
):
    newer = make_message(thread, bob, "Paris, at the station: see you")

    body = search(client_for(alice), "paris STAT").json()

    assert [r["message"]["id"] for r in body["results"]] == [newer.pk]
    (result,) = body["results"]
    text = result["message"]["text"]
    assert [text[start:end] for start, end in result["highlights"]] == ["Paris", "station"]
    body = search(client_for(alice), "paris").json()
    assert [r["message"]["id"] for r in body["results"]] == [newer.pk, talk["address"].pk]


def test_words_fold_alike_with_or_without_accents():
    # ASCII words take a shortcut (lower case alone); the others lose their accents first.
    assert fold("HeLLo") == "hello"
    assert fold("ÉMILIE") == fold("Émilie") == fold("emilie") == "emilie"
    assert fold("\uff21\uff42\uff43") == "abc"  # full-width letters, as NFKD decomposes them


def test_highlights_are_offsets_in_characters_not_bytes():
    text = "🙂 Émile écrit à Émilie"

    spans = highlights(text, ("emil",))

    assert [text[start:end] for start, end in spans] == ["Émile", "Émilie"]


def test_an_outsiders_words_never_match(client_for, alice, bob, outsider, thread, talk):
    theirs = make_thread(bob, outsider)
    make_message(theirs, outsider, "my secret address")

    assert found(client_for(alice), "secret") == []
    assert found(client_for(outsider), "address") != [talk["address"].pk]
    assert talk["address"].pk not in found(client_for(outsider), "address")
    assert found(client_for(bob), "secret") != []


def test_messages_hidden_or_deleted_or_cleared_are_not_found(client_for, alice, bob, thread, talk):
    services.message_hide(message=talk["address"], user=alice)
    services.message_delete_for_everyone(message=talk["crème"], user=alice)

    assert found(client_for(alice), "address") == []
    assert found(client_for(bob), "address") == [talk["address"].pk]  # not hidden for bob
    assert found(client_for(bob), "creme") == []  # deleted for everyone
    services.thread_clear(thread=thread, user=bob)
    assert found(client_for(bob), "station") == []
    assert found(client_for(alice), "station") == [talk["plain"].pk]


def test_an_edited_message_is_found_by_its_current_text_only(client_for, alice, bob, talk):
    services.message_edit(message=talk["crème"], user=alice, text="Tarte tatin tonight?")

    assert found(client_for(bob), "creme") == []
    assert found(client_for(bob), "tatin") == [talk["crème"].pk]


def test_messages_of_a_deleted_thread_are_not_found(client_for, alice, thread, talk):
    services.thread_delete(thread=thread)

    assert found(client_for(alice), "address") == []


def test_one_thread_only(client_for, alice, bob, outsider, thread, talk):
    other = make_thread(alice, outsider)
    elsewhere = make_message(other, outsider, "the station is closed")
    client = client_for(alice)

    assert found(client, "station") == [elsewhere.pk, talk["plain"].pk]
    assert found(client, "station", thread=thread.pk) == [talk["plain"].pk]
    assert found(client, "station", thread=other.pk) == [elsewhere.pk]


def test_a_thread_of_others_is_a_404(client_for, alice, bob, outsider, thread, talk):
    theirs = make_thread(bob, outsider)

    assert search(client_for(alice), "station", thread=theirs.pk).status_code == 404
    assert search(client_for(alice), "station", thread=2**62).status_code == 404


def test_pages_by_offset_and_by_keyset_without_overlap(client_for, alice, bob, thread):
    ids = [make_message(thread, bob, f"meeting number {n}").pk for n in range(7)]
    newest_first = sorted(ids, reverse=True)
    client = client_for(alice)

    url, by_offset = f"{URL}?q=meet&limit=3", []
    while url:
        body = client.get(url).json()
        assert body["count"] == 7
        by_offset += [r["message"]["id"] for r in body["results"]]
        url = body["next"]
    url, by_keyset = f"{URL}?q=meet&limit=3&before={newest_first[0] + 1}", []
    while url:
        body = client.get(url).json()
        by_keyset += [r["message"]["id"] for r in body["results"]]
        url = body["next"]

    assert by_offset == by_keyset == newest_first
    oldest_first = found(client, "meet", after=newest_first[-1], limit=3)
    assert oldest_first == sorted(ids)[1:4]


@pytest.mark.parametrize(
    "q",
    ['"', "*", "-", "NEAR", "OR", "a OR b", "NEAR(a b)", 'x" OR "y', "col:umn", "^start", "(x",
     "a AND", "€", "🙂"],
)  # fmt: skip
def test_search_syntax_is_plain_text(client_for, alice, thread, bob, q):
    make_message(thread, bob, "x OR y: NEAR the column, a AND b")

    response = search(client_for(alice), q)

    assert response.status_code in (200, 400), response.content
    assert set(response.json()) in ({"count", "next", "previous", "results"}, {"q"})


def test_operators_in_the_query_are_words_to_find(client_for, alice, bob, thread):
    message = make_message(thread, bob, "Near the OR department")

    assert found(client_for(alice), "NEAR OR") == [message.pk]
    assert found(client_for(alice), '"near" -or*') == [message.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "!?.,"}, "q"),
        ({"q": "x" * 201}, "q"),
        ({}, "q"),
        ({"q": "x", "thread": "abc"}, "thread"),
        ({"q": "x", "before": "-1"}, "before"),
        ({"q": "x", "before": 5, "after": 3}, "before"),
        ({"q": "x", "limit": "0"}, "limit"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(client_for, alice, params, field):
    response = client_for(alice).get(URL, params)

    assert response.status_code == 400
    assert field in response.json()


def test_200_characters_are_accepted(client_for, alice):
    assert search(client_for(alice), "ab " * 66 + "ab").status_code == 200


def test_anonymous_callers_get_401(anon_client):
    assert search(anon_client, "x").status_code == 401


def test_searching_runs_a_fixed_number_of_queries(
    client_for, alice, thread, talk, django_assert_num_queries
):
    client = client_for(alice)
    # 1 the caller (JWT), 2 the count of matches the caller can see, 3 the page.
    with django_assert_num_queries(3):
        assert found(client, "a") != []


def all_pages(client, q, **params) -> tuple[int, list[int]]:
    """The first page's count, and every id that the offset pages return."""
    body = search(client, q, limit=2, **params).json()
    count, ids = body["count"], [r["message"]["id"] for r in body["results"]]
    while body["next"]:
        body = client.get(body["next"]).json()
        ids += [r["message"]["id"] for r in body["results"]]
    return count, ids


def test_the_count_is_what_the_pages_return_whatever_is_hidden_cleared_or_deleted(
    client_for, alice, bob, outsider, thread
):
    other = make_thread(alice, outsider)
    said = {
        (t.pk, n): make_message(t, sender, f"note {n}")
        for t, sender in ((thread, bob), (other, outsider))
        for n in range(6)
    }
    services.thread_clear(thread=thread, user=alice)  # hides notes 0-5 of the first thread
    later = [make_message(thread, bob, f"note later {n}") for n in range(3)]
    services.message_hide(message=later[0], user=alice)
    services.message_hide(message=said[(other.pk, 1)], user=alice)
    services.message_delete_for_everyone(message=said[(other.pk, 2)], user=outsider)
    services.thread_clear(thread=other, user=outsider)  # the other side's clear changes nothing
    # A hidden row below the clear bound, as a fixture could write it: never counted twice.
    HiddenMessage.objects.create(user=alice, message=said[(thread.pk, 3)])
    client = client_for(alice)

    expected_everywhere = sorted(
        [later[1].pk, later[2].pk] + [said[(other.pk, n)].pk for n in (0, 3, 4, 5)],
        reverse=True,
    )
    assert all_pages(client, "note") == (6, expected_everywhere)
    assert all_pages(client, "note", thread=thread.pk) == (2, [later[2].pk, later[1].pk])
    assert all_pages(client, "note", thread=other.pk) == (4, expected_everywhere[2:])
    assert all_pages(client_for(outsider), "note") == (0, [])
    bob_count, bob_ids = all_pages(client_for(bob), "note")
    assert bob_count == len(bob_ids) == 9
