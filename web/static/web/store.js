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
    markingCounted: false, // an exact count of that thread came meanwhile
    deleting: null, // the thread this page asked to delete
    typing: null, // {thread, user, until}
    connection: "ok", // or "offline", "server" (not answering), "reconnecting"
    error: null, // {text, until}: a failure with no better place to be shown
    announcement: null, // {text} for screen readers
    search: null, // the search in my messages shown in place of the thread list, see `newSearch`
    blocked: null, // id → User: the people I block, once loaded
    push: null, // {status, busy, error}: notifications in this browser, once known (push.js)
  };
}

function newConversation(threadId, target = null) {
  return {
    threadId,
    messages: [], // in id order
    pending: new Map(), // Idempotency-Key → {text, attachments, failed}: sends not answered yet
    // Files chosen for the next send, in the order chosen: key → {name, size, sent (bytes so
    // far), attachment (once uploaded), error (why it failed, or was refused before uploading)}.
    uploads: new Map(),
    loaded: false, // the first page has arrived
    hasMore: true, // older pages remain
    loadingOlder: false,
    // Opened at message `target` (a search result): the pages around it are loaded, and newer
    // pages remain between them and the newest message while `hasNewer`.
    target,
    hasNewer: false,
    loadingNewer: false,
    error: "", // what the last send, edit or action on a message failed with
    editing: null, // {id, saving}: my message whose text the composer holds
    keepUnread: false, // I marked messages unread here: not read again while it stays open
    // A send the server refused (a block): its text, for the composer to take back (its files go
    // back to `uploads`).
    returned: null, // {text}
  };
}

function newSearch(query, thread) {
  return {
    query, // as sent: 1 to 200 characters
    thread, // the thread searched in, or null for all of mine
    results: [], // {message, highlights}, newest first
    count: null, // how many the server found
    hasMore: false, // older results remain
    loading: true, // a page is on its way
    error: "",
  };
}

export const otherOf = (thread, me) =>
  thread.participants.find((user) => user.id !== me.id) ?? thread.participants[0];

/** Whether I muted `thread` and the time it was muted for has not passed. */
export const isMuted = (thread, now = Date.now()) =>
  Boolean(thread.muted) && (!thread.muted_until || Date.parse(thread.muted_until) > now);

/** What a message's files are called where there is no room for them: "cat.png", "3 files". */
export const filesSummary = (attachments) =>
  attachments.length === 1 ? attachments[0].name : `${attachments.length} files`;

/** Whether I block `user`. */
export const blocks = (state, user) => Boolean(state.blocked?.has(user.id));

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

/**
 * The exact unread figures that the server's events carry: my total, and my count in `threadId`.
 * Absolute, so applying them again, or an older event replayed before a newer one, ends right.
 * Returns whether the thread's count was given.
 */
function setCounts(state, threadId, { unread_count: unread, thread_unread_count: inThread }) {
  if (unread !== undefined) state.unread = unread;
  if (inThread === undefined) return false;
  const thread = state.threads.get(threadId);
  if (thread && thread.unread_count !== inThread) {
    putThread(state, { ...thread, unread_count: inThread });
  }
  if (state.marking === threadId) state.markingCounted = true;
  return true;
}

/** `change(message)` applied to the open conversation's messages and `threadId`'s last message;
 * it returns the message itself when it does not change it, and null to remove it. */
function changeMessages(state, threadId, change) {
  changeConversation(state, threadId, ({ messages, editing }) => {
    const next = messages.map(change);
    if (next.every((message, index) => message === messages[index])) return null;
    const kept = next.filter(Boolean);
    const stillEditing = editing && kept.some(({ id, deleted }) => id === editing.id && !deleted);
    return { messages: kept, editing: stillEditing ? editing : null };
  });
  const thread = state.threads.get(threadId);
  const last = thread?.last_message;
  const changed = last && change(last);
  if (last && changed !== last && changed !== null) {
    putThread(state, { ...thread, last_message: changed });
  }
}

/** `change(upload)` says what changes in upload `key` of the open conversation, if anything. */
function changeUpload(state, threadId, key, change) {
  changeConversation(state, threadId, ({ uploads }) => {
    const upload = uploads.get(key);
    const changed = upload && change(upload);
    return changed ? { uploads: new Map(uploads).set(key, { ...upload, ...changed }) } : null;
  });
}

/** The search's results without those `gone(message)` says are no longer found. */
function dropResults(state, gone) {
  const search = state.search;
  const results = search?.results.filter(({ message }) => !gone(message));
  if (!search || results.length === search.results.length) return;
  const count = search.count === null ? null : search.count - (search.results.length - results.length);
  state.search = { ...search, results, count };
}

/** Whether `event` answers the search shown (not an earlier one, nor one since left). */
const answersSearch = (search, { query, thread }) =>
  search !== null && search.query === query && search.thread === thread;

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

const attachmentIds = (attachments = []) => attachments.map(({ id }) => id).join(",");

/** Our own send, announced before its POST answered: the message takes its pending one's place. */
function withoutPendingOf(pending, message) {
  const ids = attachmentIds(message.attachments);
  for (const [key, entry] of pending) {
    if (entry.text !== message.text || attachmentIds(entry.attachments) !== ids) continue;
    const rest = new Map(pending);
    rest.delete(key);
    return rest;
  }
  return pending;
}

function messageCreated(state, event) {
  const { message } = event;
  if (event.unread_count !== undefined) state.unread = event.unread_count;
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
  setCounts(state, message.thread, { thread_unread_count: event.thread_unread_count });
  const open = state.conversation?.threadId === message.thread ? state.conversation : null;
  const shown = open?.messages.some(({ id }) => id === message.id);
  const appliedBefore = counted && (!open || shown || open.hasNewer);
  if (open && !shown) {
    state.conversation = {
      ...open,
      // Past the newest page loaded, newer ones remain: it shows when they are loaded.
      messages: open.hasNewer ? open.messages : withMessages(open.messages, [message]),
      pending: incoming ? open.pending : withoutPendingOf(open.pending, message),
    };
  }
  if (incoming && !appliedBefore && !message.deleted) {
    const name = thread ? otherOf(thread, state.me).username : "someone";
    if (open) {
      state.typing = null;
      announce(state, `${name}: ${message.text || `📎 ${filesSummary(message.attachments)}`}`);
    } else {
      announce(state, `New message from ${name}.`);
    }
  }
  if (!thread) return { threads: [message.thread] };
}

function messageRead(state, event) {
  const { thread: id, message_ids: ids, unread_count: unread } = event;
  const myUnreadChanged = unread !== undefined && unread !== state.unread;
  const counted = setCounts(state, id, event);
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
  // (its answer updates the count). Without the thread's count, only a fetch tells it.
  if (thread && myUnreadChanged && !counted && state.marking !== id) return { threads: [id] };
}

/** Marked unread by their recipient: that message and the later ones sent to them. */
function messageUnread(state, event) {
  const { thread: id, message_ids: ids } = event;
  const counted = setCounts(state, id, event);
  const unreadIds = new Set(ids);
  const unread = (message) =>
    unreadIds.has(message.id) && message.is_read && !message.deleted
      ? { ...message, is_read: false }
      : message;
  changeMessages(state, id, unread);
  // Messages to me: I marked them, to come back to them, so this page does not mark them read
  // again while the conversation stays open.
  const toMe = (message) => unreadIds.has(message.id) && message.sender !== state.me.id;
  changeConversation(state, id, ({ messages, keepUnread }) =>
    !keepUnread && messages.some(toMe) ? { keepUnread: true } : null,
  );
  if (!counted && ids.length && state.threads.has(id)) return { threads: [id], unread: true };
}

function messageUpdated(state, { message }) {
  const edit = (shown) => {
    if (shown.id !== message.id || shown.deleted) return shown; // a tombstone stays one
    const older = shown.edited && Date.parse(message.edited) < Date.parse(shown.edited);
    const same = shown.text === message.text && shown.edited === message.edited;
    // Only the text: the read state has events of its own, which may have come since.
    return older || same ? shown : { ...shown, text: message.text, edited: message.edited };
  };
  changeMessages(state, message.thread, edit);
  const search = state.search;
  if (search?.results.some((result) => result.message.id === message.id)) {
    // Its highlights were of the text it had; whether the new one still matches, only another
    // search tells.
    const results = search.results.map((result) => {
      const changed = result.message.id === message.id && edit(result.message);
      return changed && changed !== result.message ? { message: changed, highlights: [] } : result;
    });
    state.search = { ...search, results };
  }
}

/**
 * Deleted for everyone (`hidden` false: a tombstone in its place), or for me (`hidden` true: gone
 * from my view). The server's event does not say which: `hidden` is set by the page that asked,
 * or once a REST answer told (see sync.js); until then an event that changes what is shown is
 * returned, `{deleted: [event]}`, for the caller to find out and apply it again.
 */
function messageDeleted(state, event) {
  const { thread: id, message_id: messageId, hidden } = event;
  // Deleted for everyone or hidden for me, it is no longer found.
  dropResults(state, (message) => message.id === messageId);
  const counted = setCounts(state, id, event);
  const thread = state.threads.get(id);
  const open = state.conversation?.threadId === id ? state.conversation : null;
  const shown = open?.messages.find((message) => message.id === messageId);
  const last = thread?.last_message?.id === messageId ? thread.last_message : null;
  if (!shown && !last) return;
  if (hidden === undefined) return { deleted: [event] };
  const stale = {};
  if (hidden) {
    changeMessages(state, id, (message) => (message.id === messageId ? null : message));
    if (last) stale.threads = [id]; // the message before it, now the last, is not known here
  } else {
    const tombstone = (message) =>
      message.id === messageId && !message.deleted
        ? { ...message, text: "", attachments: [], deleted: true }
        : message;
    changeMessages(state, id, tombstone);
  }
  // Not told the counts (a REST answer): an unread message to me no longer counts.
  const before = shown ?? last;
  if (!counted && before.sender !== state.me.id && !before.is_read && !before.deleted) {
    Object.assign(stale, { threads: [id], unread: true });
  }
  return stale.threads ? stale : undefined;
}

/** Every message hidden for me, in every tab of mine. */
function threadCleared(state, event) {
  const { thread: id } = event;
  dropResults(state, (message) => message.thread === id);
  const counted = setCounts(state, id, event);
  const thread = state.threads.get(id);
  if (thread?.last_message) putThread(state, { ...thread, last_message: null });
  changeConversation(state, id, ({ messages, hasMore }) =>
    messages.length || hasMore ? { messages: [], hasMore: false, editing: null } : null,
  );
  if (thread && !counted) return { threads: [id], unread: true };
}

function threadDeleted(state, { thread: id, unread_count: unread }) {
  const thread = state.threads.get(id);
  if (unread !== undefined) state.unread = unread;
  dropResults(state, (message) => message.thread === id);
  if (!thread) return;
  state.threads = new Map(state.threads);
  state.threads.delete(id);
  const notice =
    id === state.deleting
      ? "Conversation deleted."
      : `The conversation with ${otherOf(thread, state.me).username} was deleted.`;
  if (state.conversation?.threadId === id) closeConversation(state, notice);
  announce(state, notice);
  // Its unread messages are gone from the total: the server's event says how many remain.
  if (unread === undefined) return { unread: true };
}

/**
 * One handler per event type: `handler(state, event)` changes `state` and may return what the
 * event left stale, for the caller to fetch: `{threads: [ids]}`, `{unread: true}`, or
 * `{deleted: [events]}` (see `messageDeleted`).
 */
const HANDLERS = {
  // The server's live events (docs/API.md), and the same events made from REST when catching up.
  "message.created": messageCreated,
  "message.read": messageRead,
  "message.unread": messageUnread,
  "message.updated": messageUpdated,
  "message.deleted": messageDeleted,
  "thread.cleared": threadCleared,
  "thread.created"(state, { thread }) {
    if (!state.threads.has(thread.id)) putThread(state, thread);
  },
  "thread.deleted": threadDeleted,
  presence(state, { user, online, last_seen: lastSeen }) {
    // Every thread with them: the thread list and the open conversation draw it from there.
    const changed = (person) =>
      person.id === user && (person.online !== online || person.last_seen !== lastSeen);
    for (const thread of state.threads.values()) {
      if (!thread.participants.some(changed)) continue;
      const participants = thread.participants.map((person) =>
        changed(person) ? { ...person, online, last_seen: lastSeen } : person,
      );
      putThread(state, { ...thread, participants });
    }
  },
  typing(state, { thread, user }) {
    const open = state.conversation?.threadId === thread && state.threads.has(thread);
    if (!open || user === state.me.id) return;
    state.typing = { thread, user, until: Date.now() + TYPING_SHOWN_MS };
  },

  // REST answers.
  "me.loaded"(state, { me }) {
    Object.assign(state, { me, connection: "ok", error: null });
  },
  "me.updated"(state, { me }) {
    state.me = { ...state.me, ...me };
  },
  "blocked.loaded"(state, { users }) {
    state.blocked = new Map(users.map((user) => [user.id, user]));
  },
  /** I blocked `user`, or unblocked them (`blocked` false). Their threads' presence, which the
   * server stops or starts sharing, is left to the caller to fetch. */
  "block.changed"(state, { user, blocked }) {
    if (blocks(state, user) === blocked) return;
    state.blocked = new Map(state.blocked ?? []);
    if (blocked) state.blocked.set(user.id, user);
    else state.blocked.delete(user.id);
    announce(state, blocked ? `You blocked ${user.username}.` : `You unblocked ${user.username}.`);
    const theirs = [...state.threads.values()].filter((thread) =>
      thread.participants.some(({ id }) => id === user.id),
    );
    if (theirs.length) return { threads: theirs.map(({ id }) => id) };
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
  "messages.loaded"(state, { thread, messages, next, before, after }) {
    changeConversation(state, thread, (conversation) => {
      // An older page asked for by a conversation since closed and opened again: no longer
      // the page before the oldest shown.
      if (before !== undefined && before !== conversation.messages[0]?.id) return null;
      // A newer page (`?after=`, oldest first): likewise, only after the newest shown.
      if (after !== undefined) {
        if (!conversation.hasNewer || after !== conversation.messages.at(-1)?.id) return null;
        return {
          messages: withMessages(conversation.messages, messages),
          hasNewer: Boolean(next),
          loadingNewer: false,
        };
      }
      const newest = before === undefined;
      // The newest page, with a gap between it and the pages shown: it takes their place.
      const shown = newest && conversation.hasNewer ? [] : conversation.messages;
      return {
        messages: withMessages(shown, messages),
        loaded: true,
        hasMore: Boolean(next),
        loadingOlder: false,
        // Back at the newest: no longer opened at a message.
        ...(newest && conversation.hasNewer ? { hasNewer: false, target: null } : {}),
      };
    });
  },
  /** The pages around message `at`: it and older ones (newest first), and newer ones (oldest
   * first), for a conversation opened at `at`. */
  "messages.around"(state, { thread, at, older, olderNext, newer, newerNext }) {
    changeConversation(state, thread, (conversation) => {
      if (conversation.target !== at || conversation.loaded) return null;
      return {
        messages: withMessages(conversation.messages, [...older, ...newer]),
        loaded: true,
        hasMore: Boolean(olderNext),
        hasNewer: Boolean(newerNext),
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
  "push.changed"(state, { status, busy, error }) {
    state.push = { status, busy, error };
  },
  connection(state, { status }) {
    Object.assign(state, { connection: status, error: null });
  },
  "error.shown"(state, { text }) {
    state.error = { text, until: Date.now() + ERROR_SHOWN_MS };
  },
  "conversation.opened"(state, { thread, at = null }) {
    // `at`: a message to show (a search result), with the pages around it.
    const conversation = newConversation(thread, at);
    Object.assign(state, { conversation, notice: null, typing: null });
  },
  "conversation.closed"(state, { thread, notice = null }) {
    // `thread`, if given: close only that one, the user may have moved on.
    if (thread === undefined || state.conversation?.threadId === thread) {
      closeConversation(state, notice);
    }
  },
  "history.loading"(state, { thread, loading, newer = false }) {
    changeConversation(state, thread, () =>
      newer ? { loadingNewer: loading } : { loadingOlder: loading },
    );
  },
  /** `attachments`: files uploaded for it, which leave the composer with it. */
  "send.started"(state, { thread, key, text, attachments = [] }) {
    changeConversation(state, thread, ({ pending, uploads }) => {
      const sent = new Set(attachments.map(({ id }) => id));
      const kept = [...uploads].filter(([, upload]) => !sent.has(upload.attachment?.id));
      return {
        pending: new Map(pending).set(key, { text, attachments, failed: false }),
        uploads: kept.length === uploads.size ? uploads : new Map(kept),
        error: "",
        keepUnread: false, // writing in it is reading it
      };
    });
  },
  "send.failed"(state, { thread, key, error }) {
    changeConversation(state, thread, ({ pending }) => {
      const entry = pending.get(key);
      if (!entry) return null;
      return { pending: new Map(pending).set(key, { ...entry, failed: true }), error };
    });
  },
  /** Refused for good (a block, on either side): not kept as a failed send to retry; its text
   * and files go back to the composer, with the server's reason. */
  "send.refused"(state, { thread, key, error }) {
    changeConversation(state, thread, ({ pending, uploads }) => {
      const entry = pending.get(key);
      if (!entry) return null;
      const rest = new Map(pending);
      rest.delete(key);
      const back = entry.attachments.map((attachment, index) => {
        const { name, size } = attachment;
        return [`${key}-${index}`, { name, size, sent: size, attachment, error: "" }];
      });
      return {
        pending: rest,
        uploads: back.length ? new Map([...back, ...uploads]) : uploads,
        error,
        returned: { text: entry.text },
      };
    });
  },
  "send.confirmed"(state, { key, message }) {
    // Shown in place of its pending one here, so that the live event cannot take another's.
    changeConversation(state, message.thread, ({ pending, messages, hasNewer }) => {
      const rest = new Map(pending);
      rest.delete(key);
      return { pending: rest, messages: hasNewer ? messages : withMessages(messages, [message]) };
    });
    return messageCreated(state, { message });
  },
  // Files for the next send, each uploaded as soon as chosen: `key` names one in the composer.
  "upload.started"(state, { thread, key, name, size }) {
    changeConversation(state, thread, ({ uploads }) => ({
      uploads: new Map(uploads).set(key, { name, size, sent: 0, attachment: null, error: "" }),
      error: "",
    }));
  },
  /** Refused before uploading (too large): shown with why, until removed. */
  "upload.refused"(state, { thread, key, name, size, error }) {
    changeConversation(state, thread, ({ uploads }) => ({
      uploads: new Map(uploads).set(key, { name, size, sent: 0, attachment: null, error }),
    }));
  },
  "upload.progress"(state, { thread, key, sent }) {
    changeUpload(state, thread, key, (upload) =>
      upload.attachment || upload.error || upload.sent === sent ? null : { sent },
    );
  },
  "upload.finished"(state, { thread, key, attachment }) {
    changeUpload(state, thread, key, ({ size }) => ({ attachment, sent: size }));
  },
  "upload.failed"(state, { thread, key, error }) {
    changeUpload(state, thread, key, () => ({ error }));
  },
  "upload.removed"(state, { thread, key }) {
    changeConversation(state, thread, ({ uploads }) => {
      if (!uploads.has(key)) return null;
      const rest = new Map(uploads);
      rest.delete(key);
      return { uploads: rest };
    });
  },

  "marking.started"(state, { thread }) {
    Object.assign(state, { marking: thread, markingCounted: false });
  },
  "marking.finished"(state, { thread: id, marked }) {
    state.marking = null;
    const thread = state.threads.get(id);
    // An exact count that came meanwhile may count these already.
    if (thread && marked && !state.markingCounted) {
      putThread(state, { ...thread, unread_count: Math.max(0, thread.unread_count - marked) });
    }
  },
  "thread.deleting"(state, { thread }) {
    state.deleting = thread;
  },
  "edit.started"(state, { thread, message: id }) {
    changeConversation(state, thread, ({ messages }) => {
      const message = messages.find((shown) => shown.id === id);
      if (!message || message.deleted) return null;
      return { editing: { id, saving: false }, error: "" };
    });
    if (state.conversation?.editing?.id === id) {
      announce(state, "Editing your message. Enter saves, Escape cancels.");
    }
  },
  "edit.saving"(state, { thread }) {
    changeConversation(state, thread, ({ editing }) =>
      editing ? { editing: { ...editing, saving: true }, error: "" } : null,
    );
  },
  "edit.failed"(state, { thread, error }) {
    changeConversation(state, thread, ({ editing }) => ({
      editing: editing && { ...editing, saving: false },
      error,
    }));
  },
  "edit.ended"(state, { thread }) {
    changeConversation(state, thread, ({ editing }) => (editing ? { editing: null } : null));
  },
  "conversation.failed"(state, { thread, error }) {
    changeConversation(state, thread, () => ({ error }));
  },

  // Searching my messages: `query` and `thread` (null: all my threads) name the search, and an
  // answer to another one than the search shown changes nothing.
  "search.started"(state, { query, thread = null }) {
    state.search = newSearch(query, thread);
  },
  "search.loading"(state, event) {
    if (!answersSearch(state.search, event)) return;
    state.search = { ...state.search, loading: true, error: "" };
  },
  "search.loaded"(state, event) {
    const { results, count = null, next, before } = event;
    const search = state.search;
    if (!answersSearch(search, event)) return;
    // A following page: only the one after the oldest result shown.
    if (before !== undefined && before !== search.results.at(-1)?.message.id) return;
    const known = new Set(search.results.map(({ message }) => message.id));
    const fresh = results.filter(({ message }) => !known.has(message.id));
    state.search = {
      ...search,
      results: before === undefined ? results : [...search.results, ...fresh],
      count,
      hasMore: Boolean(next),
      loading: false,
      error: "",
    };
  },
  "search.failed"(state, event) {
    if (!answersSearch(state.search, event)) return;
    state.search = { ...state.search, loading: false, error: event.error };
  },
  "search.ended"(state) {
    state.search = null;
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
