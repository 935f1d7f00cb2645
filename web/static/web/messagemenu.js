/**
 * The menu of one message's actions, opened from the small button on each message: edit and
 * delete your own, mark unread or report one sent to you, see an edited one's earlier texts. One menu
 * (a popover) serves every message. Keyboard: the button opens it on its first item; arrows,
 * Home and End move; Escape or Tab closes it and gives the focus back to the button.
 */

import { byId, menuKey } from "./dom.js";

const GAP_PX = 4;

export class MessageMenu {
  /**
   * @param {object} hooks
   * @param {(id: number) => object | undefined} hooks.find the message shown with this id
   * @param {() => object} hooks.me the signed-in user
   * @param {(action: string, message: object) => void} hooks.run "edit", "history",
   *   "unread", "report" or "delete"
   * @param {() => boolean} hooks.writable whether I may write in the conversation (not while I
   *   block the other person)
   */
  constructor({ find, me, run, writable }) {
    Object.assign(this, { find, me, run, writable });
    this.menu = byId("message-menu");
    this.items = [...this.menu.querySelectorAll("[role=menuitem]")];
    this.messageId = null; // the message the menu is open for
    this.button = null;
    this.refocus = true;
    this.menu.addEventListener("keydown", (event) => this.onKey(event));
    // Escape or a click elsewhere closes it too (a popover's light dismiss). The event comes
    // later, maybe once the menu is open again for another message.
    this.menu.addEventListener("toggle", () => {
      if (!this.isOpen) this.closed();
    });
    for (const item of this.items) {
      item.addEventListener("click", () => this.choose(item.dataset.action));
    }
    this.scroller = byId("scroller");
    this.scroller.addEventListener("scroll", () => this.follow(), { passive: true });
    window.addEventListener("resize", () => this.follow());
  }

  get isOpen() {
    return this.menu.matches(":popover-open");
  }

  /** Opens the menu for message `id` below (or above) `button`; a second press closes it. */
  toggle(id, button) {
    const wasFor = this.messageId;
    this.close();
    if (wasFor === id) return;
    const message = this.find(id);
    if (!message) return;
    const mine = message.sender === this.me().id;
    const offered = {
      edit: mine && !message.deleted && this.writable(),
      history: Boolean(message.edited) && !message.deleted,
      unread: !mine && !message.deleted,
      // Only its recipient may report it, and a tombstone has nothing left to report.
      report: !mine && !message.deleted,
      delete: true,
    };
    for (const item of this.items) item.hidden = !offered[item.dataset.action];
    Object.assign(this, { messageId: id, button, refocus: true });
    button.setAttribute("aria-expanded", "true");
    // Its source: a click on the button is not a click elsewhere, it closes the menu itself.
    this.menu.showPopover({ source: button });
    this.place(button);
    this.visibleItems()[0].focus();
  }

  place(button) {
    const anchor = button.getBoundingClientRect();
    const { offsetWidth: width, offsetHeight: height } = this.menu;
    const below = anchor.bottom + GAP_PX + height <= window.innerHeight;
    const top = below ? anchor.bottom + GAP_PX : Math.max(GAP_PX, anchor.top - GAP_PX - height);
    // From the button's left edge, or if there is no room, up to its right edge.
    const fits = anchor.left + width <= window.innerWidth - GAP_PX;
    const left = Math.max(GAP_PX, fits ? anchor.left : anchor.right - width);
    this.menu.style.top = `${top}px`;
    this.menu.style.left = `${left}px`;
  }

  /** Keeps the menu by its button as the messages scroll; closes it once the button is out of
   * sight. */
  follow() {
    if (!this.isOpen) return;
    const button = this.currentButton();
    const view = this.scroller.getBoundingClientRect();
    const at = button?.getBoundingClientRect();
    if (at && at.bottom > view.top && at.top < view.bottom) {
      this.place(button);
    } else {
      this.refocus = false;
      this.close();
    }
  }

  visibleItems() {
    return this.items.filter((item) => !item.hidden);
  }

  onKey(event) {
    menuKey(event, this.visibleItems(), () => this.close());
  }

  choose(action) {
    const message = this.find(this.messageId);
    // Editing moves the focus to the composer, a dialog takes it: the button does not get it back.
    this.refocus = false;
    this.close();
    if (message) this.run(action, message);
  }

  /** Closed, whichever way: chosen, Escape, Tab, or a click elsewhere. */
  closed() {
    if (this.messageId === null) return;
    const button = this.currentButton();
    this.button?.setAttribute("aria-expanded", "false");
    button?.setAttribute("aria-expanded", "false");
    const focus = document.activeElement;
    const lost = !focus || focus === document.body || this.menu.contains(focus);
    if (this.refocus && button && lost) button.focus();
    this.messageId = null;
    this.button = null;
  }

  /** The button of the message the menu was for: the one pressed, or the one that replaced it
   * if the message was drawn anew meanwhile (a receipt changed, say). */
  currentButton() {
    if (this.button?.isConnected) return this.button;
    return byId("message-list").querySelector(`[data-id="${this.messageId}"] .menu-button`);
  }

  close() {
    if (this.isOpen) this.menu.hidePopover();
    this.closed();
  }
}
