/**
 * The settings dialog: whether others see when I am online, whether this browser notifies me of
 * new messages, and the people I block, each with an Unblock button. Rendered from the store:
 * `me.show_presence`, `push` and `blocked`.
 */

import { messageFor } from "./api.js";
import { avatar, byId, h, setText } from "./dom.js";

const NOTIFY_TEXT = {
  unsupported: "This browser cannot show notifications from Chat.",
  insecure: "Notifications need a secure connection (https).",
  unavailable: "This server does not send notifications.",
  blocked:
    "Your browser blocks notifications from this site: allow them in its site settings first.",
  off: "When this is on, this browser tells you of new messages while Chat is not in view.",
  on: "This browser tells you of new messages while Chat is not in view (not of muted ones).",
};

export function settingsView(store, sync, push) {
  const dialog = byId("settings-dialog");
  const toggle = byId("show-presence");
  const notify = byId("notify");
  const list = byId("blocked-list");
  const error = byId("settings-error");
  let shown = null; // the blocked people as listed
  let saving = false;

  function render({ me, blocked, push: notifications }) {
    if (!me) return;
    if (!saving) toggle.checked = me.show_presence !== false;
    // A server that does not say has no such setting.
    toggle.disabled = me.show_presence === undefined;
    renderNotifications(notifications);
    if (blocked === shown) return;
    shown = blocked;
    // The list is drawn anew: the focus, on an Unblock button that went, stays in the dialog.
    const hadFocus = list.contains(document.activeElement);
    const people = [...(blocked?.values() ?? [])];
    list.replaceChildren(...people.map(person));
    setText(
      byId("blocked-status"),
      blocked === null
        ? "Loading…"
        : people.length
          ? `You block ${people.length} ${people.length === 1 ? "person" : "people"}.`
          : "You have not blocked anyone.",
    );
    if (hadFocus) (list.querySelector("button") ?? toggle).focus();
  }

  function renderNotifications(notifications) {
    const { status, busy, error: failure } = notifications ?? { status: null, busy: false };
    // While busy, the box stays as the user set it.
    if (!busy) notify.checked = status === "on";
    notify.disabled = busy || !["on", "off"].includes(status);
    const turning = status === "on" ? "Turning off…" : "Turning on…";
    setText(byId("notify-status"), busy ? turning : (NOTIFY_TEXT[status] ?? "Checking…"));
    setText(byId("notify-error"), failure ?? "");
  }

  function person(user) {
    return h(
      "li",
      {},
      avatar(user.username),
      h("span", { class: "person-name" }, user.username),
      h(
        "button",
        {
          type: "button",
          "aria-label": `Unblock ${user.username}`,
          onclick: () => unblock(user),
        },
        "Unblock",
      ),
    );
  }

  async function unblock(user) {
    setText(error, "");
    try {
      await sync.setBlocked(user, false);
    } catch (failure) {
      setText(error, messageFor(failure));
    }
  }

  toggle.addEventListener("change", async () => {
    saving = true;
    setText(error, "");
    try {
      await sync.showPresence(toggle.checked);
    } catch (failure) {
      setText(error, messageFor(failure));
    } finally {
      saving = false;
      render(store.state);
    }
  });

  // Turned on by the user's own click: only then may the browser ask for its permission.
  notify.addEventListener("change", () => (notify.checked ? push.turnOn() : push.turnOff()));

  byId("open-settings").addEventListener("click", () => {
    setText(error, "");
    push.refresh();
    dialog.showModal();
  });

  store.subscribe(render);
}
