/**
 * The open conversation's safety controls: mute it (for 1 hour, 8 hours, or until unmuted, from
 * a small menu) or unmute it; block or unblock the other person (after a confirmation); and,
 * while I block them, the notice in place of the composer, with its Unblock button.
 */

import { byId, fullTime, menuKey, setText } from "./dom.js";
import { blocks, isMuted, otherOf } from "./store.js";

const HOUR_MS = 3_600_000;
const MUTE_CHECK_MS = 30_000;

export function safetyView(store, sync) {
  const muteButton = byId("mute-thread");
  const muteMenu = byId("mute-menu");
  const muteItems = [...muteMenu.querySelectorAll("[role=menuitem]")];
  const blockButton = byId("block-user");
  const blockDialog = byId("confirm-block");
  const composer = byId("composer");
  const input = byId("message-input");

  /** The open thread and the other person in it, if any. */
  function open() {
    const { conversation, threads, me } = store.state;
    const thread = conversation && threads.get(conversation.threadId);
    return thread ? { thread, other: otherOf(thread, me) } : null;
  }

  function render(state) {
    const current = open();
    if (!current) return;
    const { thread, other } = current;
    const muted = isMuted(thread);
    setText(byId("mute-label"), muted ? "Unmute" : "Mute");
    byId("mute-icon").className = `icon ${muted ? "bell-off" : "bell"}`;
    muteButton.setAttribute("aria-label", muted ? "Unmute conversation" : "Mute conversation");
    muteButton.title = !muted
      ? "Mute notifications"
      : thread.muted_until
        ? `Muted until ${fullTime(thread.muted_until)}`
        : "Muted until you unmute it";
    // Unmuting is one click; muting asks for how long.
    if (muted) {
      for (const name of ["aria-haspopup", "aria-controls", "aria-expanded"]) {
        muteButton.removeAttribute(name);
      }
    } else {
      muteButton.setAttribute("aria-haspopup", "menu");
      muteButton.setAttribute("aria-controls", "mute-menu");
      muteButton.setAttribute("aria-expanded", String(isMenuOpen()));
    }

    const blocked = blocks(state, other);
    const wasBlocked = !byId("block-bar").hidden;
    setText(blockButton, blocked ? "Unblock" : "Block");
    blockButton.setAttribute("aria-label", `${blocked ? "Unblock" : "Block"} ${other.username}`);
    setText(byId("block-bar-text"), blocked ? `You blocked ${other.username}.` : "");
    byId("block-bar").hidden = !blocked;
    composer.hidden = blocked;
    // The composer's place is taken, or given back: the focus goes with it.
    const focus = document.activeElement;
    if (blocked && !wasBlocked && (focus === input || focus === document.body)) {
      byId("block-bar-unblock").focus();
    } else if (!blocked && wasBlocked && (!focus || focus === document.body)) {
      input.focus();
    }
  }

  /* ---- Mute ---- */

  const isMenuOpen = () => muteMenu.matches(":popover-open");

  muteButton.addEventListener("click", () => {
    const current = open();
    if (!current) return;
    if (isMuted(current.thread)) {
      sync.mute(current.thread.id, false);
      return;
    }
    if (isMenuOpen()) {
      muteMenu.hidePopover();
      return;
    }
    // Its source: a click on the button is not a click elsewhere, it closes the menu itself.
    muteMenu.showPopover({ source: muteButton });
    const anchor = muteButton.getBoundingClientRect();
    muteMenu.style.top = `${anchor.bottom + 4}px`;
    muteMenu.style.left = `${Math.max(4, anchor.right - muteMenu.offsetWidth)}px`;
    muteButton.setAttribute("aria-expanded", "true");
    muteItems[0].focus();
  });

  muteMenu.addEventListener("toggle", () => {
    if (isMenuOpen()) return;
    if (muteButton.hasAttribute("aria-expanded")) muteButton.setAttribute("aria-expanded", "false");
    const focus = document.activeElement;
    if (!focus || focus === document.body || muteMenu.contains(focus)) muteButton.focus();
  });

  muteMenu.addEventListener("keydown", (event) =>
    menuKey(event, muteItems, () => muteMenu.hidePopover()),
  );

  for (const item of muteItems) {
    item.addEventListener("click", () => {
      const current = open();
      muteMenu.hidePopover();
      if (!current) return;
      const hours = Number(item.dataset.hours);
      const until = hours ? new Date(Date.now() + hours * HOUR_MS) : null;
      sync.mute(current.thread.id, true, until);
    });
  }

  /* ---- Block ---- */

  function askBlock() {
    const current = open();
    if (!current) return;
    const { thread, other } = current;
    const blocking = !blocks(store.state, other);
    const name = other.username;
    setText(byId("block-title"), blocking ? `Block ${name}?` : `Unblock ${name}?`);
    setText(
      byId("block-text"),
      blocking
        ? `Neither of you can send messages in this conversation, ${name} no longer sees when ` +
            `you are online, and you no longer see ${name}'s. Your messages so far stay. ` +
            `${name} is not told.`
        : `You can write to each other again and see when the other is online.`,
    );
    setText(byId("block-confirm"), blocking ? "Block" : "Unblock");
    byId("block-confirm").className = blocking ? "danger" : "primary";
    blockDialog.returnValue = "";
    blockDialog.dataset.threadId = thread.id;
    blockDialog.dataset.blocking = blocking ? "1" : "";
    blockDialog.showModal();
  }

  blockDialog.addEventListener("close", () => {
    const current = open();
    if (blockDialog.returnValue !== "confirm" || !current) return;
    if (String(current.thread.id) !== blockDialog.dataset.threadId) return;
    sync.setBlocked(current.other, Boolean(blockDialog.dataset.blocking), current.thread.id);
  });
  blockButton.addEventListener("click", askBlock);
  byId("block-bar-unblock").addEventListener("click", askBlock);

  // A mute that runs out shows so without an event.
  setInterval(() => render(store.state), MUTE_CHECK_MS);
  store.subscribe(render);
}
