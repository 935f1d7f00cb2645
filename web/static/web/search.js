/**
 * Searching my messages: the search box over the thread list, and the results in the list's
 * place while a search is shown, each with its matched words marked. A result is a plain link,
 * `#/threads/<id>/messages/<message id>`, that opens its conversation at that message.
 *
 * The server gives the matched words as [start, end) offsets in code points (docs/API.md,
 * "Search"); JavaScript strings count UTF-16 units, so the text is cut as an array of code points.
 * The marks are <mark> elements around text nodes: nothing taken from a message is parsed as HTML.
 */

import { avatar, byId, fullTime, h, setText, shortTime } from "./dom.js";
import { otherOf } from "./store.js";

const SEARCH_DELAY_MS = 250;
const SNIPPET_CHARS = 160; // longer texts show this much around their first match
const SNIPPET_LEAD = 40; // of it, before that match

export function searchView(store, sync) {
  const form = byId("message-search-form");
  const input = byId("message-search");
  const clearButton = byId("clear-search");
  const here = byId("search-here");
  const hereLabel = byId("search-here-label");
  const view = byId("search-view");
  const list = byId("search-results");
  const status = byId("search-status");
  const more = byId("more-results");
  let timer = null;
  let shown = {};

  /** The search the box and the option ask for now: `{query, thread}`, or null for none. */
  function wanted() {
    const query = input.value.trim();
    if (!query) return null;
    const open = store.state.conversation?.threadId ?? null;
    return { query, thread: here.checked && open !== null ? open : null };
  }

  function find() {
    clearTimeout(timer);
    const next = wanted();
    const current = store.state.search;
    if (!next) {
      if (current) sync.endSearch();
      return;
    }
    // The same search again (a space typed, Enter): the results shown stand.
    if (current && current.query === next.query && current.thread === next.thread) return;
    sync.search(next.query, next.thread);
  }

  function leave() {
    clearTimeout(timer);
    input.value = "";
    sync.endSearch();
    input.focus();
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    clearButton.hidden = !input.value;
    // Emptied: the thread list comes back at once.
    timer = setTimeout(find, input.value.trim() ? SEARCH_DELAY_MS : 0);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    find();
  });
  here.addEventListener("change", find);
  clearButton.addEventListener("click", leave);
  more.addEventListener("click", () => sync.searchMore());
  // Escape leaves the search, from the box or from the results.
  for (const element of [input, view]) {
    element.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || (!store.state.search && !input.value)) return;
      event.preventDefault();
      leave();
    });
  }

  store.subscribe((state) => {
    const { search, threads, me, signedIn } = state;
    const openId = state.conversation?.threadId ?? null;
    const next = { search, threads, me, openId };
    if (Object.keys(next).every((key) => next[key] === shown[key])) return;
    shown = next;

    if (!signedIn && input.value) input.value = "";
    clearButton.hidden = !input.value && !search;
    hereLabel.hidden = openId === null;
    if (openId !== null) {
      const thread = threads.get(openId);
      const name = thread && me ? otherOf(thread, me).username : "";
      setText(byId("search-here-text"), name ? `Only with ${name}` : "Only in this conversation");
    }
    view.hidden = !search;
    byId("threads-pane").hidden = Boolean(search);
    if (!search) {
      list.replaceChildren();
      status.textContent = "";
      more.hidden = true;
      return;
    }
    const focusedId = list.contains(document.activeElement)
      ? document.activeElement.dataset.messageId
      : null;
    list.replaceChildren(...search.results.map((result) => resultItem(result, state)));
    if (focusedId) list.querySelector(`[data-message-id="${focusedId}"]`)?.focus();
    setText(status, describe(search, state));
    more.hidden = !search.hasMore || search.loading;
  });
}

function describe(search, { threads, me }) {
  const thread = search.thread === null ? null : threads.get(search.thread);
  const where = thread ? ` with ${otherOf(thread, me).username}` : "";
  if (search.error) return search.error;
  if (search.loading && !search.results.length) return "Searching…";
  if (!search.results.length) return `No messages${where} match “${search.query}”.`;
  const count = search.count ?? search.results.length;
  const found = `${count} ${count === 1 ? "message" : "messages"}${where} found.`;
  return search.loading ? `${found} Loading more…` : found;
}

function resultItem({ message, highlights }, { threads, me, conversation }) {
  const thread = threads.get(message.thread);
  const name = thread ? otherOf(thread, me).username : "…";
  const mine = message.sender === me.id;
  const current = conversation?.threadId === message.thread && conversation.target === message.id;
  return h(
    "li",
    {},
    h(
      "a",
      {
        class: "thread result",
        href: `#/threads/${message.thread}/messages/${message.id}`,
        "aria-current": current ? "true" : null,
        dataset: { messageId: message.id },
      },
      avatar(name),
      h(
        "span",
        { class: "thread-main" },
        h(
          "span",
          { class: "result-head" },
          h("span", { class: "thread-name" }, name),
          h(
            "time",
            { datetime: message.created, title: fullTime(message.created) },
            shortTime(message.created),
          ),
        ),
        h(
          "span",
          { class: "result-text" },
          mine ? h("span", { class: "result-sender" }, "You: ") : null,
          highlighted(message.text, highlights),
        ),
      ),
    ),
  );
}

/**
 * `text` as text nodes and <mark> elements for `highlights` ([start, end) offsets in code points);
 * a long text as the part around its first match, "…" marking what is left out.
 */
export function highlighted(text, highlights) {
  const chars = Array.from(text);
  const ranges = highlights
    .map(([start, end]) => [Math.max(0, start), Math.min(chars.length, end)])
    .filter(([start, end]) => start < end)
    .sort((a, b) => a[0] - b[0]);
  let from = 0;
  let to = chars.length;
  if (chars.length > SNIPPET_CHARS) {
    from = Math.max(0, Math.min((ranges[0]?.[0] ?? 0) - SNIPPET_LEAD, to - SNIPPET_CHARS));
    to = from + SNIPPET_CHARS;
  }
  const nodes = [];
  const plain = (start, end) => {
    if (start < end) nodes.push(document.createTextNode(chars.slice(start, end).join("")));
  };
  if (from > 0) nodes.push(document.createTextNode("…"));
  let at = from;
  for (const [start, end] of ranges) {
    const markFrom = Math.max(start, at);
    const markTo = Math.min(end, to);
    if (markFrom >= markTo) continue;
    plain(at, markFrom);
    nodes.push(h("mark", {}, chars.slice(markFrom, markTo).join("")));
    at = markTo;
  }
  plain(at, to);
  if (to < chars.length) nodes.push(document.createTextNode("…"));
  return nodes;
}
