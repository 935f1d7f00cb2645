"""Every hot endpoint runs the same number of queries whatever the size of the data.

The data comes from `manage.py seed_bench` (the benchmark's own code path) at two sizes; the
requests are those of bench/run.py, made as bench_user_1 (the user in the most threads) in the
busiest thread. Above each count, the queries expected; the work a write does after its
transaction commits (its live events) is counted with it.
"""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from chat.models import Message, Thread

SMALL = {"users": 6, "threads": 10, "messages": 60}
LARGE = {"users": 40, "threads": 200, "messages": 3000}


@pytest.fixture(params=[SMALL, LARGE], ids=["small", "large"])
def bench(request, db):
    call_command("seed_bench", **request.param, stdout=io.StringIO())
    users = get_user_model().objects
    me = users.get(username="bench_user_1")
    other = users.get(username="bench_user_2")
    thread = Thread.objects.get(user_low_id=min(me.pk, other.pk), user_high_id=max(me.pk, other.pk))
    ids = list(Message.objects.filter(thread=thread).order_by("-id").values_list("id", flat=True))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(me)}")
    unread = Message.objects.filter(recipient=me, is_read=False).first()
    return {"client": client, "thread": thread, "ids": ids, "unread": unread}


def get(bench, path: str, queries: int, django_assert_num_queries) -> dict:
    with django_assert_num_queries(queries):
        response = bench["client"].get(path)
    assert response.status_code == 200, response.content
    return response.json()


def test_me(bench, django_assert_num_queries):
    # 1 the caller (JWT), 2 their profile (show_presence).
    get(bench, "/api/users/me/", 2, django_assert_num_queries)


def test_unread_count(bench, django_assert_num_queries):
    # 1 the caller (JWT), 2 the count from the partial unread index.
    get(bench, "/api/messages/unread-count/", 2, django_assert_num_queries)


def test_thread_list(bench, django_assert_num_queries):
    # 1 the caller (JWT), 2 the count of the caller's seats, 3 the page: threads, both users
    # with their presence, last messages and unread counts in one statement.
    body = get(bench, "/api/threads/", 3, django_assert_num_queries)
    assert len(body["results"]) == min(body["count"], 20)


def test_thread_detail(bench, django_assert_num_queries):
    # 1 the caller (JWT), 2 the thread (access check), 3 the thread as the list reads it: both
    # users with their presence, the last message and the caller's unread count in one
    # statement.
    get(bench, f"/api/threads/{bench['thread'].pk}/", 3, django_assert_num_queries)


@pytest.mark.parametrize(
    "query",
    ["", "?limit=100", "?offset={deep}", "?before={deep_id}", "?after={deep_id}"],
    ids=["first", "limit-100", "deep-offset", "before", "after"],
)
def test_message_pages(bench, django_assert_num_queries, query):
    ids = bench["ids"]
    query = query.format(deep=len(ids) // 2, deep_id=ids[len(ids) // 2])
    # 1 the caller (JWT), 2 the thread (access check), 3 its message count (kept by the
    # database), 4 the page.
    body = get(
        bench, f"/api/threads/{bench['thread'].pk}/messages/{query}", 4, django_assert_num_queries
    )
    assert body["count"] == len(ids)


def test_post_message(bench, counted):
    # 1 the caller (JWT), 2 the thread (access check), 3 SAVEPOINT, 4 lock the thread row,
    # 5 does either block the other, 6 UPDATE the thread's `updated` (the database copies it to
    # both participants' rows), 7 INSERT (the database counts it), 8 queue its push (nothing
    # written: no browser subscribed), 9 the webhook endpoints (none), 10 RELEASE; after commit,
    # 11 both participants' unread totals for the `message.created` event.
    with counted(11):
        response = bench["client"].post(
            f"/api/threads/{bench['thread'].pk}/messages/", {"text": "hi"}, format="json"
        )
    assert response.status_code == 201


def test_mark_thread_read(bench, counted):
    # 1 the caller (JWT), 2 the thread (access check), 3 the unread ids, 4 SAVEPOINT, 5 UPDATE
    # them (when there are any: the seed leaves some in the busiest thread), 6 the webhook
    # endpoints (none), 7 RELEASE; after commit, 8 both participants' unread totals for the
    # `message.read` event.
    thread = bench["thread"]
    assert Message.objects.filter(thread=thread, recipient__username="bench_user_1").exists()
    Message.objects.filter(thread=thread).update(is_read=False)
    with counted(8):
        response = bench["client"].post(f"/api/threads/{thread.pk}/read/")
    assert response.json()["marked"] > 0


def test_mark_message_read(bench, counted):
    # 1 the caller (JWT), 2 the message (access check), 3 SAVEPOINT, 4 UPDATE, 5 the webhook
    # endpoints (none), 6 RELEASE; after commit, 7 both participants' unread totals for the
    # `message.read` event.
    message = bench["unread"]
    assert message is not None, "the seed leaves messages unread for bench_user_1"
    with counted(7):
        response = bench["client"].post(f"/api/messages/{message.pk}/read/")
    assert response.status_code == 200
