/**
 * DOM helpers. `h()` builds elements from tag, attributes and children; strings become text
 * nodes, so user text is never parsed as HTML.
 */

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.flat().filter((child) => child != null && child !== false));
  return element;
}

export const byId = (id) => document.getElementById(id);

/**
 * Whether a pointer pressed in `element` is still down. A list drawn anew between press and
 * release loses the click (an element replaced under the pointer never gets it), so a list
 * holds its drawing while pressed and calls `redraw` once the click is through.
 */
export function pressWatch(element, redraw) {
  let pressed = false;
  element.addEventListener("pointerdown", () => {
    pressed = true;
  });
  const released = () => {
    if (!pressed) return;
    pressed = false;
    setTimeout(redraw);
  };
  window.addEventListener("pointerup", released, true);
  window.addEventListener("pointercancel", released, true);
  return () => pressed;
}

/** Sets `element`'s text only when it differs, so that a live region does not announce again. */
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

/** A user's initial on a colour of their own; with a green dot when `online`. Hidden from
 * screen readers: the text beside it says who, and `presenceText` whether they are online. */
export function avatar(username, online = false) {
  const element = h(
    "span",
    { class: `avatar${online ? " online" : ""}`, "aria-hidden": "true" },
    username[0].toUpperCase(),
    online ? h("span", { class: "presence-dot" }) : null,
  );
  const hue = [...username].reduce((sum, char) => (sum * 31 + char.codePointAt(0)) % 360, 7);
  element.style.setProperty("--hue", hue);
  return element;
}

const MINUTE_MS = 60_000;

/** "online", "last seen just now", "last seen 5 min ago", "last seen today 09:12", "last seen
 * yesterday 14:02", "last seen 3 Mar 14:02"; "" when they share no presence (never seen, or
 * they hide it). */
export function presenceText({ online, last_seen: lastSeen }, now = new Date()) {
  if (online) return "online";
  if (!lastSeen) return "";
  const seen = new Date(lastSeen);
  const minutes = Math.floor((now - seen) / MINUTE_MS);
  if (minutes < 1) return "last seen just now";
  if (minutes < 60) return `last seen ${minutes} min ago`;
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  const time = timeFormat.format(seen);
  if (seen.toDateString() === now.toDateString()) return `last seen today ${time}`;
  if (seen.toDateString() === yesterday.toDateString()) return `last seen yesterday ${time}`;
  return `last seen ${dateFormat.format(seen)} ${time}`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "14:05" today, "3 Mar" before. */
export function shortTime(iso) {
  const date = new Date(iso);
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? timeFormat.format(date)
    : dateFormat.format(date);
}

/** "29 Nov 2026, 14:05". */
export const fullTime = (iso) => fullFormat.format(new Date(iso));

export function messageTime(iso) {
  const date = new Date(iso);
  return date.toDateString() === new Date().toDateString()
    ? timeFormat.format(date)
    : fullFormat.format(date);
}

/** A menu's keys, as the ARIA menu pattern has them: arrows, Home and End move the focus among
 * `items` (round), Tab closes it by `close()`. */
export function menuKey(event, items, close) {
  const at = items.indexOf(document.activeElement);
  const moves = {
    ArrowDown: (at + 1) % items.length,
    ArrowUp: (at - 1 + items.length) % items.length,
    Home: 0,
    End: items.length - 1,
  };
  if (event.key in moves) {
    event.preventDefault();
    items[moves[event.key]].focus();
  } else if (event.key === "Tab") {
    event.preventDefault();
    close();
  }
}
