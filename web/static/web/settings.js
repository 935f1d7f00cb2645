/**
 * The settings dialog: whether others see when I am online, and the people I block, each with
 * an Unblock button. Rendered from the store: `me.show_presence` and `blocked`.
 */

import { messageFor } from "./api.js";
import { avatar, byId, h, setText } from "./dom.js";

export function settingsView(store, sync) {
  const dialog = byId("settings-dialog");
  const toggle = byId("show-presence");
  const list = byId("blocked-list");
  const error = byId("settings-error");
  let shown = null; // the blocked people as listed
  let saving = false;

  function render({ me, blocked }) {
    if (!me) return;
    if (!saving) toggle.checked = me.show_presence !== false;
    // A server that does not say has no such setting.
    toggle.disabled = me.show_presence === undefined;
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

  byId("open-settings").addEventListener("click", () => {
    setText(error, "");
    dialog.showModal();
  });

  store.subscribe(render);
}
