/**
 * The chat page's service worker, served at /sw.js (web/views.py) so that it covers the page at /.
 * It shows the notifications the server pushes (docs/API.md, "Notifications for people who are
 * not looking"), one per conversation, and opens the conversation when one is clicked. It
 * handles no requests: the page works the same without it.
 *
 * A classic script, not a module: not every browser runs service workers that are modules.
 */

/** A notification per conversation: a newer one takes the place of the one shown, quietly.
 * push.js closes a conversation's notification by this tag once it is in view. */
const tagOf = (thread) => `thread-${thread}`;

// A newer version takes over at once: it keeps no caches that an older page could depend on.
self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("push", (event) => event.waitUntil(notify(event.data)));

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openConversation(event.notification.data?.thread));
});

/**
 * The push service changed this browser's subscription (Firefox does, now and then). This
 * worker holds no token to tell the server, so it subscribes again as before, and the page sends
 * the new subscription the next time it opens (push.js).
 */
self.addEventListener("pushsubscriptionchange", (event) => {
  const options = event.oldSubscription?.options;
  if (options) event.waitUntil(self.registration.pushManager.subscribe(options));
});

/** The push message `{thread, sender, count, preview}`, or null if it is not one. */
function readPush(data) {
  let payload;
  try {
    payload = data?.json();
  } catch {
    return null;
  }
  const { thread, sender, count, preview } = payload ?? {};
  const valid =
    Number.isInteger(thread) &&
    typeof sender?.username === "string" &&
    Number.isInteger(count) &&
    typeof preview === "string";
  return valid ? { thread, sender, count, preview } : null;
}

/** "Hi there", "Sent a file" (a message with files only), "3 new messages" over the newest one's
 * text. */
function bodyOf({ count, preview }) {
  if (count > 1) return preview ? `${count} new messages\n${preview}` : `${count} new messages`;
  return preview || "Sent a file";
}

function notify(data) {
  const push = readPush(data);
  // Browsers expect each push to show something, and show a notice of their own otherwise.
  if (!push) {
    return self.registration.showNotification("Chat", {
      body: "You have new messages.",
      tag: "chat",
    });
  }
  return self.registration.showNotification(push.sender.username, {
    body: bodyOf(push),
    tag: tagOf(push.thread),
    data: { thread: push.thread },
  });
}

/**
 * Opens conversation `thread` (none if not a number) in the chat page used last, or in a new
 * window at its address if none is open. Other pages of the site (the admin, the API docs) are
 * left as they are.
 */
async function openConversation(thread) {
  const path = Number.isInteger(thread) ? `/#/threads/${thread}` : "/";
  // Focused first, then the most recently focused.
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const chat = windows.find((client) => new URL(client.url).pathname === "/");
  if (!chat) return self.clients.openWindow(path);
  // A message rather than `navigate()`, which works only for pages this worker controls and
  // would load the page again; the page opens the conversation as its address would.
  if (Number.isInteger(thread)) chat.postMessage({ type: "notification.clicked", thread });
  return chat.focus();
}
