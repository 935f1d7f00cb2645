/**
 * The status banner, which says what is wrong with the connection, or else shows a passing
 * error; and the announcer, which screen readers read out.
 */

import { byId, setText } from "./dom.js";

const CONNECTION_TEXT = {
  offline: "You are offline. New messages will appear when the connection is back.",
  server: "The server is not responding. Retrying…",
  reconnecting: "Live updates are interrupted. Reconnecting…",
};

export function bannerView(store) {
  const banner = byId("banner");
  const announcer = byId("announcer");
  let errorTimer = null;
  let announced = null;

  function render({ connection, error, announcement }) {
    clearTimeout(errorTimer);
    const errorLeft = error ? error.until - Date.now() : 0;
    if (errorLeft > 0) errorTimer = setTimeout(() => render(store.state), errorLeft);
    const text = CONNECTION_TEXT[connection] ?? (errorLeft > 0 ? error.text : "");
    setText(banner, text);
    banner.hidden = !text;
    banner.dataset.kind = connection === "ok" ? "error" : connection;

    if (announcement === announced) return;
    announced = announcement;
    if (!announcement) return;
    // Emptied first, then filled: the same text twice is announced twice.
    announcer.textContent = "";
    setTimeout(() => {
      announcer.textContent = announcement.text;
    }, 50);
  }

  store.subscribe(render);
}
