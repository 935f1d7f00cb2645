/**
 * Keeps the store in step with the server: the socket's live events, REST answers applied as
 * events, catching up through REST after a reconnect, and the requests the page makes (upload
 * files, send, edit, delete, mark read or unread, clear, start a conversation, find people;
 * block, report, mute, share presence).
 */

import {
  ApiError,
  NetworkError,
  SessionExpired,
  accessToken,
  api,
  isNotFound,
  messageFor,
  newKey,
  renewTokens,
  upload,
} from "./api.js";
import {
  COUNT_LIMIT_TEXT,
  MAX_FILES,
  MAX_FILE_BYTES,
  SIZE_LIMIT_TEXT,
  linkExpiring,
} from "./files.js";
import { LiveSocket } from "./socket.js";

const THREAD_PAGE_SIZE = 50;
const MESSAGE_PAGE_SIZE = 30;
const CATCH_UP_PAGE_SIZE = 100;
// Back after this long in the background, the client catches up through REST even though its
// socket stayed open: a cut between the server and its event channel does not close the socket,
// and the events of that moment never reach it (docs/API.md, "Delivery").
const CATCH_UP_AFTER_AWAY_MS = 30_000;
const SEARCH_PAGE_SIZE = 20;
const BLOCKED_PAGE_SIZE = 100;
const TYPING_SEND_EVERY_MS = 3000;
const BOOT_RETRY_MS = 5000;
const OWN_DELETION_KEPT_MS = 60_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const messagesPath = (threadId) => `/api/threads/${threadId}/messages/`;
const messagePath = (messageId) => `/api/messages/${messageId}/`;

export function createSync(store) {
  const socket = new LiveSocket({
    token: accessToken,
    onEvent: receive,
    onState: socketStateChanged,
    onAuthFailed: renewTokens,
  });
  // For each REST answer on its way, the events that arrived meanwhile.
  const racing = new Set();
  let session = 0; // counts sessions, so that a retry of an ended one stops
  let typingSentAt = 0;
  let catchingUp = 0; // catch-ups under way
  let viewSent = null; // the thread in view as the socket was last told (null: none)
  // Message id → whether this page hid it (true) or deleted it for everyone (false): the server's
  // `message.deleted` does not say which, and this page need not ask.
  const ownDeletions = new Map();
  // Upload key → the AbortController of its request, while it is on its way.
  const uploading = new Map();

  /* ---- Events ---- */

  /** A server event: live, or made from a REST answer when catching up. */
  function receive(event) {
    if (event.type === "error") {
      console.warn("Server event error:", event.detail);
      return;
    }
    if (event.type === "message.deleted" && ownDeletions.has(event.message_id)) {
      event.hidden = ownDeletions.get(event.message_id);
      ownDeletions.delete(event.message_id);
    }
    for (const missed of racing) missed.push(event);
    settle(event);
  }

  /** Applies `event`, fetches what it left stale, and marks the open thread read if it is seen. */
  function settle(event) {
    if (!store.state.me) return;
    const stale = store.apply(event);
    for (const id of stale?.threads ?? []) refreshThread(id);
    if (stale?.unread) loadUnread().catch(report);
    for (const deleted of stale?.deleted ?? []) tellDeletion(deleted);
    markSeen();
  }

  /**
   * Whether a message of `event` (`message.deleted`) was deleted for everyone or hidden for me
   * (in another tab): the newest message up to it says, a tombstone if it was deleted for everyone.
   * The event is then applied again, knowing; the answer is kept on it, for its replays.
   */
  async function tellDeletion(event) {
    const { thread, message_id: id } = event;
    try {
      await snapshot(async () => {
        const page = await api(`${messagesPath(thread)}?before=${id + 1}&limit=1`);
        event.hidden = page.results[0]?.id !== id;
        return event;
      });
    } catch (error) {
      if (!isNotFound(error)) report(error); // not found: the thread is gone, its event follows
    }
  }

  /**
   * Applies the event (or events) that `request()` makes of a REST answer. Events that arrived
   * meanwhile may or may not be in the answer, so they are applied again after it.
   */
  async function snapshot(request) {
    const me = store.state.me;
    const missed = [];
    racing.add(missed);
    let events;
    try {
      events = [await request()].flat();
    } finally {
      racing.delete(missed);
    }
    if (store.state.me !== me) return; // an answer for a session that has ended
    for (const event of events) settle(event);
    for (const again of missed) settle(again);
  }

  /* ---- Failures and the connection ---- */

  const setConnection = (status) => store.apply({ type: "connection", status });

  /** For failures with no better place to be shown. */
  function report(error) {
    if (error instanceof SessionExpired) return;
    if (error instanceof NetworkError) {
      diagnoseConnection();
      return;
    }
    store.apply({ type: "error.shown", text: messageFor(error) });
  }

  async function diagnoseConnection() {
    if (!navigator.onLine) return setConnection("offline");
    let healthy = false;
    try {
      healthy = (await fetch("/healthz", { cache: "no-store" })).ok;
    } catch {
      healthy = false;
    }
    if (socket.isOpen) return;
    setConnection(healthy ? "reconnecting" : "server");
  }

  function socketStateChanged(socketState) {
    if (socketState === "open") {
      setConnection("ok");
      // A new socket has no thread in view until told.
      viewSent = null;
      sendView();
      catchUp();
    } else {
      diagnoseConnection();
    }
  }

  function cameOnline() {
    if (socket.isOpen) {
      setConnection("ok");
      catchUp();
    } else {
      setConnection("reconnecting");
      socket.retryNow();
    }
  }

  let hiddenSince = null;

  function visibilityChanged() {
    if (document.visibilityState === "hidden") {
      hiddenSince = Date.now();
      return;
    }
    const away = hiddenSince === null ? 0 : Date.now() - hiddenSince;
    hiddenSince = null;
    // A closed socket catches up when it opens again.
    if (away >= CATCH_UP_AFTER_AWAY_MS && socket.isOpen) catchUp();
  }

  /** After a reconnect: whatever the closed socket missed, through REST. */
  async function catchUp() {
    if (!store.state.me) return;
    // Not marking the open thread read before knowing whether it was marked unread meanwhile.
    catchingUp += 1;
    try {
      await Promise.all([loadThreads(), loadBlocked()]);
      const conversation = store.state.conversation;
      if (conversation) await catchUpConversation(conversation);
    } catch (error) {
      // Not found: the open thread was deleted meanwhile, which reloading the list settles.
      if (!isNotFound(error)) report(error);
    } finally {
      catchingUp -= 1;
    }
    markSeen();
  }

  /** The messages newer than the newest shown, then what changed in the newest page (edits,
   * deletions, read receipts), as live events. */
  async function catchUpConversation({ threadId, loaded, messages, target, hasNewer }) {
    // Opened at a message: the pages around it are on their way.
    if (!loaded && target !== null) return;
    if (!loaded || !messages.length) return loadFirst(threadId);
    const stillOpen = () => store.state.conversation?.threadId === threadId;
    let after = messages.at(-1).id;
    // Newer pages remain to be loaded anyway: scrolling down brings them as they are now.
    while (!hasNewer) {
      const query = `after=${after}&limit=${CATCH_UP_PAGE_SIZE}`;
      const page = await api(`${messagesPath(threadId)}?${query}`);
      if (!stillOpen()) return;
      for (const message of page.results) receive({ type: "message.created", message });
      if (!page.next || page.results.length === 0) break;
      after = page.results.at(-1).id;
    }
    await snapshot(async () => {
      const latest = await api(`${messagesPath(threadId)}?limit=${MESSAGE_PAGE_SIZE}`);
      return stillOpen() ? changesIn(threadId, store.state.conversation.messages, latest) : [];
    });
  }

  /* ---- The session ---- */

  /** Opens the chat for the stored tokens; resolves once the thread list is loaded or failed. */
  async function enter() {
    const current = ++session;
    store.apply({ type: "session.started" });
    let me = null;
    while (!me) {
      try {
        me = await api("/api/users/me/");
      } catch (error) {
        if (error instanceof SessionExpired) return;
        // The chat shows, empty, and the banner says why until the server answers.
        setConnection(error instanceof NetworkError ? "server" : "ok");
        if (!(error instanceof NetworkError)) report(error);
        await sleep(BOOT_RETRY_MS);
      }
      if (current !== session) return;
    }
    store.apply({ type: "me.loaded", me });
    socket.start();
    await Promise.all([loadThreads().catch(report), loadBlocked().catch(report)]);
  }

  function leave(notice = "") {
    session += 1;
    socket.stop();
    store.apply({ type: "session.ended", notice });
  }

  /* ---- Threads ---- */

  function loadThreads() {
    return snapshot(async () => {
      const [page, { unread_count }] = await Promise.all([
        api(`/api/threads/?limit=${THREAD_PAGE_SIZE}`),
        api("/api/messages/unread-count/"),
      ]);
      return { type: "threads.loaded", threads: page.results, next: page.next, unread_count };
    });
  }

  async function loadMoreThreads() {
    const next = store.state.moreThreads;
    if (!next) return;
    try {
      await snapshot(async () => {
        const page = await api(next);
        return { type: "threads.more", threads: page.results, next: page.next };
      });
    } catch (error) {
      report(error);
    }
  }

  function loadUnread() {
    return snapshot(async () => ({
      type: "unread.loaded",
      ...(await api("/api/messages/unread-count/")),
    }));
  }

  function loadThread(id) {
    return snapshot(async () => ({
      type: "thread.loaded",
      thread: await api(`/api/threads/${id}/`),
    }));
  }

  async function refreshThread(id) {
    try {
      await loadThread(id);
    } catch (error) {
      if (isNotFound(error)) settle({ type: "thread.deleted", thread: id });
      else report(error);
    }
  }

  /** The conversation with `user`, created if there is none (a failure is thrown). */
  async function startThread(user) {
    const thread = await api("/api/threads/", {
      method: "POST",
      body: { participants: [user.id] },
    });
    settle({ type: "thread.loaded", thread });
    return thread;
  }

  async function deleteThread(id) {
    store.apply({ type: "thread.deleting", thread: id });
    try {
      await api(`/api/threads/${id}/`, { method: "DELETE" });
    } catch (error) {
      if (!isNotFound(error)) return report(error);
    }
    settle({ type: "thread.deleted", thread: id });
  }

  /** Up to ten other users whose names match `query` (a failure is thrown). */
  async function findPeople(query) {
    const page = await api(`/api/users/?search=${encodeURIComponent(query)}&limit=10`);
    return page.results.filter((user) => user.id !== store.state.me.id);
  }

  /* ---- The open conversation ---- */

  /** Opens thread `id`: at its newest messages, or at message `at` (a search result). */
  async function openConversation(id, at = null) {
    stopUploads();
    store.apply({ type: "conversation.opened", thread: id, at });
    if (!store.state.threads.has(id)) {
      try {
        await loadThread(id);
      } catch (error) {
        if (!isNotFound(error)) return report(error);
        const notice = "That conversation does not exist.";
        store.apply({ type: "conversation.closed", thread: id, notice });
        return;
      }
    }
    if (store.state.conversation?.threadId !== id) return;
    await (at === null ? loadFirst(id) : loadAround(id, at)).catch(report);
  }

  /** Message `at` and the pages around it: it and the older ones (`?before=<at + 1>`), and the
   * newer ones (`?after=<at>`). */
  function loadAround(threadId, at) {
    return snapshot(async () => {
      const path = messagesPath(threadId);
      const [older, newer] = await Promise.all([
        api(`${path}?before=${at + 1}&limit=${MESSAGE_PAGE_SIZE}`),
        api(`${path}?after=${at}&limit=${MESSAGE_PAGE_SIZE}`),
      ]);
      return {
        type: "messages.around",
        thread: threadId,
        at,
        older: older.results,
        olderNext: older.next,
        newer: newer.results,
        newerNext: newer.next,
      };
    });
  }

  function closeConversation() {
    stopUploads();
    store.apply({ type: "conversation.closed" });
  }

  /** A failure of an action on the open conversation, shown under its composer. */
  function failed(threadId, error) {
    store.apply({ type: "conversation.failed", thread: threadId, error: messageFor(error) });
    if (error instanceof NetworkError) diagnoseConnection();
  }

  /** The newest page of `threadId`'s messages, or the one before message `before`, as the event
   * that applies it. */
  async function messagesPage(threadId, before) {
    const keyset = before === undefined ? "" : `before=${before}&`;
    const page = await api(`${messagesPath(threadId)}?${keyset}limit=${MESSAGE_PAGE_SIZE}`);
    const { results: messages, next } = page;
    return { type: "messages.loaded", thread: threadId, messages, next, before };
  }

  function loadFirst(threadId) {
    return snapshot(() => messagesPage(threadId));
  }

  /** The page of messages before the oldest shown (keyset: `?before=<id>`). */
  async function loadOlder() {
    const conversation = store.state.conversation;
    if (!conversation?.loaded || !conversation.hasMore || conversation.loadingOlder) return;
    const { threadId, messages } = conversation;
    if (!messages.length) return;
    store.apply({ type: "history.loading", thread: threadId, loading: true });
    try {
      await snapshot(() => messagesPage(threadId, messages[0].id));
    } catch (error) {
      store.apply({ type: "history.loading", thread: threadId, loading: false });
      report(error);
    }
  }

  /** The page after the newest message shown, when it is not the newest (keyset: `?after=`). */
  async function loadNewer() {
    const conversation = store.state.conversation;
    if (!conversation?.loaded || !conversation.hasNewer || conversation.loadingNewer) return;
    const { threadId, messages } = conversation;
    if (!messages.length) return;
    const after = messages.at(-1).id;
    store.apply({ type: "history.loading", thread: threadId, loading: true, newer: true });
    try {
      await snapshot(async () => {
        const query = `after=${after}&limit=${MESSAGE_PAGE_SIZE}`;
        const { results, next } = await api(`${messagesPath(threadId)}?${query}`);
        return { type: "messages.loaded", thread: threadId, messages: results, next, after };
      });
    } catch (error) {
      store.apply({ type: "history.loading", thread: threadId, loading: false, newer: true });
      report(error);
    }
  }

  /** The newest page, in place of the pages shown when newer ones remain between them. */
  async function loadLatest() {
    const conversation = store.state.conversation;
    if (!conversation?.loaded) return;
    await loadFirst(conversation.threadId).catch(report);
  }

  /** Marks the open thread read when the reader can see it: page visible and focused; not while
   * they read older messages with newer ones not loaded (opened at a search result). */
  async function markSeen() {
    const { conversation, threads, marking } = store.state;
    if (conversation?.keepUnread || conversation?.hasNewer || catchingUp > 0) return;
    const thread = conversation?.loaded && threads.get(conversation.threadId);
    if (!thread?.unread_count || marking !== null) return;
    if (document.visibilityState !== "visible" || !document.hasFocus()) return;
    store.apply({ type: "marking.started", thread: thread.id });
    const seen = thread.unread_count;
    try {
      await api(`/api/threads/${thread.id}/read/`, { method: "POST" });
    } catch (error) {
      // Not settled: that would try again at once.
      store.apply({ type: "marking.finished", thread: thread.id, marked: 0 });
      report(error);
      return;
    }
    // Settled, so that messages that came meanwhile are marked in turn.
    settle({ type: "marking.finished", thread: thread.id, marked: seen });
    loadUnread().catch(report);
  }

  /** Sends `text` with the files uploaded for it in the composer. */
  function send(text) {
    typingSentAt = 0;
    const { threadId, hasNewer, uploads } = store.state.conversation;
    // Read among older messages: the newest come back, with this one after them.
    if (hasNewer) loadLatest();
    const attachments = [...uploads.values()].map(({ attachment }) => attachment).filter(Boolean);
    post(threadId, text, attachments, newKey());
  }

  /** Sends a message that failed again, under its first Idempotency-Key. */
  function retry(key) {
    const conversation = store.state.conversation;
    const entry = conversation?.pending.get(key);
    if (entry) post(conversation.threadId, entry.text, entry.attachments, key);
  }

  async function post(threadId, text, attachments, key) {
    store.apply({ type: "send.started", thread: threadId, key, text, attachments });
    const ids = attachments.map(({ id }) => id);
    try {
      const message = await api(messagesPath(threadId), {
        method: "POST",
        body: ids.length ? { text, attachments: ids } : { text },
        headers: { "Idempotency-Key": key },
      });
      settle({ type: "send.confirmed", key, message });
    } catch (error) {
      // Forbidden: one of us blocks the other. Trying again would not change that.
      if (error instanceof ApiError && error.status === 403) {
        store.apply({ type: "send.refused", thread: threadId, key, error: messageFor(error) });
        return;
      }
      store.apply({ type: "send.failed", thread: threadId, key, error: messageFor(error) });
      if (error instanceof NetworkError) diagnoseConnection();
    }
  }

  /* ---- Files for the next send ---- */

  /**
   * Uploads each of `files` (File objects) for the open conversation's next send, at once and
   * side by side. A file over the server's size limit is refused here without being sent; files
   * past the most one message carries are not taken.
   */
  function attach(files) {
    const conversation = store.state.conversation;
    if (!conversation) return;
    const { threadId, uploads } = conversation;
    const taken = [...uploads.values()].filter(({ error }) => !error).length;
    const room = Math.max(0, MAX_FILES - taken);
    for (const file of [...files].slice(0, room)) {
      const { name, size } = file;
      const key = newKey();
      if (size > MAX_FILE_BYTES) {
        const error = SIZE_LIMIT_TEXT;
        store.apply({ type: "upload.refused", thread: threadId, key, name, size, error });
      } else {
        store.apply({ type: "upload.started", thread: threadId, key, name, size });
        sendFile(threadId, key, file);
      }
    }
    if (files.length > room) {
      store.apply({ type: "conversation.failed", thread: threadId, error: COUNT_LIMIT_TEXT });
    }
  }

  async function sendFile(threadId, key, file) {
    const controller = new AbortController();
    uploading.set(key, controller);
    const onProgress = (sent) =>
      store.apply({ type: "upload.progress", thread: threadId, key, sent });
    try {
      const attachment = await upload("/api/attachments/", file, {
        onProgress,
        signal: controller.signal,
      });
      store.apply({ type: "upload.finished", thread: threadId, key, attachment });
    } catch (error) {
      if (error.name === "AbortError") return;
      store.apply({ type: "upload.failed", thread: threadId, key, error: messageFor(error) });
      if (error instanceof NetworkError) diagnoseConnection();
    } finally {
      uploading.delete(key);
    }
  }

  /** Takes upload `key` out of the composer, stopping it if it is on its way. */
  function removeUpload(key) {
    uploading.get(key)?.abort();
    const conversation = store.state.conversation;
    if (!conversation) return;
    takeBack(conversation.uploads.get(key)?.attachment);
    store.apply({ type: "upload.removed", thread: conversation.threadId, key });
  }

  /** The composer's uploads go with the conversation it belongs to. */
  function stopUploads() {
    for (const controller of uploading.values()) controller.abort();
    for (const { attachment } of store.state.conversation?.uploads.values() ?? []) {
      takeBack(attachment);
    }
  }

  /** Deletes an uploaded file that will not be sent, so that it stops holding the quota. Best
   * effort: one the server does not hear of is purged a day after its upload. */
  function takeBack(attachment) {
    if (attachment) api(`/api/attachments/${attachment.id}/`, { method: "DELETE" }).catch(() => {});
  }

  /**
   * `attachment` of `message` with links that still work: as it is while they have more than a
   * minute left, else read again with its message (the server signs links for an hour, and a
   * page stays open for longer).
   */
  async function freshAttachment(message, attachment) {
    if (!linkExpiring(attachment.url)) return attachment;
    try {
      const path = `${messagesPath(message.thread)}?before=${message.id + 1}&limit=1`;
      const { results } = await api(path);
      const again = results[0]?.attachments.find(({ id }) => id === attachment.id);
      return again ?? attachment;
    } catch (error) {
      report(error);
      return attachment;
    }
  }

  /* ---- Changing messages ---- */

  /** The composer holds my message `id` for editing. */
  function startEdit(id) {
    const conversation = store.state.conversation;
    if (!conversation) return;
    store.apply({ type: "edit.started", thread: conversation.threadId, message: id });
  }

  function cancelEdit() {
    const conversation = store.state.conversation;
    if (conversation) store.apply({ type: "edit.ended", thread: conversation.threadId });
  }

  /** Saves the message being edited with `text`; the edit stays open if that fails. */
  async function saveEdit(text) {
    const { threadId, editing, messages } = store.state.conversation ?? {};
    if (!editing || editing.saving) return;
    const message = messages.find(({ id }) => id === editing.id);
    if (message?.text === text) return cancelEdit();
    // Its files are a message too: only a message without any needs text.
    if (!text.trim() && !message?.attachments.length) {
      const error = "A message cannot be empty. To remove it, delete it.";
      return store.apply({ type: "edit.failed", thread: threadId, error });
    }
    store.apply({ type: "edit.saving", thread: threadId });
    try {
      await snapshot(async () => ({
        type: "message.updated",
        message: await api(messagePath(editing.id), { method: "PATCH", body: { text } }),
      }));
      store.apply({ type: "edit.ended", thread: threadId });
    } catch (error) {
      store.apply({ type: "edit.failed", thread: threadId, error: messageFor(error) });
      if (error instanceof NetworkError) diagnoseConnection();
    }
  }

  /** Deletes `message` for everyone, or hides it for me alone (`forMe`). */
  async function deleteMessage(message, forMe) {
    const { id, thread: threadId } = message;
    ownDeletions.set(id, forMe);
    setTimeout(() => {
      if (ownDeletions.get(id) === forMe) ownDeletions.delete(id);
    }, OWN_DELETION_KEPT_MS);
    try {
      await snapshot(async () => {
        await api(`${messagePath(id)}${forMe ? "?scope=me" : ""}`, { method: "DELETE" });
        return { type: "message.deleted", thread: threadId, message_id: id, hidden: forMe };
      });
    } catch (error) {
      ownDeletions.delete(id);
      failed(threadId, error);
    }
  }

  /** Marks `message` (sent to me) and the later ones unread, to come back to them. */
  async function markUnread(message) {
    const threadId = message.thread;
    try {
      await snapshot(async () => {
        const { marked } = await api(`${messagePath(message.id)}unread/`, { method: "POST" });
        // The answer counts them; those shown are the ones from that message on.
        const open = store.state.conversation;
        const shown = open?.threadId === threadId ? open.messages : [];
        const ids = shown
          .filter((other) => other.id >= message.id && other.sender !== store.state.me.id)
          .filter((other) => other.is_read && !other.deleted)
          .map(({ id }) => id);
        return { type: "message.unread", thread: threadId, message_ids: marked ? ids : [] };
      });
    } catch (error) {
      failed(threadId, error);
    }
  }

  /** Hides every message of thread `id` for me. */
  async function clearThread(id) {
    try {
      await snapshot(async () => {
        await api(`/api/threads/${id}/clear/`, { method: "POST" });
        return { type: "thread.cleared", thread: id };
      });
    } catch (error) {
      failed(id, error);
    }
  }

  /* ---- Safety and presence ---- */

  /** Every page of the people I block. */
  function loadBlocked() {
    return snapshot(async () => {
      const users = [];
      let next = `/api/users/blocked/?limit=${BLOCKED_PAGE_SIZE}`;
      while (next) {
        const page = await api(next);
        users.push(...page.results);
        next = page.next;
      }
      return { type: "blocked.loaded", users };
    });
  }

  /** Blocks `user` (`blocked` true) or unblocks them. A failure is shown under the composer of
   * `threadId` if given, else thrown. */
  async function setBlocked(user, blocked, threadId = null) {
    try {
      await api(`/api/users/${user.id}/block/`, { method: blocked ? "POST" : "DELETE" });
    } catch (error) {
      if (threadId === null) throw error;
      return failed(threadId, error);
    }
    settle({ type: "block.changed", user: { id: user.id, username: user.username }, blocked });
  }

  /** Reports `message` (sent to me) for `reason`, with an optional comment; a failure is
   * thrown. */
  function reportMessage(message, reason, comment) {
    return api(`${messagePath(message.id)}report/`, {
      method: "POST",
      body: comment ? { reason, comment } : { reason },
    });
  }

  /** Mutes thread `id` until `until` (a Date; null: until unmuted), or unmutes it (`muted`
   * false). */
  async function mute(id, muted, until = null) {
    try {
      await snapshot(async () => ({
        type: "thread.loaded",
        thread: await api(`/api/threads/${id}/mute/`, {
          method: muted ? "POST" : "DELETE",
          body: muted ? { until: until && until.toISOString() } : undefined,
        }),
      }));
    } catch (error) {
      failed(id, error);
    }
  }

  /** Whether others see when I am online; a failure is thrown. */
  async function showPresence(show) {
    const me = await api("/api/users/me/", { method: "PATCH", body: { show_presence: show } });
    settle({ type: "me.updated", me });
  }

  /* ---- Searching my messages ---- */

  /** Finds my messages with every word of `query` (in thread `thread` only, unless null). */
  function search(query, thread = null) {
    store.apply({ type: "search.started", query, thread });
    return loadResults(query, thread);
  }

  /** The page of results after the oldest shown (keyset: `?before=<message id>`). */
  function searchMore() {
    const search = store.state.search;
    if (!search || search.loading || !search.hasMore || !search.results.length) return;
    const { query, thread } = search;
    store.apply({ type: "search.loading", query, thread });
    return loadResults(query, thread, search.results.at(-1).message.id);
  }

  async function loadResults(query, thread, before) {
    const params = new URLSearchParams({ q: query, limit: SEARCH_PAGE_SIZE });
    if (thread !== null) params.set("thread", thread);
    if (before !== undefined) params.set("before", before);
    try {
      await snapshot(async () => {
        const page = await api(`/api/messages/search/?${params}`);
        const { results, count, next } = page;
        return { type: "search.loaded", query, thread, results, count, next, before };
      });
    } catch (error) {
      store.apply({ type: "search.failed", query, thread, error: messageFor(error) });
      if (error instanceof NetworkError) diagnoseConnection();
      return;
    }
    // The threads of results beyond the pages of the thread list, for their names.
    const unknown = new Set(
      (store.state.search?.results ?? [])
        .map(({ message }) => message.thread)
        .filter((id) => !store.state.threads.has(id)),
    );
    for (const id of unknown) refreshThread(id);
  }

  const endSearch = () => store.apply({ type: "search.ended" });

  /** The earlier texts of message `id`, oldest first (a failure is thrown). */
  const history = (id) => api(`${messagePath(id)}history/`);

  /** The thread this window shows while it is visible and focused, or null: someone is looking
   * at it. The open conversation counts once its thread is known to exist. */
  function inView() {
    if (document.visibilityState !== "visible" || !document.hasFocus()) return null;
    const id = store.state.conversation?.threadId;
    return store.state.threads.has(id) ? id : null;
  }

  /** Tells the server which thread is in view when that changes, so that it does not notify me
   * of messages I am reading (docs/API.md, "Notifications for people who are not looking"). */
  function sendView() {
    const thread = inView();
    if (thread === viewSent || !socket.isOpen) return;
    viewSent = thread;
    socket.send({ type: "view", thread });
  }

  function sendTyping() {
    const conversation = store.state.conversation;
    if (!conversation || Date.now() - typingSentAt < TYPING_SEND_EVERY_MS) return;
    typingSentAt = Date.now();
    socket.send({ type: "typing", thread: conversation.threadId });
  }

  return {
    enter,
    leave,
    wentOffline: () => setConnection("offline"),
    cameOnline,
    visibilityChanged,
    tokensRenewed: () => socket.renew(),
    loadMoreThreads,
    startThread,
    deleteThread,
    findPeople,
    openConversation,
    closeConversation,
    loadOlder,
    loadNewer,
    loadLatest,
    markSeen,
    inView,
    sendView,
    search,
    searchMore,
    endSearch,
    send,
    retry,
    attach,
    removeUpload,
    freshAttachment,
    sendTyping,
    startEdit,
    cancelEdit,
    saveEdit,
    deleteMessage,
    markUnread,
    clearThread,
    history,
    setBlocked,
    reportMessage,
    mute,
    showPresence,
  };
}

/**
 * The live events that turn `shown` (the open conversation's messages) into what `page` (the
 * newest messages, newest first) says: edits, deletions for everyone, messages hidden for me
 * (missing from the page where it covers them), and read receipts either way.
 */
function changesIn(threadId, shown, page) {
  const events = [];
  const now = new Map(page.results.map((message) => [message.id, message]));
  // The page covers the messages from its oldest on, or all of them if it is the only one.
  const oldest = page.next ? (page.results.at(-1)?.id ?? Infinity) : 0;
  const unread = [];
  for (const message of shown) {
    const current = now.get(message.id);
    const deleted = { type: "message.deleted", thread: threadId, message_id: message.id };
    if (!current) {
      if (message.id >= oldest) events.push({ ...deleted, hidden: true });
    } else if (current.deleted && !message.deleted) {
      events.push({ ...deleted, hidden: false });
    } else if (current.text !== message.text || current.edited !== message.edited) {
      events.push({ type: "message.updated", message: current });
    }
    if (current && message.is_read && !current.is_read && !current.deleted) unread.push(current.id);
  }
  const read = page.results.filter((message) => message.is_read).map(({ id }) => id);
  events.push({ type: "message.read", thread: threadId, message_ids: read });
  if (unread.length) events.push({ type: "message.unread", thread: threadId, message_ids: unread });
  return events;
}
