/**
 * The chat page: makes the store, the link to the server (sync.js) and the views, and ties the
 * address bar and the window's events to them. docs/API.md describes the server it talks to.
 */

import { hasSession, onSessionEnd, onTokensRenewed } from "./api.js";
import { bannerView } from "./banner.js";
import { conversationView } from "./conversation.js";
import { loginView } from "./login.js";
import { peopleView } from "./people.js";
import { createPush } from "./push.js";
import { reportView } from "./report.js";
import { safetyView } from "./safety.js";
import { searchView } from "./search.js";
import { settingsView } from "./settings.js";
import { Store } from "./store.js";
import { createSync } from "./sync.js";
import { threadListView } from "./threadlist.js";
import { uploadsView } from "./uploads.js";

const store = new Store();
const sync = createSync(store);
const push = createPush(store);

/** `#/threads/<id>` opens that conversation: the links of the thread list are plain links.
 * `#/threads/<id>/messages/<message id>` (a search result) opens it at that message; the address
 * then names the conversation only, so that the same result can be opened again. */
function route() {
  const { me, conversation } = store.state;
  if (!me) return;
  const match = window.location.hash.match(/^#\/threads\/(\d+)(?:\/messages\/(\d+))?$/);
  const id = match ? Number(match[1]) : null;
  if (match?.[2]) {
    window.history.replaceState(null, "", `#/threads/${id}`);
    sync.openConversation(id, Number(match[2]));
    return;
  }
  if (id === (conversation?.threadId ?? null)) return;
  if (id) sync.openConversation(id);
  else sync.closeConversation();
}

/** When the open conversation closes by itself (deleted, not found) or the session ends, the
 * address stops naming it. */
let routedId = null;
function followAddress({ signedIn, conversation }) {
  const id = conversation?.threadId ?? null;
  const { hash, pathname } = window.location;
  if (!signedIn && hash) window.history.replaceState(null, "", pathname);
  else if (routedId && !id && hash === `#/threads/${routedId}`) {
    window.history.replaceState(null, "", "#/");
  }
  routedId = id;
}

/** The thread in view goes to the server as it changes (the conversation, the window's focus or
 * visibility); its notifications, read now, go too. */
function viewChanged() {
  sync.sendView();
  push.inView(sync.inView());
}

/** A notification was clicked (sw.js): its conversation opens as its address would. */
function notificationClicked({ data }) {
  if (data?.type === "notification.clicked" && Number.isInteger(data.thread)) {
    window.location.hash = `#/threads/${data.thread}`;
  }
}

const enter = () =>
  sync.enter().then(() => {
    push.start();
    route();
  });

/** The session ended without a log-out here: this browser's notifications go with it. */
function sessionEnded(notice) {
  sync.leave(notice);
  push.leave();
}

bannerView(store);
loginView(store, {
  enter,
  leave: sync.leave,
  // Before the tokens go: the server is told to stop notifying this browser.
  beforeLogOut: () => push.leave({ tellServer: true }),
});
// Before the conversation's: closing one on a phone focuses its link in the list drawn anew.
threadListView(store, sync);
peopleView(sync);
searchView(store, sync);
conversationView(store, sync, reportView(sync));
uploadsView(store, sync);
safetyView(store, sync);
settingsView(store, sync, push);
store.subscribe(followAddress);
store.subscribe(viewChanged);

window.addEventListener("hashchange", route);
window.addEventListener("focus", sync.markSeen);
document.addEventListener("visibilitychange", sync.markSeen);
window.addEventListener("focus", viewChanged);
window.addEventListener("blur", viewChanged);
document.addEventListener("visibilitychange", viewChanged);
document.addEventListener("visibilitychange", sync.visibilityChanged);
navigator.serviceWorker?.addEventListener("message", notificationClicked);
window.addEventListener("offline", sync.wentOffline);
window.addEventListener("online", sync.cameOnline);
onTokensRenewed(sync.tokensRenewed);
onSessionEnd((reason) =>
  sessionEnded(
    reason === "expired"
      ? "Your session has expired. Please log in again."
      : "You were logged out in another window.",
  ),
);

if (hasSession()) enter();
else sessionEnded();
