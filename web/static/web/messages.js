/**
 * The open conversation's messages on screen, rendered from the store's conversation: in id
 * order, sends not answered yet below them; an edited message marked so, one deleted for everyone
 * as a tombstone in its place; their files below their text (attachments.js); each with a button
 * that opens its menu (messagemenu.js). Keeps the reader where they expect: at the end when a new
 * message comes and they were there, in place when an older page goes in above. A conversation
 * opened at a message (a search result) shows it, highlighted for a moment, with newer pages
 * loaded as the reader scrolls down.
 */

import { attachmentList } from "./attachments.js";
import { byId, fullTime, h, messageTime, pressWatch, setText } from "./dom.js";

const NEAR_TOP_PX = 200;
const NEAR_END_PX = 80;
const NEAR_BOTTOM_PX = 200;
const FOUND_SHOWN_MS = 2500;

export class MessageList {
  /**
   * @param {object} actions
   * @param {() => void} actions.loadOlder the page before the oldest message shown
   * @param {() => void} actions.loadNewer the page after the newest shown, when newer remain
   * @param {() => void} actions.loadLatest the newest page, in place of those shown
   * @param {(key: string) => void} actions.retry a failed send, by its Idempotency-Key
   * @param {(id: number, button: Element) => void} actions.openMenu message `id`'s menu
   * @param {(attachment: object, button: Element, message: object) => void} actions.openImage
   *   a message's image, full size
   * @param {(message: object, attachment: object) => Promise<object>} actions.freshAttachment
   *   a message's file with links that still work
   */
  constructor({ loadOlder, loadNewer, loadLatest, retry, openMenu, openImage, freshAttachment }) {
    Object.assign(this, {
      loadOlder,
      loadNewer,
      loadLatest,
      retry,
      openMenu,
      openImage,
      freshAttachment,
    });
    this.list = byId("message-list");
    this.scroller = byId("scroller");
    this.status = byId("history-status");
    this.newerStatus = byId("newer-status");
    this.jump = byId("jump");
    this.shown = null; // the conversation on screen
    this.items = new Map(); // message id → {value: message, element}
    this.sends = new Map(); // Idempotency-Key → {value: pending entry, element}
    this.editing = null; // the element of the message being edited
    // A message is drawn anew when it changes (a read receipt redraws mine): under a pressed
    // pointer that would swallow the click on its menu button or image, so the latest
    // conversation waits for the release.
    this.held = null; // render's arguments while pressed
    this.pressed = pressWatch(this.list, () => this.held && this.render(...this.held));
  }

  render(conversation, me, otherName) {
    if (this.pressed()) {
      this.held = [conversation, me, otherName];
      return;
    }
    this.held = null;
    const previous = conversation?.threadId === this.shown?.threadId ? this.shown : null;
    if (conversation === this.shown) return;
    this.shown = conversation;
    if (!conversation) return;
    if (!previous) {
      this.list.replaceChildren();
      this.items.clear();
      this.sends.clear();
      this.jump.hidden = true;
    }
    const wasNearEnd = this.isNearEnd();
    const { scrollHeight, scrollTop } = this.scroller;
    const messages = new Map(conversation.messages.map((message) => [message.id, message]));
    dropChanged(this.items, messages);
    dropChanged(this.sends, conversation.pending);
    const renderMessage = (_, message) => this.renderMessage(message, me, otherName);
    const renderSend = (key, entry) => this.renderSend(key, entry);
    let cursor = this.list.firstElementChild;
    cursor = place(this.list, cursor, this.items, messages, renderMessage);
    place(this.list, cursor, this.sends, conversation.pending, renderSend);
    const editing = this.items.get(conversation.editing?.id)?.element ?? null;
    if (editing !== this.editing) {
      this.editing?.classList.remove("editing");
      editing?.classList.add("editing");
      this.editing = editing;
    }

    const shownBefore = new Set(previous?.messages.map(({ id }) => id));
    const added = conversation.messages.filter(({ id }) => !shownBefore.has(id));
    const fromOlderPage = added.length > 0 && added[0].id < (previous?.messages[0]?.id ?? 0);
    const sending = [...conversation.pending].some(
      ([key, entry]) => !entry.failed && previous?.pending.get(key) !== entry,
    );
    // The newest page in place of pages around a message: the reader asked for the end.
    const toLatest = previous?.target != null && conversation.target === null;
    // A newer page below the newest shown: the reader scrolls on down to it.
    const fromNewerPage = previous?.hasNewer && added.length > 0 && !toLatest;
    if (conversation.loaded && !previous?.loaded) {
      this.jump.hidden = true; // the same thread opened again, at another message
      if (conversation.target === null) this.scrollToEnd();
      else this.showFound(conversation.target);
    } else if (toLatest) {
      this.scrollToEnd();
    } else if (fromOlderPage) {
      this.scroller.scrollTop = scrollTop + this.scroller.scrollHeight - scrollHeight;
    } else if (sending || added.some((message) => message.sender === me.id)) {
      this.scrollToEnd();
    } else if (added.length && !fromNewerPage) {
      if (wasNearEnd) this.scrollToEnd();
      else this.jump.hidden = false;
    }
    if (conversation.hasNewer) this.jump.hidden = false;
    setText(this.jump, conversation.hasNewer ? "Latest messages ↓" : "New messages ↓");
    setText(this.status, this.historyState(conversation, otherName));
    setText(this.newerStatus, conversation.loadingNewer ? "Loading newer messages…" : "");
    // Fill the screen: after a first or older page, while no scroll bar would let the reader ask
    // for more. Not at once: the store is still telling its subscribers about this change.
    const fill = (conversation.loaded && !previous?.loaded) || fromOlderPage;
    if (fill && conversation.hasMore && this.scroller.scrollHeight <= this.scroller.clientHeight) {
      queueMicrotask(this.loadOlder);
    }
  }

  historyState(conversation, otherName) {
    if (!conversation.loaded) return "Loading messages…";
    if (conversation.loadingOlder) return "Loading older messages…";
    if (conversation.hasMore) return "";
    return `This is the beginning of your conversation with ${otherName}.`;
  }

  onScroll() {
    const { scrollHeight, scrollTop, clientHeight } = this.scroller;
    if (scrollTop < NEAR_TOP_PX) this.loadOlder();
    if (scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX) this.loadNewer();
    if (this.isNearEnd() && !this.shown?.hasNewer) this.jump.hidden = true;
  }

  /** Message `id` in the middle of the view, highlighted for a moment and focused (or, gone
   * meanwhile, the first one after it). */
  showFound(id) {
    const after = this.shown.messages.find((message) => message.id >= id);
    const element = this.items.get(after?.id)?.element;
    if (!element) return this.scrollToEnd();
    // In the middle of the scroller (scrollIntoView would move the page around it too).
    const offset = element.getBoundingClientRect().top - this.scroller.getBoundingClientRect().top;
    this.scroller.scrollTop += offset - (this.scroller.clientHeight - element.offsetHeight) / 2;
    if (after.id !== id) return;
    element.tabIndex = -1;
    element.classList.add("found");
    element.focus({ preventScroll: true });
    setTimeout(() => element.classList.remove("found"), FOUND_SHOWN_MS);
  }

  isNearEnd() {
    const { scrollHeight, scrollTop, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight < NEAR_END_PX;
  }

  scrollToEnd() {
    // Newer pages remain: the newest one takes the place of those shown, then the end shows.
    if (this.shown?.hasNewer) return this.loadLatest();
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
  }

  renderMessage(message, me, otherName) {
    const mine = message.sender === me.id;
    const { deleted, edited } = message;
    const kind = `message ${mine ? "mine" : "theirs"}${deleted ? " deleted" : ""}`;
    return h(
      "li",
      { class: kind, dataset: { id: message.id } },
      h("span", { class: "visually-hidden" }, mine ? "You: " : `${otherName}: `),
      deleted ? h("p", { class: "text tombstone" }, "Message deleted") : this.content(message),
      h(
        "p",
        { class: "meta" },
        edited && !deleted
          ? h("span", { class: "edited", title: `Edited ${fullTime(edited)}` }, "edited")
          : null,
        h("time", { datetime: message.created }, messageTime(message.created)),
        mine && !deleted ? receipt(message.is_read ? "read" : "sent") : null,
        h(
          "button",
          {
            type: "button",
            class: "menu-button",
            "aria-label": "Message actions",
            "aria-haspopup": "menu",
            "aria-controls": "message-menu",
            "aria-expanded": "false",
            onclick: (event) => this.openMenu(message.id, event.currentTarget),
          },
          h("span", { "aria-hidden": "true" }, "⋯"),
        ),
      ),
    );
  }

  /** Its text, if it has any (one may carry files alone), and its files. A send not answered
   * yet has no id, and its files were just uploaded: their links are fresh. */
  content(message) {
    const { text, attachments } = message;
    const sent = message.id !== undefined;
    return [
      text ? h("p", { class: "text" }, text) : null,
      attachmentList(attachments, {
        open: (attachment, button) => this.openImage(attachment, button, sent ? message : null),
        fresh: (attachment) =>
          sent ? this.freshAttachment(message, attachment) : Promise.resolve(attachment),
      }),
    ];
  }

  renderSend(key, entry) {
    const retry = entry.failed ? () => this.retry(key) : null;
    return h(
      "li",
      { class: "message mine pending" },
      h("span", { class: "visually-hidden" }, "You: "),
      this.content(entry),
      h("p", { class: "meta" }, receipt(entry.failed ? "failed" : "sending", retry)),
    );
  }
}

/** Removes the elements of `shown` (key → {value, element}) whose value `wanted` no longer has. */
function dropChanged(shown, wanted) {
  for (const [key, item] of shown) {
    if (wanted.get(key) === item.value) continue;
    item.element.remove();
    shown.delete(key);
  }
}

/**
 * Puts an element for each value of `wanted`, in order, from `cursor` on, reusing those in
 * `shown` and rendering the others; returns the element after them.
 */
function place(list, cursor, shown, wanted, render) {
  for (const [key, value] of wanted) {
    let item = shown.get(key);
    if (!item) {
      item = { value, element: render(key, value) };
      shown.set(key, item);
    }
    if (item.element === cursor) cursor = cursor.nextElementSibling;
    else list.insertBefore(item.element, cursor);
  }
  return cursor;
}

function receipt(state, retry = null) {
  const labels = { sending: "Sending…", sent: "Sent", read: "Read", failed: "Not sent" };
  const icons = { sending: "", sent: "✓", read: "✓✓", failed: "!" };
  return h(
    "span",
    { class: `receipt ${state}`, dataset: { state } },
    icons[state] ? h("span", { "aria-hidden": "true" }, `${icons[state]} `) : null,
    labels[state],
    retry ? h("button", { type: "button", class: "link retry", onclick: retry }, "Retry") : null,
  );
}
