/**
 * The list of conversations, newest activity first, each with its last message, unread badge,
 * the other person's online dot and a bell for a muted one; and the unread total in the page
 * title.
 */

import { avatar, byId, h, pressWatch, shortTime } from "./dom.js";
import { filesSummary, isMuted, otherOf } from "./store.js";

const MUTE_CHECK_MS = 60_000;

export function threadListView(store, sync) {
  const list = byId("thread-list");
  let shown = {};

  byId("more-threads").addEventListener("click", sync.loadMoreThreads);
  // A mute that runs out shows so without an event: the list is drawn again now and then.
  let mutedShown = 0;
  setInterval(() => {
    const muted = [...store.state.threads.values()].filter((thread) => isMuted(thread)).length;
    if (muted !== mutedShown) {
      shown = {};
      render(store.state);
    }
  }, MUTE_CHECK_MS);

  // An event arriving under a pressed link (someone coming online) swallowed the click that
  // opens a conversation.
  const pressed = pressWatch(list, () => render(store.state));

  function render(state) {
    document.title = state.unread ? `(${state.unread}) Chat` : "Chat";
    if (pressed()) return;
    const { me, threads, threadsLoaded, moreThreads } = state;
    const openId = state.conversation?.threadId;
    const next = { me, threads, threadsLoaded, moreThreads, openId };
    if (Object.keys(next).every((key) => next[key] === shown[key])) return;
    shown = next;

    // The list is drawn anew: the link that had the focus gets it back.
    const focusedId = list.contains(document.activeElement)
      ? document.activeElement.dataset.threadId
      : null;
    const sorted = me
      ? [...threads.values()].sort(
          (a, b) => Date.parse(b.updated) - Date.parse(a.updated) || b.id - a.id,
        )
      : [];
    list.replaceChildren(...sorted.map((thread) => threadItem(thread, me, openId)));
    mutedShown = sorted.filter((thread) => isMuted(thread)).length;
    byId("threads-empty").hidden = !threadsLoaded || sorted.length > 0;
    byId("more-threads").hidden = !moreThreads;
    if (focusedId) list.querySelector(`[data-thread-id="${focusedId}"]`)?.focus();
  }

  store.subscribe(render);
}

/** Files sent alone: a paperclip and what they are called. */
const filesPreview = ({ attachments }) => [
  h("span", { class: "icon paperclip", "aria-hidden": "true" }),
  ` ${filesSummary(attachments)}`,
];

function threadItem(thread, me, openId) {
  const other = otherOf(thread, me);
  const last = thread.last_message;
  let preview = "No messages yet";
  if (last?.deleted) preview = "Message deleted";
  else if (last?.text) preview = last.sender === me.id ? `You: ${last.text}` : last.text;
  else if (last) preview = [last.sender === me.id ? "You: " : null, ...filesPreview(last)];
  return h(
    "li",
    {},
    h(
      "a",
      {
        class: `thread${thread.unread_count ? " unread" : ""}`,
        href: `#/threads/${thread.id}`,
        "aria-current": thread.id === openId ? "page" : null,
        dataset: { threadId: thread.id },
      },
      avatar(other.username, other.online),
      h(
        "span",
        { class: "thread-main" },
        h(
          "span",
          { class: "thread-name" },
          other.username,
          other.online ? h("span", { class: "visually-hidden" }, " (online)") : null,
        ),
        h("span", { class: "preview" }, preview),
      ),
      h(
        "span",
        { class: "thread-side" },
        last ? h("time", { datetime: last.created }, shortTime(last.created)) : null,
        isMuted(thread)
          ? h(
              "span",
              { class: "muted-icon", title: "Muted" },
              h("span", { class: "icon bell-off", "aria-hidden": "true" }),
              h("span", { class: "visually-hidden" }, "Muted"),
            )
          : null,
        thread.unread_count
          ? h(
              "span",
              { class: "badge" },
              String(thread.unread_count),
              h("span", { class: "visually-hidden" }, " unread"),
            )
          : null,
      ),
    ),
  );
}
