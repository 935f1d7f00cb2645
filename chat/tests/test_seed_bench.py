"""`manage.py seed_bench`: deterministic, and every denormalised column right (tiny sizes)."""

import io
from collections import Counter, defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Max
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from chat.management.commands.seed_bench import SeedPlan
from chat.models import Message, Participant, Thread, ThreadMessageCount
from chat.tests.factories import UserFactory

User = get_user_model()
SIZES = {"users": 12, "threads": 30, "messages": 400}


def seed(**sizes) -> None:
    call_command("seed_bench", **{**SIZES, **sizes}, stdout=io.StringIO())


def test_the_plan_is_the_same_for_the_same_seed_and_differs_for_another():
    first = SeedPlan(**SIZES, seed=6)
    again = SeedPlan(**SIZES, seed=6)
    other = SeedPlan(**SIZES, seed=7)

    assert list(first.message_rows()) == list(again.message_rows())
    assert first.pairs == again.pairs
    assert list(first.message_rows()) != list(other.message_rows())


def test_bench_user_1_has_the_most_threads_and_the_busiest_thread(db):
    seed()

    seats = Counter(Participant.objects.values_list("user__username", flat=True))
    busiest = Counter(Message.objects.values_list("thread", flat=True)).most_common(1)[0][0]
    thread = Thread.objects.get(pk=busiest)

    assert seats.most_common(1)[0][0] == "bench_user_1"
    assert {thread.user_low.username, thread.user_high.username} == {
        "bench_user_1",
        "bench_user_2",
    }
    assert User.objects.get(username="bench_user_3").check_password("bench-pass")


@pytest.mark.django_db
def test_every_denormalised_column_matches_the_messages():
    seed()
    assert (User.objects.count(), Thread.objects.count(), Message.objects.count()) == (12, 30, 400)

    messages = defaultdict(list)
    for message in Message.objects.order_by("id"):
        messages[message.thread_id].append(message)
    for thread in Thread.objects.all():
        own = messages[thread.pk]
        assert thread.user_low_id < thread.user_high_id
        assert own, "every thread has at least one message"
        assert thread.updated == own[-1].created
        assert thread.created < own[0].created
        assert ThreadMessageCount.objects.get(thread=thread).messages == len(own)
        times = [message.created for message in own]
        assert times == sorted(times)
        assert len(set(times)) == len(times)
        for message in own:
            assert {message.sender_id, message.recipient_id} == {
                thread.user_low_id,
                thread.user_high_id,
            }
        seats = Participant.objects.filter(thread=thread).order_by("position")
        assert [(s.position, s.user_id) for s in seats] == [
            (0, thread.user_low_id),
            (1, thread.user_high_id),
        ]
        assert all(seat.thread_updated == thread.updated for seat in seats)
    assert Message.objects.filter(is_read=False).exists()
    assert Message.objects.filter(is_read=True).exists()


@pytest.mark.django_db
def test_the_api_reports_what_counting_from_scratch_says():
    seed()
    for user in User.objects.filter(username__in=["bench_user_1", "bench_user_7"]):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        unread = Counter(
            Message.objects.filter(recipient=user, is_read=False).values_list("thread", flat=True)
        )
        mine = Thread.objects.filter(participant_rows__user=user)
        newest = {
            row["pk"]: row["last"] for row in mine.values("pk").annotate(last=Max("messages__id"))
        }

        listed = client.get("/api/threads/?limit=100").json()
        count = client.get("/api/messages/unread-count/").json()

        assert count == {"unread_count": sum(unread.values())}
        assert listed["count"] == mine.count()
        ids = [entry["id"] for entry in listed["results"]]
        assert ids == list(mine.order_by("-updated", "-id").values_list("pk", flat=True))
        for entry in listed["results"]:
            assert entry["unread_count"] == unread[entry["id"]]
            assert entry["last_message"]["id"] == newest[entry["id"]]
        busiest = ids[0]
        page = client.get(f"/api/threads/{busiest}/messages/").json()
        assert page["count"] == Message.objects.filter(thread=busiest).count()


@pytest.mark.django_db
def test_it_refuses_a_database_with_other_users_unless_told():
    UserFactory(username="alice")

    with pytest.raises(CommandError, match="not bench users"):
        seed()
    assert not Message.objects.exists()

    seed(allow_other_data=True)
    assert Message.objects.count() == 400
    assert User.objects.get(username="alice")


@pytest.mark.django_db
def test_running_it_again_reuses_the_same_data_and_refuses_another_size():
    seed()
    seed()
    assert Message.objects.count() == 400

    with pytest.raises(CommandError, match="another size"):
        seed(messages=500)
