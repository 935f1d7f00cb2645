/**
 * The open conversation: its header (who, and whether they are online or when last seen),
 * messages (messages.js) and their menu (messagemenu.js), the viewer of their images
 * (attachments.js), typing indicator, composer (which also edits: Up arrow in an empty one takes
 * your last message; a send the server refuses comes back to it), and the confirmations before
 * deleting a message, clearing or deleting the conversation; or, when none is open, the
 * placeholder saying why. Muting and blocking are safety.js's, reporting report.js's, the
 * composer's files uploads.js's.
 */

import { messageFor } from "./api.js";
import { ImageViewer } from "./attachments.js";
import { avatar, byId, fullTime, h, presenceText, setText } from "./dom.js";
import { MessageMenu } from "./messagemenu.js";
import { MessageList } from "./messages.js";
import { blocks, otherOf } from "./store.js";

const phoneLayout = window.matchMedia("(max-width: 699px)");
const PRESENCE_TICK_MS = 30_000;

/** @param {{open: (message: object) => void}} reports the dialog that reports a message */
export function conversationView(store, sync, reports) {
  const find = (id) => store.state.conversation?.messages.find((message) => message.id === id);
  const writable = () => {
    const { conversation, threads, me } = store.state;
    const thread = conversation && threads.get(conversation.threadId);
    return !thread || !blocks(store.state, otherOf(thread, me));
  };
  const menu = new MessageMenu({ find, me: () => store.state.me, run: runAction, writable });
  const viewer = new ImageViewer();
  const messages = new MessageList({
    loadOlder: sync.loadOlder,
    loadNewer: sync.loadNewer,
    loadLatest: sync.loadLatest,
    retry: sync.retry,
    openMenu: (id, button) => menu.toggle(id, button),
    openImage: async (attachment, button, message) =>
      viewer.open(message ? await sync.freshAttachment(message, attachment) : attachment, button),
    freshAttachment: sync.freshAttachment,
  });
  const input = byId("message-input");
  const dialog = byId("confirm-delete");
  const deleteDialog = byId("confirm-message-delete");
  const clearDialog = byId("confirm-clear");
  const editsDialog = byId("edits-dialog");
  let openId = null; // as shown
  let typingTimer = null;
  let editingId = null; // as shown
  let draft = ""; // what the composer held before an edit took it
  let returned = null; // the refused send whose text went back to the composer
  let shownWith = null; // the other person as the header shows them

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
    renderPresence(thread ? otherOf(thread, me) : null);
    setText(byId("composer-error"), conversation?.error ?? "");
    takeBack(conversation?.returned ?? null);
    renderTyping(state.typing, name);
    messages.render(conversation, me, name);
    renderEditing(conversation);
    renderSendButton(conversation);
  }

  /** Their avatar, with its dot, and "online" or when they were last seen. */
  function renderPresence(other) {
    if (other !== shownWith) {
      byId("conversation-avatar").replaceChildren(
        ...(other ? [avatar(other.username, other.online)] : []),
      );
      shownWith = other;
    }
    setText(byId("conversation-presence"), other ? presenceText(other) : "");
  }
  // "5 min ago" grows older between events.
  setInterval(() => renderPresence(shownWith), PRESENCE_TICK_MS);

  /** A send the server refused: its text back in the composer, before anything typed since. */
  function takeBack(refused) {
    if (refused === returned) return;
    returned = refused;
    if (!refused) return;
    input.value = input.value ? `${refused.text}\n${input.value}` : refused.text;
    resizeComposer();
  }

  /** The composer holds the message being edited, and gives back what it held before. */
  function renderEditing(conversation) {
    const editing = conversation?.editing ?? null;
    const id = editing?.id ?? null;
    if (id !== editingId) {
      if (id === null) {
        input.value = draft;
        draft = "";
      } else {
        if (editingId === null) draft = input.value;
        input.value = conversation.messages.find((message) => message.id === id).text;
        input.focus();
        input.setSelectionRange(input.value.length, input.value.length);
      }
      editingId = id;
      resizeComposer();
    }
    byId("edit-bar").hidden = !editing;
    setText(byId("send"), editing ? "Save" : "Send");
    input.readOnly = Boolean(editing?.saving);
  }

  /** Whether the composer holds something to send: text, or files uploaded and none still on its
   * way (they go together, in one message). */
  function sendable(conversation) {
    const uploads = [...(conversation?.uploads.values() ?? [])];
    if (uploads.some(({ attachment, error }) => !attachment && !error)) return false;
    return Boolean(input.value.trim()) || uploads.some(({ attachment }) => attachment);
  }

  function renderSendButton(conversation) {
    const editing = conversation?.editing;
    byId("send").disabled = editing ? editing.saving : !sendable(conversation);
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

  /** What the message menu offers. */
  function runAction(action, message) {
    if (action === "edit") sync.startEdit(message.id);
    else if (action === "unread") sync.markUnread(message);
    else if (action === "delete") askDeleteMessage(message);
    else if (action === "history") showEdits(message);
    else if (action === "report") reports.open(message);
  }

  /** For me, or for everyone: offered on my own messages only. Whether the time to do so has
   * passed, only the server knows; its answer says. */
  function askDeleteMessage(message) {
    const forEveryone = message.sender === store.state.me.id && !message.deleted;
    const thread = store.state.threads.get(message.thread);
    const other = thread ? otherOf(thread, store.state.me).username : "the other person";
    byId("delete-for-everyone").hidden = !forEveryone;
    byId("message-delete-text").textContent = forEveryone
      ? `“For me” removes it from your view only. “For everyone” removes it for ${other} too.`
      : `It is removed from your view only; ${other} still sees it.`;
    deleteDialog.returnValue = "";
    deleteDialog.dataset.messageId = message.id;
    deleteDialog.showModal();
  }

  deleteDialog.addEventListener("close", () => {
    const message = find(Number(deleteDialog.dataset.messageId));
    const choice = deleteDialog.returnValue;
    if (!message || (choice !== "me" && choice !== "everyone")) return;
    sync.deleteMessage(message, choice === "me");
    if (choice === "me") input.focus(); // its menu button goes with it
  });

  /** The earlier texts of an edited message, oldest first, then its text now. */
  async function showEdits(message) {
    const list = byId("edits-list");
    const status = byId("edits-status");
    list.replaceChildren();
    status.textContent = "Loading…";
    editsDialog.showModal();
    const version = (text, label) =>
      h("li", {}, h("p", { class: "edit-text" }, text), h("p", { class: "hint" }, label));
    try {
      const edits = await sync.history(message.id);
      status.textContent = edits.length ? "" : "No earlier texts are kept.";
      list.replaceChildren(
        ...edits.map(({ text, until }) => version(text, `Until ${fullTime(until)}`)),
        version(find(message.id)?.text ?? message.text, "Now"),
      );
    } catch (error) {
      status.textContent = messageFor(error);
    }
  }

  function askClear() {
    const { conversation, threads, me } = store.state;
    const thread = conversation && threads.get(conversation.threadId);
    if (!thread) return;
    byId("clear-text").textContent =
      `Every message so far is removed from your view, in all your windows. ` +
      `${otherOf(thread, me).username} still sees them.`;
    clearDialog.returnValue = "";
    clearDialog.dataset.threadId = thread.id;
    clearDialog.showModal();
  }

  clearDialog.addEventListener("close", () => {
    if (clearDialog.returnValue === "clear") sync.clearThread(Number(clearDialog.dataset.threadId));
  });
  byId("clear-thread").addEventListener("click", askClear);
  byId("cancel-edit").addEventListener("click", () => {
    sync.cancelEdit();
    input.focus();
  });
  byId("delete-thread").addEventListener("click", askDelete);
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "delete") sync.deleteThread(Number(dialog.dataset.threadId));
  });
  byId("back").addEventListener("click", () => {
    window.location.hash = "#/";
  });
  byId("scroller").addEventListener("scroll", () => messages.onScroll(), { passive: true });
  byId("jump").addEventListener("click", () => messages.scrollToEnd());

  /** Up arrow in an empty composer: edit my last message, as in the chats people know. */
  function editLast() {
    const conversation = store.state.conversation;
    const mine = conversation?.messages.filter(
      (message) => message.sender === store.state.me.id && !message.deleted,
    );
    if (!mine?.length) return false;
    sync.startEdit(mine.at(-1).id);
    return true;
  }

  input.addEventListener("keydown", (event) => {
    const plain = !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey;
    const editing = store.state.conversation?.editing;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      byId("composer").requestSubmit();
    } else if (event.key === "ArrowUp" && plain && !input.value && !editing) {
      if (editLast()) event.preventDefault();
    } else if (event.key === "Escape" && editing) {
      event.preventDefault();
      sync.cancelEdit();
    }
  });
  input.addEventListener("input", () => {
    resizeComposer();
    renderSendButton(store.state.conversation);
    if (input.value.trim() && !store.state.conversation?.editing) sync.sendTyping();
  });
  byId("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const conversation = store.state.conversation;
    const text = input.value;
    if (conversation?.editing) {
      sync.saveEdit(text);
      return;
    }
    if (!sendable(conversation)) return;
    input.value = "";
    resizeComposer();
    sync.send(text);
  });

  store.subscribe(render);
}
