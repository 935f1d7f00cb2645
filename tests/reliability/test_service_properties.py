"""Hypothesis rule-based tests of `chat.services`: for any sequence of create-or-get, send, mark
read (one message or a whole thread), delete, block and unblock, by any of four users, the
invariants hold.

A plain Python model runs beside the database; after every step the database must agree with it.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from accounts.services import user_block, user_unblock
from chat import selectors, services
from chat.models import Message, Participant, Thread
from chat.tests.factories import UserFactory

USERS = 4
# The API refuses NUL and lone surrogates (DRF's CharField); no database stores either.
texts = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=20
).filter(str.strip)


class ChatServices(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each run starts from the same empty database: everything it writes is rolled back.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.users = [UserFactory(username=f"user{n}") for n in range(USERS)]
        self.threads = {}  # frozenset of two user indices -> Thread
        self.messages = {}  # message id -> {"pair", "sender", "recipient", "is_read"}
        self.keys = {}  # (pair, sender, idempotency key) -> message id
        self.blocks = set()  # (blocker, blocked) user indices

    def blocked(self, pair) -> bool:
        first, second = sorted(pair)
        return bool({(first, second), (second, first)} & self.blocks)

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def unread_for(self, index, pair=None):
        return sorted(
            message_id
            for message_id, m in self.messages.items()
            if m["recipient"] == index and not m["is_read"] and pair in (None, m["pair"])
        )

    @rule(data=st.data())
    def get_or_create(self, data):
        me = data.draw(st.integers(0, USERS - 1), label="me")
        other = data.draw(st.integers(0, USERS - 1), label="other")
        if me == other:
            with pytest.raises(ValidationError):
                services.thread_get_or_create(user=self.users[me], other=self.users[other])
            return
        pair = frozenset((me, other))
        if self.blocked(pair):
            with pytest.raises(PermissionDenied):
                services.thread_get_or_create(user=self.users[me], other=self.users[other])
            return
        thread, created = services.thread_get_or_create(
            user=self.users[me], other=self.users[other]
        )
        assert created == (pair not in self.threads)
        if not created:
            assert thread.pk == self.threads[pair].pk
        self.threads[pair] = thread

    @precondition(lambda self: self.threads)
    @rule(data=st.data(), text=texts, with_key=st.booleans())
    def send(self, data, text, with_key):
        pair = data.draw(st.sampled_from(sorted(self.threads, key=sorted)), label="pair")
        sender = data.draw(st.sampled_from(sorted(pair)), label="sender")
        key = data.draw(st.sampled_from(["a", "b"]), label="key") if with_key else None
        if self.blocked(pair) and (pair, sender, key) not in self.keys:
            with pytest.raises(PermissionDenied):
                services.message_send(
                    thread=self.threads[pair], sender=self.users[sender], text=text
                )
            return
        message, created = services.message_send(
            thread=self.threads[pair], sender=self.users[sender], text=text, idempotency_key=key
        )
        if created and key is not None:
            self.keys[(pair, sender, key)] = message.pk
        if created:
            assert message.pk not in self.messages
            (recipient,) = pair - {sender}
            self.messages[message.pk] = {
                "pair": pair,
                "sender": sender,
                "recipient": recipient,
                "is_read": False,
            }
        else:
            # A repeated key answers with that sender's first message in that thread, blocked
            # since or not.
            assert message.pk == self.keys[(pair, sender, key)]

    @precondition(lambda self: self.messages)
    @rule(data=st.data())
    def mark_message_read(self, data):
        # Drawn by position, not by database id, so that a replayed run draws the same.
        position = data.draw(st.integers(0, len(self.messages) - 1), label="message")
        message_id = list(self.messages)[position]
        model = self.messages[message_id]
        reader = data.draw(st.sampled_from(sorted(model["pair"])), label="reader")
        message = Message.objects.get(pk=message_id)
        if reader != model["recipient"]:
            with pytest.raises(PermissionDenied):
                services.message_mark_read(message=message, user=self.users[reader])
            return
        result = services.message_mark_read(message=message, user=self.users[reader])
        assert result.is_read
        model["is_read"] = True

    @precondition(lambda self: self.threads)
    @rule(data=st.data())
    def mark_thread_read(self, data):
        pair = data.draw(st.sampled_from(sorted(self.threads, key=sorted)), label="pair")
        reader = data.draw(st.sampled_from(sorted(pair)), label="reader")
        expected = self.unread_for(reader, pair)
        marked = services.thread_mark_read(thread=self.threads[pair], user=self.users[reader])
        assert sorted(marked) == expected
        for message_id in marked:
            self.messages[message_id]["is_read"] = True

    @precondition(lambda self: self.threads)
    @rule(data=st.data())
    def delete(self, data):
        pair = data.draw(st.sampled_from(sorted(self.threads, key=sorted)), label="pair")
        services.thread_delete(thread=self.threads.pop(pair))
        self.messages = {k: m for k, m in self.messages.items() if m["pair"] != pair}
        self.keys = {k: m for k, m in self.keys.items() if k[0] != pair}

    @rule(blocker=st.integers(0, USERS - 1), blocked=st.integers(0, USERS - 1))
    def block(self, blocker, blocked):
        if blocker == blocked:
            with pytest.raises(ValidationError):
                user_block(user=self.users[blocker], other=self.users[blocked])
            return
        user_block(user=self.users[blocker], other=self.users[blocked])
        self.blocks.add((blocker, blocked))

    @precondition(lambda self: self.blocks)
    @rule(data=st.data())
    def unblock(self, data):
        blocker, blocked = data.draw(st.sampled_from(sorted(self.blocks)), label="block")
        user_unblock(user=self.users[blocker], other=self.users[blocked])
        self.blocks.discard((blocker, blocked))

    @invariant()
    def a_pair_has_at_most_one_thread(self):
        pairs = list(Thread.objects.values_list("user_low", "user_high"))
        assert len(pairs) == len(set(pairs)) == len(self.threads)

    @invariant()
    def every_thread_has_exactly_its_two_participants(self):
        rows = Participant.objects.values("thread").annotate(n=Count("id"))
        assert {row["thread"]: row["n"] for row in rows} == {
            thread.pk: 2 for thread in self.threads.values()
        }
        for pair, thread in self.threads.items():
            seats = Participant.objects.filter(thread=thread).values_list("user", "position")
            assert sorted(seats) == sorted(
                (self.users[index].pk, position)
                for position, index in enumerate(sorted(pair, key=lambda i: self.users[i].pk))
            )

    @invariant()
    def every_message_is_stored_once_with_its_read_state(self):
        stored = dict(Message.objects.values_list("id", "is_read"))
        assert stored == {k: m["is_read"] for k, m in self.messages.items()}

    @invariant()
    def unread_counts_match_the_messages_sent_to_me(self):
        for index, user in enumerate(self.users):
            total = selectors.unread_count_for_user(user=user)
            assert total == len(self.unread_for(index))
            listed = selectors.threads_for_user(user=user)[0 : len(self.threads) + 1]
            assert len(listed) == sum(index in pair for pair in self.threads)
            assert sum(thread.unread_count for thread in listed) == total
            for thread in Thread.objects.all():
                kept = selectors.messages_for_thread(thread=thread, user=thread.user_low).count()
                assert kept == thread.messages.count()
            for thread in listed:
                pair = next(p for p, t in self.threads.items() if t.pk == thread.id)
                assert thread.unread_count == len(self.unread_for(index, pair))
                newest = max(
                    (k for k, m in self.messages.items() if m["pair"] == pair), default=None
                )
                assert (thread.last_message.id if thread.last_message else None) == newest


ChatServices.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    # Shrinking a failing run of database steps takes minutes; the unshrunk steps are printed.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


@pytest.mark.django_db
def test_chat_services_keep_their_invariants():
    ChatServices.TestCase().runTest()
