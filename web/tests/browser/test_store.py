"""The store's rules (web/static/web/store.js), run in Chromium on made-up events: an event
applied again changes nothing more, so events that raced a REST answer can be replayed on it, and
the events made from REST when catching up take the live events' path."""

import pytest

# Alice is signed in; her thread 7 with Bob is open, its first page shown: message 10, read.
SETUP = """
const { Store } = await import("/static/web/store.js");
const alice = { id: 1, username: "alice" };
const bob = { id: 2, username: "bob" };
const message = (id, sender, text = `message ${id}`) => ({
  id, thread: 7, sender: sender.id, text, is_read: false,
  created: `2026-01-01T10:00:${String(id).padStart(2, "0")}Z`,
});
const thread = (last, unread) => ({
  id: 7, participants: [alice, bob], created: "2026-01-01T09:00:00Z",
  updated: last.created, last_message: last, unread_count: unread,
});
const listed = (thread, unread) =>
  ({ type: "threads.loaded", threads: [thread], next: null, unread_count: unread });
const readIn7 = (ids, unread) =>
  ({ type: "message.read", thread: 7, message_ids: ids, unread_count: unread });
const store = new Store();
let renders = 0;
store.subscribe(() => { renders += 1; });
store.apply({ type: "session.started" });
store.apply({ type: "me.loaded", me: alice });
const first = { ...message(10, bob), is_read: true };
store.apply(listed(thread(first, 0), 0));
store.apply({ type: "conversation.opened", thread: 7 });
store.apply({ type: "messages.loaded", thread: 7, messages: [first], next: null });
const seen = () => {
  const { unread, threads, conversation, announcement } = store.state;
  const open = threads.get(7);
  return {
    unread,
    threadUnread: open?.unread_count ?? null,
    last: open?.last_message?.id ?? null,
    shown: conversation?.messages.map(({ id }) => id) ?? null,
    read: conversation?.messages.filter(({ is_read }) => is_read).map(({ id }) => id) ?? null,
    pending: conversation ? [...conversation.pending.keys()] : null,
    notice: store.state.notice,
    announced: announcement?.text ?? null,
  };
};
"""


@pytest.fixture(scope="module")
def page(browser, server):
    page = browser.new_page()
    page.goto(server.url + "/")
    yield page
    page.close()


@pytest.fixture
def run(page):
    """`run(script)`: the value of `script`, run after SETUP (a new store each time)."""
    return lambda script: page.evaluate(f"async () => {{ {SETUP}\n{script} }}")


def test_a_live_message_applied_again_counts_once(run):
    result = run("""
        const event = { type: "message.created", message: message(11, bob), unread_count: 1 };
        const stale = store.apply(event);
        const once = seen();
        store.apply(event);
        return { stale, once, twice: seen() };
    """)
    assert result["stale"] is None
    assert result["once"] == result["twice"]
    assert result["once"] == {
        "unread": 1,
        "threadUnread": 1,
        "last": 11,
        "shown": [10, 11],
        "read": [10],
        "pending": [],
        "notice": None,
        "announced": "bob: message 11",
    }


def test_events_replayed_on_an_older_snapshot_are_counted_once(run):
    result = run("""
        const live = { type: "message.created", message: message(11, bob), unread_count: 1 };
        store.apply(live);
        // The thread list asked before message 11 and answered after it.
        store.apply(listed(thread(first, 0), 0));
        store.apply(live);
        const onOlder = seen();
        store.apply(listed(thread(message(11, bob), 1), 1));
        store.apply(live);
        return { onOlder, onNewer: seen() };
    """)
    for state in result.values():
        assert (state["unread"], state["threadUnread"], state["last"]) == (1, 1, 11)


def test_catching_up_applies_rest_answers_as_the_live_events(run):
    result = run("""
        // Made from REST: no unread total, which the thread list's answer brought.
        store.apply({ type: "unread.loaded", unread_count: 1 });
        store.apply({ type: "message.created", message: message(11, bob) });
        const created = seen();
        store.apply({ type: "message.created", message: message(12, alice) });
        const stale = store.apply(readIn7([11, 12]));
        return { created, stale, read: seen() };
    """)
    assert result["created"]["unread"] == 1
    assert result["created"]["shown"] == [10, 11]
    assert result["created"]["threadUnread"] == 1
    assert result["stale"] is None
    assert result["read"]["read"] == [10, 11, 12]
    assert result["read"]["unread"] == 1


def test_reading_elsewhere_leaves_the_threads_count_to_fetch(run):
    result = run("""
        store.apply({ type: "message.created", message: message(11, bob), unread_count: 1 });
        const elsewhere = store.apply(readIn7([11], 0));
        store.apply({ type: "message.created", message: message(12, bob), unread_count: 1 });
        store.apply({ type: "marking.started", thread: 7 });
        const here = store.apply(readIn7([12], 0));
        store.apply({ type: "marking.finished", thread: 7, marked: 2 });
        return { elsewhere, here, after: seen() };
    """)
    assert result["elsewhere"] == {"threads": [7]}
    assert result["here"] is None
    assert result["after"]["threadUnread"] == 0


def test_a_send_is_shown_once_whichever_comes_first_answer_or_event(run):
    result = run("""
        const outcomes = [];
        for (const eventFirst of [false, true]) {
          const sent = message(eventFirst ? 12 : 11, alice, "hi");
          store.apply({ type: "send.started", thread: 7, key: `k${sent.id}`, text: "hi" });
          const answer = { type: "send.confirmed", key: `k${sent.id}`, message: sent };
          const event = { type: "message.created", message: sent, unread_count: 0 };
          for (const next of eventFirst ? [event, answer] : [answer, event]) store.apply(next);
          outcomes.push(seen());
        }
        return outcomes;
    """)
    assert [state["shown"] for state in result] == [[10, 11], [10, 11, 12]]
    assert [state["pending"] for state in result] == [[], []]
    assert [state["announced"] for state in result] == [None, None]


def test_a_deleted_open_thread_closes_once(run):
    result = run("""
        const stale = store.apply({ type: "thread.deleted", thread: 7 });
        const once = seen();
        const again = store.apply({ type: "thread.deleted", thread: 7 });
        return { stale, again, once, twice: seen() };
    """)
    assert result["stale"] == {"unread": True}
    assert result["again"] is None
    assert result["once"] == result["twice"]
    assert result["once"]["shown"] is None
    assert result["once"]["notice"] == "The conversation with bob was deleted."


def test_an_unknown_event_type_changes_nothing(run):
    result = run("""
        const before = renders;
        const stale = store.apply({ type: "presence", user: 2, online: true });
        return { stale, renders: renders - before };
    """)
    assert result == {"stale": None, "renders": 0}
