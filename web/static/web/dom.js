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

/** Sets `element`'s text only when it differs, so that a live region does not announce again. */
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

/** A user's initial on a colour of their own. */
export function avatar(username) {
  const element = h("span", { class: "avatar", "aria-hidden": "true" }, username[0].toUpperCase());
  const hue = [...username].reduce((sum, char) => (sum * 31 + char.codePointAt(0)) % 360, 7);
  element.style.setProperty("--hue", hue);
  return element;
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
