/**
 * The chat page: log in or register, the thread list, the open conversation, and the live
 * events that keep them current. Talks to the server only through the REST API and the
 * WebSocket described in API.md.
 */

import {
  ApiError,
  NetworkError,
  SessionExpired,
  accessToken,
  api,
  hasSession,
  logIn,
  logOut,
  newKey,
  onSessionEnd,
  onTokensRenewed,
  register,
  renewTokens,
} from "./api.js";
import { byId, h, shortTime } from "./dom.js";
import { MessageView } from "./messages.js";
import { LiveSocket } from "./socket.js";

const TYPING_SEND_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 4000;
const SEARCH_DELAY_MS = 250;
const ERROR_SHOWN_MS = 6000;
const BOOT_RETRY_MS = 5000;
const THREAD_PAGE_SIZE = 50;

const state = {
  me: null,
  threads: new Map(),
  moreThreads: null,
  unread: 0,
  view: null,
  readInFlight: false,
  typingSentAt: 0,
  typingTimer: null,
  connection: "ok",
  errorTimer: null,
  registering: false,
  deleting: null,
  unreadVersion: 0,
  snapshotsLoading: new Set(),
};

const socket = new LiveSocket({
  token: accessToken,
  onEvent: handleEvent,
  onState: socketStateChanged,
  onAuthFailed: renewTokens,
});

const phoneLayout = window.matchMedia("(max-width: 699px)");

/* ---- Errors and the status banner ---- */

function messageFor(error) {
  if (error instanceof NetworkError) return "The server cannot be reached. Check your connection.";
  if (error instanceof ApiError && error.status === 429 && error.retryAfter) {
    return `Too many requests. Try again in ${error.retryAfter} s.`;
  }
  if (error instanceof ApiError || error instanceof SessionExpired) return error.message;
  console.error(error);
  return "Something went wrong. Please try again.";
}

/** For failures with no better place to be shown. */
function report(error) {
  if (error instanceof SessionExpired) return;
  if (error instanceof NetworkError) {
    diagnoseConnection();
    return;
  }
  showError(messageFor(error));
}

const CONNECTION_TEXT = {
  offline: "You are offline. New messages will appear when the connection is back.",
  server: "The server is not responding. Retrying…",
  reconnecting: "Live updates are interrupted. Reconnecting…",
};

function setConnection(connection) {
  state.connection = connection;
  renderBanner();
}

function showError(text) {
  clearTimeout(state.errorTimer);
  renderBanner(text);
  state.errorTimer = setTimeout(() => renderBanner(), ERROR_SHOWN_MS);
}

function renderBanner(errorText = null) {
  const banner = byId("banner");
  const text = CONNECTION_TEXT[state.connection] ?? errorText;
  banner.textContent = text ?? "";
  banner.hidden = !text;
  banner.dataset.kind = state.connection === "ok" ? "error" : state.connection;
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

function announce(text) {
  const announcer = byId("announcer");
  announcer.textContent = "";
  setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

/* ---- Logging in and out ---- */

function showLogin(notice = "") {
  socket.stop();
  state.view?.close();
  Object.assign(state, { me: null, threads: new Map(), view: null, unread: 0 });
  setConnection("ok");
  setUnread(0);
  document.body.classList.remove("has-thread");
  byId("chat-view").hidden = true;
  byId("login-view").hidden = false;
  byId("login-notice").textContent = notice;
  byId("login-password").value = "";
  if (window.location.hash) window.history.replaceState(null, "", window.location.pathname);
  byId("login-username").focus();
}

function setLoginMode(registering) {
  state.registering = registering;
  byId("login-title").textContent = registering ? "Create your Chat account" : "Log in to Chat";
  byId("login-submit").textContent = registering ? "Create account" : "Log in";
  byId("switch-text").textContent = registering ? "Already have an account?" : "New here?";
  byId("login-switch").textContent = registering ? "Log in instead" : "Create an account";
  byId("login-password").autocomplete = registering ? "new-password" : "current-password";
  byId("password-hint").hidden = !registering;
  byId("login-error").textContent = "";
}

async function submitLogin(event) {
  event.preventDefault();
  const username = byId("login-username").value.trim();
  const password = byId("login-password").value;
  const error = byId("login-error");
  if (!username || !password) {
    error.textContent = "Enter a username and a password.";
    return;
  }
  const button = byId("login-submit");
  button.disabled = true;
  error.textContent = "";
  byId("login-notice").textContent = "";
  try {
    if (state.registering) await register(username, password);
    else await logIn(username, password);
    byId("login-password").value = "";
    await enterChat();
  } catch (failure) {
    error.textContent =
      failure instanceof ApiError && failure.status === 401
        ? "Wrong username or password."
        : messageFor(failure);
  } finally {
    button.disabled = false;
  }
}

async function enterChat() {
  byId("login-view").hidden = true;
  byId("chat-view").hidden = false;
  try {
    state.me = await api("/api/users/me/");
  } catch (error) {
    if (error instanceof SessionExpired) return;
    setConnection(error instanceof NetworkError ? "server" : "ok");
    if (!(error instanceof NetworkError)) showError(messageFor(error));
    setTimeout(enterChat, BOOT_RETRY_MS);
    return;
  }
  setConnection("ok");
  byId("me-name").textContent = state.me.username;
  socket.start();
  try {
    await Promise.all([loadThreads(), loadUnread()]);
  } catch (error) {
    report(error);
  }
  route();
}

async function logOutClicked() {
  try {
    await logOut();
  } catch {
    // The tokens are forgotten here whatever the server said.
  }
  setLoginMode(false);
  showLogin("You have logged out.");
}

/* ---- Threads ---- */

const otherOf = (thread) =>
  thread.participants.find((user) => user.id !== state.me.id) ?? thread.participants[0];

function setUnread(count) {
  state.unread = Math.max(0, count);
  document.title = state.unread ? `(${state.unread}) Chat` : "Chat";
}

/** The count from an event: newer than any snapshot still on its way. */
function setUnreadFromEvent(count) {
  state.unreadVersion += 1;
  setUnread(count);
}

async function loadUnread() {
  const version = state.unreadVersion;
  const { unread_count: count } = await api("/api/messages/unread-count/");
  if (version === state.unreadVersion) setUnread(count);
}

/**
 * The first page of threads from REST. Events that arrive while it is on its way may or may not
 * be in it, so they are collected and applied again to the snapshot where it lacks them.
 */
async function loadThreads() {
  const missed = [];
  state.snapshotsLoading.add(missed);
  let page;
  try {
    page = await api(`/api/threads/?limit=${THREAD_PAGE_SIZE}`);
  } finally {
    state.snapshotsLoading.delete(missed);
  }
  state.threads = new Map(page.results.map((thread) => [thread.id, thread]));
  state.moreThreads = page.next;
  for (const event of missed) {
    if (event.type === "message.created") {
      const thread = state.threads.get(event.message.thread);
      if ((thread?.last_message?.id ?? 0) < event.message.id) noteMessage(event.message);
    } else if (event.type === "thread.deleted") {
      state.threads.delete(event.thread);
    } else if (event.type === "message.read") {
      refreshThread(event.thread);
    } else if (event.type === "thread.created") {
      refreshThread(event.thread.id);
    }
  }
  renderThreads();
}

async function loadMoreThreads() {
  if (!state.moreThreads) return;
  try {
    const page = await api(state.moreThreads);
    for (const thread of page.results) state.threads.set(thread.id, thread);
    state.moreThreads = page.next;
    renderThreads();
  } catch (error) {
    report(error);
  }
}

async function refreshThread(id) {
  try {
    state.threads.set(id, await api(`/api/threads/${id}/`));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) return report(error);
    state.threads.delete(id);
  }
  renderThreads();
}

function avatar(username) {
  const element = h("span", { class: "avatar", "aria-hidden": "true" }, username[0].toUpperCase());
  const hue = [...username].reduce((sum, char) => (sum * 31 + char.codePointAt(0)) % 360, 7);
  element.style.setProperty("--hue", hue);
  return element;
}

function threadItem(thread) {
  const other = otherOf(thread);
  const last = thread.last_message;
  let preview = "No messages yet";
  if (last) preview = last.sender === state.me.id ? `You: ${last.text}` : last.text;
  const open = state.view?.threadId === thread.id;
  return h(
    "li",
    {},
    h(
      "a",
      {
        class: `thread${thread.unread_count ? " unread" : ""}`,
        href: `#/threads/${thread.id}`,
        "aria-current": open ? "page" : null,
        dataset: { threadId: thread.id },
      },
      avatar(other.username),
      h(
        "span",
        { class: "thread-main" },
        h("span", { class: "thread-name" }, other.username),
        h("span", { class: "preview" }, preview),
      ),
      h(
        "span",
        { class: "thread-side" },
        last ? h("time", { datetime: last.created }, shortTime(last.created)) : null,
        thread.unread_count
          ? h(
              "span",
              { class: "badge" },
              String(thread.unread_count),
              h("span", { class: "visually-hidden" }, " unread"),
            )
          : null,
      ),
    ),
  );
}

function renderThreads() {
  if (!state.me) return;
  const list = byId("thread-list");
  const focusedId = list.contains(document.activeElement)
    ? document.activeElement.dataset.threadId
    : null;
  const threads = [...state.threads.values()].sort(
    (a, b) => Date.parse(b.updated) - Date.parse(a.updated) || b.id - a.id,
  );
  list.replaceChildren(...threads.map(threadItem));
  byId("threads-empty").hidden = threads.length > 0;
  byId("more-threads").hidden = !state.moreThreads;
  if (focusedId) list.querySelector(`[data-thread-id="${focusedId}"]`)?.focus();
}

/* ---- Finding people ---- */

let searchTimer = null;
let searchSequence = 0;

function clearSearch() {
  searchSequence += 1;
  byId("user-search").value = "";
  byId("people").replaceChildren();
  byId("people").hidden = true;
  byId("people-status").textContent = "";
}

async function searchPeople() {
  const query = byId("user-search").value.trim();
  const sequence = ++searchSequence;
  if (!query) return clearSearch();
  const people = byId("people");
  const status = byId("people-status");
  try {
    const page = await api(`/api/users/?search=${encodeURIComponent(query)}&limit=10`);
    if (sequence !== searchSequence) return;
    const found = page.results.filter((user) => user.id !== state.me.id);
    people.replaceChildren(
      ...found.map((user) =>
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "person", onclick: () => startThread(user) },
            avatar(user.username),
            h("span", { class: "visually-hidden" }, "Start a conversation with "),
            h("span", { class: "person-name" }, user.username),
            h("span", { class: "person-action", "aria-hidden": "true" }, "Chat →"),
          ),
        ),
      ),
    );
    people.hidden = found.length === 0;
    status.textContent = found.length
      ? `${found.length} ${found.length === 1 ? "person" : "people"} found.`
      : `Nobody matches “${query}”.`;
  } catch (error) {
    if (sequence === searchSequence) status.textContent = messageFor(error);
  }
}

async function startThread(user) {
  try {
    const thread = await api("/api/threads/", {
      method: "POST",
      body: { participants: [user.id] },
    });
    state.threads.set(thread.id, thread);
    clearSearch();
    renderThreads();
    window.location.hash = `#/threads/${thread.id}`;
  } catch (error) {
    byId("people-status").textContent = messageFor(error);
  }
}

/* ---- The open conversation ---- */

function route() {
  if (!state.me) return;
  const match = window.location.hash.match(/^#\/threads\/(\d+)$/);
  const id = match ? Number(match[1]) : null;
  if (id === (state.view?.threadId ?? null)) return;
  if (id) openThread(id);
  else closeThread();
}

async function openThread(id) {
  let thread = state.threads.get(id);
  if (!thread) {
    try {
      thread = await api(`/api/threads/${id}/`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        window.history.replaceState(null, "", "#/");
        closeThread("That conversation does not exist.");
      } else report(error);
      return;
    }
    state.threads.set(id, thread);
  }
  state.view?.close();
  const name = otherOf(thread).username;
  const view = new MessageView({ thread, me: state.me, otherName: name, report });
  state.view = view;
  document.body.classList.add("has-thread");
  byId("conversation").hidden = false;
  byId("placeholder").hidden = true;
  byId("conversation-title").textContent = name;
  byId("composer-error").textContent = "";
  hideTyping();
  renderThreads();
  if (!phoneLayout.matches) byId("message-input").focus();
  try {
    await view.loadFirst();
  } catch (error) {
    report(error);
  }
  if (state.view === view) markSeen();
}

function closeThread(notice = null) {
  const closedId = state.view?.threadId;
  state.view?.close();
  state.view = null;
  document.body.classList.remove("has-thread");
  byId("conversation").hidden = true;
  byId("placeholder").hidden = false;
  byId("placeholder-text").textContent =
    notice ?? "Choose a conversation, or find someone to start one.";
  renderThreads();
  if (closedId && phoneLayout.matches) {
    byId("thread-list").querySelector(`[data-thread-id="${closedId}"]`)?.focus();
  }
}

/** Marks the open thread read when the reader can see it: page visible and focused. */
async function markSeen() {
  const view = state.view;
  const thread = view && state.threads.get(view.threadId);
  if (!thread?.unread_count || state.readInFlight) return;
  if (document.visibilityState !== "visible" || !document.hasFocus()) return;
  state.readInFlight = true;
  const seen = thread.unread_count;
  try {
    await api(`/api/threads/${thread.id}/read/`, { method: "POST" });
  } catch (error) {
    report(error);
    return;
  } finally {
    state.readInFlight = false;
  }
  // The list may have been reloaded meanwhile: update the thread object it holds now.
  const current = state.threads.get(thread.id);
  if (current) current.unread_count = Math.max(0, current.unread_count - seen);
  renderThreads();
  loadUnread().catch(report);
  if (current?.unread_count && state.view === view) markSeen();
}

function hideTyping() {
  clearTimeout(state.typingTimer);
  byId("typing").textContent = "";
}

function sendTyping() {
  const view = state.view;
  if (!view || !byId("message-input").value.trim()) return;
  if (Date.now() - state.typingSentAt < TYPING_SEND_EVERY_MS) return;
  state.typingSentAt = Date.now();
  socket.send({ type: "typing", thread: view.threadId });
}

function resizeComposer() {
  const input = byId("message-input");
  input.style.height = "auto";
  input.style.height = `${input.scrollHeight}px`;
}

function submitMessage(event) {
  event.preventDefault();
  const input = byId("message-input");
  const text = input.value;
  if (!state.view || !text.trim()) return;
  input.value = "";
  resizeComposer();
  state.typingSentAt = 0;
  sendMessage(state.view, text, newKey());
}

async function sendMessage(view, text, key) {
  view.addPending(key, text);
  byId("composer-error").textContent = "";
  try {
    const message = await api(`/api/threads/${view.threadId}/messages/`, {
      method: "POST",
      body: { text },
      headers: { "Idempotency-Key": key },
    });
    view.confirmPending(key, message);
    noteLastMessage(message);
  } catch (error) {
    view.failPending(key, () => sendMessage(view, text, key));
    if (state.view === view) byId("composer-error").textContent = messageFor(error);
    if (error instanceof NetworkError) diagnoseConnection();
  }
}

function noteLastMessage(message) {
  const thread = state.threads.get(message.thread);
  if (!thread) return false;
  if (!thread.last_message || message.id >= thread.last_message.id) {
    thread.last_message = message;
    thread.updated = message.created;
  }
  renderThreads();
  return true;
}

function askDelete() {
  const thread = state.view && state.threads.get(state.view.threadId);
  if (!thread) return;
  const dialog = byId("confirm-delete");
  byId("confirm-text").textContent =
    `Every message with ${otherOf(thread).username} is deleted, for both of you. ` +
    "This cannot be undone.";
  dialog.returnValue = "";
  dialog.dataset.threadId = thread.id;
  dialog.showModal();
}

async function deleteConfirmed() {
  const dialog = byId("confirm-delete");
  if (dialog.returnValue !== "delete") return;
  const id = Number(dialog.dataset.threadId);
  state.deleting = id;
  try {
    await api(`/api/threads/${id}/`, { method: "DELETE" });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) return report(error);
  }
  forgetThread(id, "Conversation deleted.");
}

function forgetThread(id, notice) {
  if (!state.threads.delete(id)) return;
  if (state.view?.threadId === id) {
    window.history.replaceState(null, "", "#/");
    closeThread(notice);
  } else renderThreads();
  announce(notice);
  loadUnread().catch(report);
}

/* ---- Live events ---- */

function handleEvent(event) {
  if (!state.me) return;
  for (const missed of state.snapshotsLoading) missed.push(event);
  switch (event.type) {
    case "message.created":
      return messageCreated(event);
    case "message.read":
      return messageRead(event);
    case "thread.created":
      if (!state.threads.has(event.thread.id)) {
        state.threads.set(event.thread.id, event.thread);
        renderThreads();
      }
      return;
    case "thread.deleted": {
      const thread = state.threads.get(event.thread);
      if (!thread) return;
      forgetThread(
        event.thread,
        event.thread === state.deleting
          ? "Conversation deleted."
          : `The conversation with ${otherOf(thread).username} was deleted.`,
      );
      return;
    }
    case "typing":
      return typingReceived(event);
    case "error":
      console.warn("Server event error:", event.detail);
      return;
  }
}

/** A new message in the thread list: last message, activity time, unread badge. */
function noteMessage(message) {
  const thread = state.threads.get(message.thread);
  if (!thread) return refreshThread(message.thread);
  if (message.sender !== state.me.id && thread.last_message?.id !== message.id) {
    thread.unread_count += 1;
  }
  noteLastMessage(message);
}

function messageCreated({ message, unread_count: unread }) {
  setUnreadFromEvent(unread);
  const incoming = message.sender !== state.me.id;
  const thread = state.threads.get(message.thread);
  noteMessage(message);
  const view = state.view;
  const name = thread ? otherOf(thread).username : "someone";
  if (view?.threadId === message.thread) {
    view.receive(message);
    if (incoming) {
      hideTyping();
      announce(`${name}: ${message.text}`);
      markSeen();
    }
  } else if (incoming) {
    announce(`New message from ${name}.`);
  }
}

function messageRead({ thread: id, message_ids: ids, unread_count: unread }) {
  const myUnreadChanged = unread !== state.unread;
  setUnreadFromEvent(unread);
  if (state.view?.threadId === id) state.view.markRead(ids);
  const thread = state.threads.get(id);
  if (thread?.last_message && ids.includes(thread.last_message.id)) {
    thread.last_message.is_read = true;
  }
  if (thread && myUnreadChanged && !state.readInFlight) refreshThread(id);
  else renderThreads();
}

function typingReceived({ thread: id, user }) {
  const thread = state.threads.get(id);
  if (!thread || state.view?.threadId !== id || user === state.me.id) return;
  byId("typing").textContent = `${otherOf(thread).username} is typing…`;
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
}

function socketStateChanged(socketState) {
  if (socketState === "open") {
    setConnection("ok");
    catchUp();
  } else {
    diagnoseConnection();
  }
}

/** After a reconnect: whatever the closed socket missed, through REST. */
async function catchUp() {
  if (!state.me) return;
  try {
    await Promise.all([loadThreads(), loadUnread()]);
    const view = state.view;
    if (!view) return;
    if (!state.threads.has(view.threadId)) {
      forgetThread(view.threadId, "This conversation was deleted.");
      return;
    }
    await view.catchUp();
    markSeen();
  } catch (error) {
    report(error);
  }
}

/* ---- Wiring ---- */

function wire() {
  byId("login-form").addEventListener("submit", submitLogin);
  byId("login-switch").addEventListener("click", () => {
    setLoginMode(!state.registering);
    byId("login-username").focus();
  });
  byId("logout").addEventListener("click", logOutClicked);

  const search = byId("user-search");
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(searchPeople, SEARCH_DELAY_MS);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Escape") clearSearch();
  });
  byId("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(searchTimer);
    searchPeople();
  });
  byId("more-threads").addEventListener("click", loadMoreThreads);

  byId("back").addEventListener("click", () => {
    window.location.hash = "#/";
  });
  byId("delete-thread").addEventListener("click", askDelete);
  byId("confirm-delete").addEventListener("close", deleteConfirmed);
  byId("scroller").addEventListener("scroll", () => state.view?.onScroll(), { passive: true });
  byId("jump").addEventListener("click", () => state.view?.scrollToEnd());

  const input = byId("message-input");
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      byId("composer").requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    resizeComposer();
    sendTyping();
  });
  byId("composer").addEventListener("submit", submitMessage);

  window.addEventListener("hashchange", route);
  window.addEventListener("focus", markSeen);
  document.addEventListener("visibilitychange", markSeen);
  window.addEventListener("offline", () => setConnection("offline"));
  window.addEventListener("online", () => {
    if (socket.isOpen) {
      setConnection("ok");
      catchUp();
    } else {
      setConnection("reconnecting");
      socket.retryNow();
    }
  });

  onTokensRenewed(() => socket.renew());
  onSessionEnd((reason) => {
    setLoginMode(false);
    showLogin(
      reason === "expired"
        ? "Your session has expired. Please log in again."
        : "You were logged out in another window.",
    );
  });
}

wire();
if (hasSession()) enterChat();
else showLogin();
