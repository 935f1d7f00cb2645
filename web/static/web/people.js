/** Finding people by username, and starting a conversation with one of them. */

import { messageFor } from "./api.js";
import { avatar, byId, h } from "./dom.js";

const SEARCH_DELAY_MS = 250;

export function peopleView(sync) {
  const search = byId("user-search");
  const people = byId("people");
  const status = byId("people-status");
  let timer = null;
  let sequence = 0; // only the latest search's answer is shown

  function clear() {
    sequence += 1;
    search.value = "";
    people.replaceChildren();
    people.hidden = true;
    status.textContent = "";
  }

  async function find() {
    const query = search.value.trim();
    const current = ++sequence;
    if (!query) return clear();
    try {
      const found = await sync.findPeople(query);
      if (current !== sequence) return;
      people.replaceChildren(...found.map(person));
      people.hidden = found.length === 0;
      status.textContent = found.length
        ? `${found.length} ${found.length === 1 ? "person" : "people"} found.`
        : `Nobody matches “${query}”.`;
    } catch (error) {
      if (current === sequence) status.textContent = messageFor(error);
    }
  }

  function person(user) {
    return h(
      "li",
      {},
      h(
        "button",
        { type: "button", class: "person", onclick: () => start(user) },
        avatar(user.username),
        h("span", { class: "visually-hidden" }, "Start a conversation with "),
        h("span", { class: "person-name" }, user.username),
        h("span", { class: "person-action", "aria-hidden": "true" }, "Chat →"),
      ),
    );
  }

  async function start(user) {
    try {
      const thread = await sync.startThread(user);
      clear();
      window.location.hash = `#/threads/${thread.id}`;
    } catch (error) {
      status.textContent = messageFor(error);
    }
  }

  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(find, SEARCH_DELAY_MS);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Escape") clear();
  });
  byId("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    find();
  });
}
