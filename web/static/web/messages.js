/**
 * The open conversation's messages: the first page, older pages loaded as the reader scrolls up
 * (keyset pages, `?before=<oldest id>`), live additions, sends still in flight, read receipts.
 */

import { api } from "./api.js";
import { byId, h, messageTime } from "./dom.js";

const PAGE_SIZE = 30;
const NEAR_TOP_PX = 200;
const NEAR_END_PX = 80;

export class MessageView {
  constructor({ thread, me, otherName, report }) {
    Object.assign(this, { threadId: thread.id, me, otherName, report });
    this.items = new Map();
    this.pending = new Map();
    this.oldestId = null;
    this.newestId = null;
    this.hasMore = true;
    this.loading = false;
    this.closed = false;
    this.list = byId("message-list");
    this.scroller = byId("scroller");
    this.status = byId("history-status");
    this.jump = byId("jump");
    this.list.replaceChildren();
    this.jump.hidden = true;
  }

  get path() {
    return `/api/threads/${this.threadId}/messages/`;
  }

  close() {
    this.closed = true;
  }

  async loadFirst() {
    this.status.textContent = "Loading messages…";
    const page = await api(`${this.path}?limit=${PAGE_SIZE}`);
    if (this.closed) return;
    this.hasMore = Boolean(page.next);
    this.add(page.results.reverse(), "end");
    this.scrollToEnd();
    this.showHistoryState();
    while (!this.closed && this.hasMore && this.scroller.scrollHeight <= this.scroller.clientHeight) {
      await this.loadOlder();
    }
  }

  async loadOlder() {
    if (this.loading || !this.hasMore || this.oldestId === null || this.closed) return;
    this.loading = true;
    this.status.textContent = "Loading older messages…";
    try {
      const page = await api(`${this.path}?before=${this.oldestId}&limit=${PAGE_SIZE}`);
      if (this.closed) return;
      this.hasMore = Boolean(page.next);
      const { scrollHeight, scrollTop } = this.scroller;
      this.add(page.results.reverse(), "start");
      this.scroller.scrollTop = scrollTop + this.scroller.scrollHeight - scrollHeight;
    } finally {
      this.loading = false;
      if (!this.closed) this.showHistoryState();
    }
  }

  /** After a reconnect: the messages newer than the newest shown, and fresh read receipts.
   * Overlapping loads are harmless: a message already shown is never added twice. */
  async catchUp() {
    if (this.newestId === null) {
      await this.loadFirst();
      return;
    }
    const atEnd = this.isNearEnd();
    let after = this.newestId;
    for (;;) {
      const page = await api(`${this.path}?after=${after}&limit=100`);
      if (this.closed) return;
      this.add(page.results, "end");
      if (!page.next || page.results.length === 0) break;
      after = page.results.at(-1).id;
    }
    const latest = await api(`${this.path}?limit=${PAGE_SIZE}`);
    if (this.closed) return;
    this.markRead(latest.results.filter((message) => message.is_read).map(({ id }) => id));
    if (atEnd) this.scrollToEnd();
  }

  showHistoryState() {
    this.status.textContent = this.hasMore
      ? ""
      : `This is the beginning of your conversation with ${this.otherName}.`;
  }

  onScroll() {
    if (this.scroller.scrollTop < NEAR_TOP_PX) this.loadOlder().catch(this.report);
    if (this.isNearEnd()) this.jump.hidden = true;
  }

  isNearEnd() {
    const { scrollHeight, scrollTop, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight < NEAR_END_PX;
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
  }

  /** A message from the live connection; ignored if already shown. */
  receive(message) {
    const atEnd = this.isNearEnd();
    this.add([message], "end");
    if (atEnd || message.sender === this.me.id) this.scrollToEnd();
    else this.jump.hidden = false;
  }

  /** Adds messages not shown yet: at the top ("start", older pages) or in id order below. */
  add(messages, where) {
    const fresh = messages
      .filter((message) => !this.items.has(message.id))
      .sort((a, b) => a.id - b.id);
    const older = [];
    for (const message of fresh) {
      const element = this.render(message);
      this.items.set(message.id, { message, element });
      // Our own send, announced live before its POST answered: it takes the pending one's place.
      const pending = where === "end" && this.adoptPending(message);
      if (pending) pending.replaceWith(element);
      else if (where === "start") older.push(element);
      else this.placeNewer(element, message.id);
      this.oldestId = Math.min(this.oldestId ?? Infinity, message.id);
      this.newestId = Math.max(this.newestId ?? 0, message.id);
    }
    this.list.prepend(...older);
  }

  /** Below the messages shown, or among them when a live one came before an earlier page. */
  placeNewer(element, id) {
    const later =
      id < (this.newestId ?? 0)
        ? [...this.list.querySelectorAll("li[data-id]")].find((li) => Number(li.dataset.id) > id)
        : null;
    this.list.insertBefore(element, later ?? this.list.querySelector(".pending"));
  }

  markRead(ids) {
    for (const id of ids) {
      const item = this.items.get(id);
      if (!item || item.message.is_read) continue;
      item.message.is_read = true;
      if (item.message.sender === this.me.id) {
        item.element.querySelector(".receipt").replaceWith(this.receipt("read"));
      }
    }
  }

  render(message) {
    const mine = message.sender === this.me.id;
    return h(
      "li",
      { class: `message ${mine ? "mine" : "theirs"}`, dataset: { id: message.id } },
      h("span", { class: "visually-hidden" }, mine ? "You: " : `${this.otherName}: `),
      h("p", { class: "text" }, message.text),
      h(
        "p",
        { class: "meta" },
        h("time", { datetime: message.created }, messageTime(message.created)),
        mine ? this.receipt(message.is_read ? "read" : "sent") : null,
      ),
    );
  }

  receipt(state, retry = null) {
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

  /** Shows a message being sent; `key` is its Idempotency-Key, reused on retry. */
  addPending(key, text) {
    let element = this.pending.get(key);
    if (element) {
      element.querySelector(".receipt").replaceWith(this.receipt("sending"));
    } else {
      element = h(
        "li",
        { class: "message mine pending" },
        h("span", { class: "visually-hidden" }, "You: "),
        h("p", { class: "text" }, text),
        h("p", { class: "meta" }, this.receipt("sending")),
      );
      this.pending.set(key, element);
      this.list.append(element);
    }
    this.scrollToEnd();
  }

  adoptPending(message) {
    if (message.sender !== this.me.id) return null;
    for (const [key, element] of this.pending) {
      if (element.querySelector(".text").textContent === message.text) {
        this.pending.delete(key);
        return element;
      }
    }
    return null;
  }

  confirmPending(key, message) {
    const element = this.pending.get(key);
    this.pending.delete(key);
    if (this.items.has(message.id)) {
      element?.remove();
      return;
    }
    const confirmed = this.render(message);
    this.items.set(message.id, { message, element: confirmed });
    if (element) element.replaceWith(confirmed);
    else this.list.append(confirmed);
    this.newestId = Math.max(this.newestId ?? 0, message.id);
    this.oldestId = Math.min(this.oldestId ?? Infinity, message.id);
  }

  failPending(key, retry) {
    this.pending.get(key)?.querySelector(".receipt").replaceWith(this.receipt("failed", retry));
  }
}
