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


def test_a_deleted_thread_with_the_total_in_its_event_needs_no_fetch(run):
    result = run("""
        store.apply({ type: "message.created", message: message(11, bob), unread_count: 3,
                      thread_unread_count: 1 });
        const stale = store.apply({ type: "thread.deleted", thread: 7, unread_count: 2 });
        return { stale, after: seen() };
    """)
    assert result["stale"] is None
    assert result["after"]["unread"] == 2
    assert result["after"]["shown"] is None


def test_an_unknown_event_type_changes_nothing(run):
    result = run("""
        const before = renders;
        const stale = store.apply({ type: "reaction.added", message: 10, emoji: "+1" });
        return { stale, renders: renders - before };
    """)
    assert result == {"stale": None, "renders": 0}


# Changing messages: edits, deletions for everyone or for me, marked unread, cleared threads.
# `shownMessage(id)` is message `id` as the open conversation shows it, or null.
CHANGES = """
const shownMessage = (id) => store.state.conversation.messages.find((m) => m.id === id) ?? null;
const mine = message(11, alice, "helo");
store.apply({ type: "message.created", message: mine, unread_count: 0, thread_unread_count: 0 });
const edit = (text, second) =>
  ({ ...mine, text, edited: `2026-01-01T10:05:${String(second).padStart(2, "0")}Z` });
const deleted = (id, more = {}) =>
  ({ type: "message.deleted", thread: 7, message_id: id, ...more });
"""


@pytest.fixture
def run_changes(run):
    """`run(script)` with CHANGES before it: Alice's message 11 shown too."""
    return lambda script: run(CHANGES + script)


def test_an_edit_replaces_the_text_but_an_older_edit_coming_late_does_not(run_changes):
    result = run_changes("""
        const stale = store.apply({ type: "message.updated", message: edit("hello", 2) });
        const edited = shownMessage(11);
        store.apply({ type: "message.updated", message: edit("hullo", 1) });
        // Bob read it meanwhile: an edit's payload does not take that back.
        store.apply(readIn7([11], 0));
        store.apply({ type: "message.updated", message: edit("hello", 2) });
        const last = store.state.threads.get(7).last_message;
        return { stale, edited, after: shownMessage(11), last };
    """)
    assert result["stale"] is None
    assert result["edited"]["text"] == "hello"
    assert result["edited"]["edited"] == "2026-01-01T10:05:02Z"
    assert result["after"]["text"] == "hello"
    assert result["after"]["is_read"] is True
    assert result["last"]["text"] == "hello"


def test_deleted_for_everyone_leaves_a_tombstone_that_stays_one(run_changes):
    result = run_changes("""
        store.apply({ type: "edit.started", thread: 7, message: 11 });
        const editing = store.state.conversation.editing;
        const counts = { unread_count: 0, thread_unread_count: 0 };
        const stale = store.apply(deleted(11, { hidden: false, ...counts }));
        store.apply({ type: "message.updated", message: edit("back from the dead", 3) });
        return {
          stale, editing, tombstone: shownMessage(11), seen: seen(),
          last: store.state.threads.get(7).last_message,
          editingAfter: store.state.conversation.editing,
        };
    """)
    assert result["stale"] is None
    assert result["editing"] == {"id": 11, "saving": False}
    assert result["editingAfter"] is None
    assert (result["tombstone"]["deleted"], result["tombstone"]["text"]) == (True, "")
    assert result["seen"]["shown"] == [10, 11]
    assert (result["last"]["id"], result["last"]["deleted"]) == (11, True)


def test_a_deletion_of_unknown_kind_is_returned_to_be_told_then_applied(run_changes):
    result = run_changes("""
        // Bob's message 12 to me, unread; deleted: by Bob for everyone, or by me in another tab?
        store.apply({ type: "message.created", message: message(12, bob), unread_count: 1,
                      thread_unread_count: 1 });
        const event = deleted(12, { unread_count: 0, thread_unread_count: 0 });
        const stale = store.apply(event);
        const meanwhile = seen();
        const notShown = store.apply(deleted(3, { unread_count: 0, thread_unread_count: 0 }));
        // Told: hidden for me. It was the last message: the one before it is not known here.
        const hidden = store.apply({ ...event, hidden: true });
        return { stale: stale.deleted.length, sameEvent: stale.deleted[0] === event, meanwhile,
                 notShown, hidden, after: seen() };
    """)
    assert result["stale"] == 1
    assert result["sameEvent"]
    assert result["meanwhile"]["shown"] == [10, 11, 12]  # still shown, not yet told
    assert (result["meanwhile"]["unread"], result["meanwhile"]["threadUnread"]) == (0, 0)
    assert result["notShown"] is None
    assert result["hidden"] == {"threads": [7]}
    assert result["after"]["shown"] == [10, 11]


def test_hiding_a_message_to_me_told_by_rest_only_fetches_the_counts(run_changes):
    result = run_changes("""
        store.apply({ type: "message.created", message: message(12, bob), unread_count: 1,
                      thread_unread_count: 1 });
        store.apply({ type: "message.created", message: message(13, alice) });
        // This page asked, and its answer came before the live events: no counts in it.
        const unread = store.apply(deleted(12, { hidden: true }));
        const again = store.apply(deleted(12, { hidden: true }));
        return { unread, again, after: seen() };
    """)
    assert result["unread"] == {"threads": [7], "unread": True}
    assert result["again"] is None
    assert result["after"]["shown"] == [10, 11, 13]


def test_counts_from_events_are_exact_and_need_no_fetch(run):
    result = run("""
        const created = (id, inThread, total) => ({ type: "message.created",
          message: message(id, bob), unread_count: total, thread_unread_count: inThread });
        store.apply(created(11, 1, 3));
        const afterCreated = seen();
        // Read in another tab: the event tells the thread's count, nothing to fetch.
        const stale = store.apply({ ...readIn7([11], 2), thread_unread_count: 0 });
        return { afterCreated, stale, afterRead: seen() };
    """)
    assert (result["afterCreated"]["unread"], result["afterCreated"]["threadUnread"]) == (3, 1)
    assert result["stale"] is None
    assert (result["afterRead"]["unread"], result["afterRead"]["threadUnread"]) == (2, 0)


def test_an_exact_count_during_marking_is_not_lowered_by_its_answer(run):
    result = run("""
        store.apply({ type: "message.created", message: message(11, bob), unread_count: 1,
                      thread_unread_count: 1 });
        store.apply({ type: "marking.started", thread: 7 });
        store.apply({ ...readIn7([11], 0), thread_unread_count: 0 });
        store.apply({ type: "message.created", message: message(12, bob), unread_count: 1,
                      thread_unread_count: 1 });
        store.apply({ type: "marking.finished", thread: 7, marked: 1 });
        return seen();
    """)
    assert (result["unread"], result["threadUnread"]) == (1, 1)


def test_marked_unread_stays_unread_here_until_i_write(run_changes):
    result = run_changes("""
        const unread = { type: "message.unread", thread: 7, message_ids: [10], unread_count: 1,
                         thread_unread_count: 1 };
        const stale = store.apply(unread);
        const kept = store.state.conversation.keepUnread;
        const marked = seen();
        store.apply({ type: "send.started", thread: 7, key: "k", text: "back" });
        const released = store.state.conversation.keepUnread;
        // Bob read my message, then marked it unread: my conversation is not held for that.
        store.apply(readIn7([11], 1));
        store.apply({ type: "message.unread", thread: 7, message_ids: [11], unread_count: 1,
                      thread_unread_count: 1 });
        const mineUnread = shownMessage(11).is_read;
        const held = store.state.conversation.keepUnread;
        // Made from REST (this page's own answer): the counts are fetched.
        const fromRest = store.apply({ type: "message.unread", thread: 7, message_ids: [10] });
        return { stale, kept, marked, released, held, mineUnread, fromRest };
    """)
    assert result["stale"] is None
    assert result["kept"] is True
    assert result["marked"]["read"] == []
    assert (result["marked"]["unread"], result["marked"]["threadUnread"]) == (1, 1)
    assert result["released"] is False
    assert result["held"] is False
    assert result["mineUnread"] is False
    assert result["fromRest"] == {"threads": [7], "unread": True}


def test_a_cleared_thread_is_empty_until_a_new_message(run_changes):
    result = run_changes("""
        const live = { type: "thread.cleared", thread: 7, unread_count: 0, thread_unread_count: 0 };
        const stale = store.apply(live);
        const cleared = { ...seen(), hasMore: store.state.conversation.hasMore };
        const again = store.apply(live);
        const fromRest = store.apply({ type: "thread.cleared", thread: 7 });
        store.apply({ type: "message.created", message: message(12, bob), unread_count: 1,
                      thread_unread_count: 1 });
        return { stale, cleared, again, fromRest, after: seen() };
    """)
    assert result["stale"] is None
    assert result["again"] is None
    assert result["cleared"]["shown"] == []
    assert result["cleared"]["last"] is None
    assert result["cleared"]["hasMore"] is False
    assert result["fromRest"] == {"threads": [7], "unread": True}
    assert (result["after"]["shown"], result["after"]["last"]) == ([12], 12)
    assert result["after"]["threadUnread"] == 1


# Searching my messages, and a conversation opened at a message (a search result).

SEARCH = """
const found = (id, highlights = [[0, 7]]) => ({ message: message(id, bob), highlights });
const results = () => store.state.search?.results.map(({ message }) => message.id) ?? null;
const answer = (query, thread, ids, extra = {}) => ({
  type: "search.loaded", query, thread, results: ids.map((id) => found(id)), count: ids.length,
  next: null, ...extra,
});
"""


def test_only_the_answer_to_the_search_shown_is_applied(run):
    result = run(
        SEARCH
        + """
        store.apply({ type: "search.started", query: "mess", thread: null });
        const loading = store.state.search.loading;
        store.apply({ type: "search.started", query: "message", thread: null });
        // The earlier search's answer comes last: not shown.
        store.apply(answer("message", null, [12, 11], { next: "more" }));
        store.apply(answer("mess", null, [99]));
        const firstPage = { results: results(), hasMore: store.state.search.hasMore };
        // The following page: after the oldest result shown, once, whatever comes again.
        store.apply({ type: "search.loading", query: "message", thread: null });
        const more = answer("message", null, [11, 10], { before: 11, count: 3 });
        store.apply(more);
        store.apply(more);
        // An answer for a page after another result: no longer the following page.
        store.apply(answer("message", null, [5], { before: 12 }));
        const paged = { results: results(), hasMore: store.state.search.hasMore,
                        count: store.state.search.count, loading: store.state.search.loading };
        store.apply({ type: "search.failed", query: "message", thread: 7, error: "not this" });
        store.apply({ type: "search.failed", query: "message", thread: null, error: "Oops." });
        const failed = { results: results(), error: store.state.search.error };
        store.apply({ type: "search.ended" });
        store.apply(answer("message", null, [12]));
        return { loading, first: firstPage, paged, failed, ended: store.state.search };
    """
    )
    assert result["loading"] is True
    assert result["first"] == {"results": [12, 11], "hasMore": True}
    assert result["paged"] == {
        "results": [12, 11, 10],
        "hasMore": False,
        "count": 3,
        "loading": False,
    }
    assert result["failed"] == {"results": [12, 11, 10], "error": "Oops."}
    assert result["ended"] is None


def test_results_deleted_hidden_or_edited_stop_showing_as_found(run):
    result = run(
        SEARCH
        + """
        store.apply({ type: "search.started", query: "message", thread: null });
        store.apply(answer("message", null, [13, 12, 11, 10]));
        store.apply({ type: "message.deleted", thread: 7, message_id: 12 });
        const deleted = { results: results(), count: store.state.search.count };
        const edit = { text: "new text", edited: "2026-01-02T00:00:00Z" };
        store.apply({ type: "message.updated", message: { ...message(13, bob), ...edit } });
        const edited = store.state.search.results[0];
        store.apply({ type: "thread.cleared", thread: 7 });
        return { deleted, edited, cleared: results() };
    """
    )
    assert result["deleted"] == {"results": [13, 11, 10], "count": 3}
    assert result["edited"]["message"]["text"] == "new text"
    assert result["edited"]["highlights"] == []
    assert result["cleared"] == []


def test_a_conversation_opened_at_a_message_loads_around_it_and_not_past_its_newest_page(run):
    result = run("""
        store.apply({ type: "conversation.opened", thread: 7, at: 20 });
        // An answer for another message of that thread: not this one's.
        store.apply({ type: "messages.around", thread: 7, at: 30, older: [message(30, bob)],
                      olderNext: null, newer: [], newerNext: null });
        store.apply({ type: "messages.around", thread: 7, at: 20,
                      older: [message(20, bob), message(19, alice)], olderNext: "older",
                      newer: [message(21, bob), message(22, alice)], newerNext: "newer" });
        const c = () => store.state.conversation;
        const around = { shown: seen().shown, hasMore: c().hasMore, hasNewer: c().hasNewer,
                         target: c().target };
        // A live message past the pages shown: counted in the list, not shown after a gap.
        store.apply({ type: "message.created", message: message(40, bob), unread_count: 1 });
        const live = { shown: seen().shown, last: seen().last };
        // The page after the newest shown, then one asked for after another: not applied.
        store.apply({ type: "messages.loaded", thread: 7, messages: [message(23, bob)],
                      next: "newer", after: 22 });
        store.apply({ type: "messages.loaded", thread: 7, messages: [message(30, bob)],
                      next: null, after: 22 });
        const newer = { shown: seen().shown, hasNewer: c().hasNewer };
        // The newest page takes the place of those shown.
        store.apply({ type: "messages.loaded", thread: 7, next: "older",
                      messages: [message(40, bob), message(39, bob)] });
        const latest = { shown: seen().shown, hasNewer: c().hasNewer, target: c().target };
        store.apply({ type: "message.created", message: message(41, bob) });
        return { around, live, newer, latest, after: seen().shown };
    """)
    assert result["around"] == {
        "shown": [19, 20, 21, 22],
        "hasMore": True,
        "hasNewer": True,
        "target": 20,
    }
    assert result["live"] == {"shown": [19, 20, 21, 22], "last": 40}
    assert result["newer"] == {"shown": [19, 20, 21, 22, 23], "hasNewer": True}
    assert result["latest"] == {"shown": [39, 40], "hasNewer": False, "target": None}
    assert result["after"] == [39, 40, 41]


def test_the_last_newer_page_joins_the_newest_messages(run):
    result = run("""
        store.apply({ type: "conversation.opened", thread: 7, at: 20 });
        store.apply({ type: "messages.around", thread: 7, at: 20, older: [message(20, bob)],
                      olderNext: null, newer: [message(21, bob)], newerNext: "newer" });
        store.apply({ type: "messages.loaded", thread: 7, messages: [message(22, bob)],
                      next: null, after: 21 });
        const joined = store.state.conversation.hasNewer;
        store.apply({ type: "message.created", message: message(23, bob) });
        return { joined, shown: seen().shown, target: store.state.conversation.target };
    """)
    assert result["joined"] is False
    assert result["shown"] == [20, 21, 22, 23]
    assert result["target"] == 20


def test_presence_reaches_every_thread_with_that_user_and_again_changes_nothing(run):
    result = run("""
        const event = { type: "presence", user: bob.id, online: true, last_seen: null };
        store.apply(event);
        const once = store.state.threads.get(7);
        store.apply(event);
        const again = store.state.threads.get(7);
        store.apply({ type: "presence", user: 99, online: true, last_seen: null });
        const other = store.state.threads.get(7);
        store.apply({ ...event, online: false, last_seen: "2026-01-01T11:00:00Z" });
        const gone = store.state.threads.get(7).participants.find(({ id }) => id === bob.id);
        return {
          online: once.participants.find(({ id }) => id === bob.id).online,
          me: once.participants.find(({ id }) => id === alice.id).online ?? null,
          sameObject: once === again && again === other,
          gone,
        };
    """)
    assert result["online"] is True
    assert result["me"] is None
    assert result["sameObject"] is True
    assert result["gone"] == {
        "id": 2,
        "username": "bob",
        "online": False,
        "last_seen": "2026-01-01T11:00:00Z",
    }


def test_blocking_marks_the_person_and_asks_for_their_threads(run):
    result = run("""
        store.apply({ type: "blocked.loaded", users: [] });
        const blocked = store.apply({ type: "block.changed", user: bob, blocked: true });
        const whileBlocked = store.state.blocked.has(bob.id);
        const again = store.apply({ type: "block.changed", user: bob, blocked: true });
        const announced = store.state.announcement.text;
        store.apply({ type: "block.changed", user: bob, blocked: false });
        return { blocked, whileBlocked, again, announced, after: [...store.state.blocked.keys()] };
    """)
    assert result == {
        "blocked": {"threads": [7]},
        "whileBlocked": True,
        "again": None,
        "announced": "You blocked bob.",
        "after": [],
    }


def test_a_refused_send_gives_its_text_back_and_is_not_kept_to_retry(run):
    result = run("""
        store.apply({ type: "send.started", thread: 7, key: "k1", text: "still there?" });
        store.apply({ type: "send.refused", thread: 7, key: "k1", error: "You cannot." });
        const { pending, error, returned } = store.state.conversation;
        return { pending: [...pending.keys()], error, returned };
    """)
    assert result == {"pending": [], "error": "You cannot.", "returned": {"text": "still there?"}}


def test_a_mute_counts_until_its_time_runs_out(run):
    result = run("""
        const { isMuted } = await import("/static/web/store.js");
        const now = Date.parse("2026-01-01T12:00:00Z");
        return [
          isMuted({ muted: false, muted_until: null }, now),
          isMuted({ muted: true, muted_until: null }, now),
          isMuted({ muted: true, muted_until: "2026-01-01T13:00:00Z" }, now),
          isMuted({ muted: true, muted_until: "2026-01-01T11:00:00Z" }, now),
        ];
    """)
    assert result == [False, True, True, False]


# Files for the next send: `uploads()` is the open conversation's, key → [state, attachment id].
UPLOADS = """
const file = (id, name) => ({ id, name, size: 100, content_type: "image/png", width: 4,
  height: 3, url: `/f/${id}`, thumbnail_url: `/t/${id}` });
const uploads = () => Object.fromEntries([...store.state.conversation.uploads].map(
  ([key, { sent, attachment, error }]) =>
    [key, [error || (attachment ? "done" : `sent ${sent}`), attachment?.id ?? null]]));
"""


def test_uploads_leave_with_the_send_that_carries_them_and_a_refusal_gives_them_back(run):
    result = run(
        UPLOADS
        + """
        store.apply({ type: "upload.started", thread: 7, key: "u1", name: "a.png", size: 100 });
        store.apply({ type: "upload.started", thread: 7, key: "u2", name: "b.png", size: 100 });
        store.apply({ type: "upload.refused", thread: 7, key: "u3", name: "c.bin", size: 9e9,
                      error: "Too large." });
        store.apply({ type: "upload.progress", thread: 7, key: "u1", sent: 40 });
        const uploading = uploads();
        const a = file(5, "a.png");
        store.apply({ type: "upload.finished", thread: 7, key: "u1", attachment: a });
        // A progress event that comes after the answer changes nothing.
        const before = store.state.conversation;
        store.apply({ type: "upload.progress", thread: 7, key: "u1", sent: 100 });
        const lateProgress = store.state.conversation === before;
        store.apply({ type: "upload.failed", thread: 7, key: "u2", error: "Not allowed." });
        store.apply({ type: "send.started", thread: 7, key: "k1", text: "", attachments: [a] });
        const sending = uploads();
        const pending = store.state.conversation.pending.get("k1").attachments.map(({ id }) => id);
        store.apply({ type: "send.refused", thread: 7, key: "k1", error: "You cannot." });
        const refused = uploads();
        store.apply({ type: "upload.removed", thread: 7, key: "u2" });
        return { uploading, lateProgress, sending, pending, refused, removed: uploads() };
    """
    )
    assert result["uploading"] == {
        "u1": ["sent 40", None],
        "u2": ["sent 0", None],
        "u3": ["Too large.", None],
    }
    assert result["lateProgress"] is True
    assert result["sending"] == {"u2": ["Not allowed.", None], "u3": ["Too large.", None]}
    assert result["pending"] == [5]
    assert result["refused"] == {
        "k1-0": ["done", 5],
        "u2": ["Not allowed.", None],
        "u3": ["Too large.", None],
    }
    assert result["removed"] == {"k1-0": ["done", 5], "u3": ["Too large.", None]}


def test_my_message_of_files_takes_the_place_of_the_send_with_the_same_files(run):
    result = run(
        UPLOADS
        + """
        for (const [key, id] of [["k1", 5], ["k2", 6]]) {
          store.apply({ type: "send.started", thread: 7, key, text: "",
                        attachments: [file(id, `${id}.png`)] });
        }
        const sent = { ...message(11, alice, ""), attachments: [file(6, "6.png")] };
        store.apply({ type: "message.created", message: sent, unread_count: 0 });
        const afterEvent = seen();
        store.apply({ type: "message.deleted", thread: 7, message_id: 11, hidden: false });
        const tombstone = store.state.conversation.messages.at(-1);
        return { afterEvent, tombstone: [tombstone.deleted, tombstone.attachments] };
    """
    )
    assert result["afterEvent"]["shown"] == [10, 11]
    assert result["afterEvent"]["pending"] == ["k1"]
    assert result["tombstone"] == [True, []]
