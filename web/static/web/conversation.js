/**
 * The open conversation: its header, messages (messages.js), typing indicator, composer and the
 * confirmation before deleting it; or, when none is open, the placeholder saying why.
 */

import { byId, setText } from "./dom.js";
import { MessageList } from "./messages.js";
import { otherOf } from "./store.js";

const phoneLayout = window.matchMedia("(max-width: 699px)");

export function conversationView(store, sync) {
  const messages = new MessageList({ loadOlder: sync.loadOlder, retry: sync.retry });
  const input = byId("message-input");
  const dialog = byId("confirm-delete");
  let openId = null; // as shown
  let typingTimer = null;

  function render(state) {
    const { conversation, me } = state;
    const id = conversation?.threadId ?? null;
    if (id !== openId) showOpen(id, openId);
    openId = id;
    setText(
      byId("placeholder-text"),
      state.notice ?? "Choose a conversation, or find someone to start one.",
    );
    const thread = conversation && state.threads.get(id);
    const name = thread ? otherOf(thread, me).username : "";
    setText(byId("conversation-title"), name);
    setText(byId("composer-error"), conversation?.error ?? "");
    renderTyping(state.typing, name);
    messages.render(conversation, me, name);
  }

  function showOpen(id, closedId) {
    document.body.classList.toggle("has-thread", id !== null);
    byId("conversation").hidden = id === null;
    byId("placeholder").hidden = id !== null;
    if (id !== null && !phoneLayout.matches) input.focus();
    // On a phone the list comes back in place of the conversation: keep the reader's place.
    if (id === null && closedId !== null && phoneLayout.matches) {
      byId("thread-list").querySelector(`[data-thread-id="${closedId}"]`)?.focus();
    }
  }

  /** "… is typing" from the last typing event until its time is up. */
  function renderTyping(typing, name) {
    clearTimeout(typingTimer);
    const left = typing ? typing.until - Date.now() : 0;
    if (left > 0) typingTimer = setTimeout(() => render(store.state), left);
    setText(byId("typing"), left > 0 ? `${name} is typing…` : "");
  }

  function resizeComposer() {
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight}px`;
  }

  function askDelete() {
    const { conversation, threads, me } = store.state;
    const thread = conversation && threads.get(conversation.threadId);
    if (!thread) return;
    byId("confirm-text").textContent =
      `Every message with ${otherOf(thread, me).username} is deleted, for both of you. ` +
      "This cannot be undone.";
    dialog.returnValue = "";
    dialog.dataset.threadId = thread.id;
    dialog.showModal();
  }

  byId("delete-thread").addEventListener("click", askDelete);
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "delete") sync.deleteThread(Number(dialog.dataset.threadId));
  });
  byId("back").addEventListener("click", () => {
    window.location.hash = "#/";
  });
  byId("scroller").addEventListener("scroll", () => messages.onScroll(), { passive: true });
  byId("jump").addEventListener("click", () => messages.scrollToEnd());

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      byId("composer").requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    resizeComposer();
    if (input.value.trim()) sync.sendTyping();
  });
  byId("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!store.state.conversation || !text.trim()) return;
    input.value = "";
    resizeComposer();
    sync.send(text);
  });

  store.subscribe(render);
}
