/**
 * The page's state, and the one place it changes.
 *
 * Every change is an event given to `apply()`: the server's live events (docs/API.md), REST
 * answers turned into events, and the page's own doings (a conversation opened, a send on its way).
 * Catching up after a reconnect turns what REST returns into the same live events, so a missed
 * message takes the same path as a live one. Applying an event again changes nothing more (a
 * message already known is not counted twice), so events that raced a REST answer can be applied
 * again on top of it.
 *
 * Views subscribe and render from `state`. What an event changes is replaced, never edited in
 * place, so a view tells what changed by comparing objects.
 */

const TYPING_SHOWN_MS = 4000;
const ERROR_SHOWN_MS = 6000;

function signedOut() {
  return {
    signedIn: false,
    signedOutNotice: "",
    me: null,
    threads: new Map(), // id → Thread (docs/API.md): the pages loaded, and any thread opened
    threadsLoaded: false, // the first page has arrived
    moreThreads: null, // the URL of the next page of threads
    unread: 0, // messages to me not read yet, in all threads
    conversation: null, // the open thread's messages, see `newConversation`
    notice: null, // why no conversation is open
    marking: null, // the thread this page is marking read
    deleting: null, // the thread this page asked to delete
    typing: null, // {thread, user, until}
    connection: "ok", // or "offline", "server" (not answering), "reconnecting"
    error: null, // {text, until}: a failure with no better place to be shown
    announcement: null, // {text} for screen readers
  };
}

function newConversation(threadId) {
  return {
    threadId,
    messages: [], // in id order
    pending: new Map(), // Idempotency-Key → {text, failed}: sends not answered yet
    loaded: false, // the first page has arrived
    hasMore: true, // older pages remain
    loadingOlder: false,
    sendError: "",
  };
}

export const otherOf = (thread, me) =>
  thread.participants.find((user) => user.id !== me.id) ?? thread.participants[0];

function putThread(state, thread) {
  state.threads = new Map(state.threads).set(thread.id, thread);
}

/** If `threadId`'s is the open conversation, `change(conversation)` says what in it changes,
 * if anything. */
function changeConversation(state, threadId, change) {
  const conversation = state.conversation;
  if (conversation?.threadId !== threadId) return;
  const changed = change(conversation);
  if (changed) state.conversation = { ...conversation, ...changed };
}

function closeConversation(state, notice) {
  state.conversation = null;
  state.notice = notice;
  state.typing = null;
}

function announce(state, text) {
  state.announcement = { text };
}

/** `list` with those of `messages` it lacks, in id order. */
function withMessages(list, messages) {
  const known = new Set(list.map(({ id }) => id));
  const fresh = messages.filter(({ id }) => !known.has(id));
  return fresh.length ? [...list, ...fresh].sort((a, b) => a.id - b.id) : list;
}

/** Our own send, announced before its POST answered: the message takes its pending one's place. */
function withoutPendingOf(pending, message) {
  for (const [key, entry] of pending) {
    if (entry.text !== message.text) continue;
    const rest = new Map(pending);
    rest.delete(key);
    return rest;
  }
  return pending;
}

function messageCreated(state, { message, unread_count: unread }) {
  if (unread !== undefined) state.unread = unread;
  const incoming = message.sender !== state.me.id;
  const thread = state.threads.get(message.thread);
  // A thread whose last message is this one or a newer one counts it already.
  const counted = thread?.last_message?.id >= message.id;
  if (thread && !counted) {
    putThread(state, {
      ...thread,
      last_message: message,
      updated: message.created,
      unread_count: thread.unread_count + (incoming ? 1 : 0),
    });
  }
  const open = state.conversation?.threadId === message.thread ? state.conversation : null;
  const shown = open?.messages.some(({ id }) => id === message.id);
  const appliedBefore = counted && (!open || shown);
  if (open && !shown) {
    state.conversation = {
      ...open,
      messages: withMessages(open.messages, [message]),
      pending: incoming ? open.pending : withoutPendingOf(open.pending, message),
    };
  }
  if (incoming && !appliedBefore) {
    const name = thread ? otherOf(thread, state.me).username : "someone";
    if (open) {
      state.typing = null;
      announce(state, `${name}: ${message.text}`);
    } else {
      announce(state, `New message from ${name}.`);
    }
  }
  if (!thread) return { threads: [message.thread] };
}

function messageRead(state, { thread: id, message_ids: ids, unread_count: unread }) {
  const myUnreadChanged = unread !== undefined && unread !== state.unread;
  if (unread !== undefined) state.unread = unread;
  const readIds = new Set(ids);
  const read = (message) =>
    readIds.has(message.id) && !message.is_read ? { ...message, is_read: true } : message;
  changeConversation(state, id, ({ messages }) =>
    messages.some((message) => read(message) !== message) ? { messages: messages.map(read) } : null,
  );
  const thread = state.threads.get(id);
  if (thread?.last_message && read(thread.last_message) !== thread.last_message) {
    putThread(state, { ...thread, last_message: read(thread.last_message) });
  }
  // My own total changed, so I read them: in another tab, unless this page is marking the thread
  // (its answer updates the count). Only a fetch tells the thread's new count.
  if (thread && myUnreadChanged && state.marking !== id) return { threads: [id] };
}

function threadDeleted(state, { thread: id }) {
  const thread = state.threads.get(id);
  if (!thread) return;
  state.threads = new Map(state.threads);
  state.threads.delete(id);
  const notice =
    id === state.deleting
      ? "Conversation deleted."
      : `The conversation with ${otherOf(thread, state.me).username} was deleted.`;
  if (state.conversation?.threadId === id) closeConversation(state, notice);
  announce(state, notice);
  return { unread: true }; // its unread messages are gone from the total
}

/**
 * One handler per event type: `handler(state, event)` changes `state` and may return what the
 * event left stale, for the caller to fetch: `{threads: [ids]}` or `{unread: true}`.
 */
const HANDLERS = {
  // The server's live events (docs/API.md), and the same events made from REST when catching up.
  "message.created": messageCreated,
  "message.read": messageRead,
  "thread.created"(state, { thread }) {
    if (!state.threads.has(thread.id)) putThread(state, thread);
  },
  "thread.deleted": threadDeleted,
  typing(state, { thread, user }) {
    const open = state.conversation?.threadId === thread && state.threads.has(thread);
    if (!open || user === state.me.id) return;
    state.typing = { thread, user, until: Date.now() + TYPING_SHOWN_MS };
  },

  // REST answers.
  "me.loaded"(state, { me }) {
    Object.assign(state, { me, connection: "ok", error: null });
  },
  "threads.loaded"(state, { threads, next, unread_count: unread }) {
    const openId = state.conversation?.threadId;
    const open = state.threads.get(openId);
    state.threads = new Map(threads.map((thread) => [thread.id, thread]));
    Object.assign(state, { threadsLoaded: true, moreThreads: next, unread });
    // The open thread may be further down the list, or deleted while this page was not told.
    if (openId && !state.threads.has(openId)) {
      if (open) state.threads.set(openId, open);
      return { threads: [openId] };
    }
  },
  "threads.more"(state, { threads, next }) {
    state.threads = new Map(state.threads);
    for (const thread of threads) state.threads.set(thread.id, thread);
    state.moreThreads = next;
  },
  "thread.loaded"(state, { thread }) {
    putThread(state, thread);
  },
  "unread.loaded"(state, { unread_count: unread }) {
    state.unread = unread;
  },
  "messages.loaded"(state, { thread, messages, next, before }) {
    changeConversation(state, thread, (conversation) => {
      // An older page asked for by a conversation since closed and opened again: no longer
      // the page before the oldest shown.
      if (before !== undefined && before !== conversation.messages[0]?.id) return null;
      return {
        messages: withMessages(conversation.messages, messages),
        loaded: true,
        hasMore: Boolean(next),
        loadingOlder: false,
      };
    });
  },

  // The page's own doings.
  "session.started"(state) {
    Object.assign(state, signedOut(), { signedIn: true });
  },
  "session.ended"(state, { notice = "" }) {
    Object.assign(state, signedOut(), { signedOutNotice: notice });
  },
  connection(state, { status }) {
    Object.assign(state, { connection: status, error: null });
  },
  "error.shown"(state, { text }) {
    state.error = { text, until: Date.now() + ERROR_SHOWN_MS };
  },
  "conversation.opened"(state, { thread }) {
    Object.assign(state, { conversation: newConversation(thread), notice: null, typing: null });
  },
  "conversation.closed"(state, { thread, notice = null }) {
    // `thread`, if given: close only that one, the user may have moved on.
    if (thread === undefined || state.conversation?.threadId === thread) {
      closeConversation(state, notice);
    }
  },
  "history.loading"(state, { thread, loading }) {
    changeConversation(state, thread, () => ({ loadingOlder: loading }));
  },
  "send.started"(state, { thread, key, text }) {
    changeConversation(state, thread, ({ pending }) => ({
      pending: new Map(pending).set(key, { text, failed: false }),
      sendError: "",
    }));
  },
  "send.failed"(state, { thread, key, error }) {
    changeConversation(state, thread, ({ pending }) => {
      const entry = pending.get(key);
      if (!entry) return null;
      return { pending: new Map(pending).set(key, { ...entry, failed: true }), sendError: error };
    });
  },
  "send.confirmed"(state, { key, message }) {
    // Shown in place of its pending one here, so that the live event cannot take another's.
    changeConversation(state, message.thread, ({ pending, messages }) => {
      const rest = new Map(pending);
      rest.delete(key);
      return { pending: rest, messages: withMessages(messages, [message]) };
    });
    return messageCreated(state, { message });
  },
  "marking.started"(state, { thread }) {
    state.marking = thread;
  },
  "marking.finished"(state, { thread: id, marked }) {
    state.marking = null;
    const thread = state.threads.get(id);
    if (thread && marked) {
      putThread(state, { ...thread, unread_count: Math.max(0, thread.unread_count - marked) });
    }
  },
  "thread.deleting"(state, { thread }) {
    state.deleting = thread;
  },
};

export class Store {
  constructor() {
    this.state = signedOut();
    this.listeners = [];
  }

  /** `listener(state)` runs after every event, in the order subscribed. */
  subscribe(listener) {
    this.listeners.push(listener);
  }

  /** Applies `event` and tells the subscribers; returns what it left stale, or null. */
  apply(event) {
    const handler = HANDLERS[event.type];
    // An event type this page does not know (a newer server's) changes nothing.
    if (!handler) return null;
    const stale = handler(this.state, event) ?? null;
    for (const listener of this.listeners) listener(this.state);
    return stale;
  }
}
