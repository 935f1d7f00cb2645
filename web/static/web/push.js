/**
 * Notifications for people who are not looking (docs/API.md): this browser's push subscription,
 * made when the user turns notifications on and sent to the server, taken back when they turn
 * them off or their session ends; what the settings dialog shows of it, `state.push`; and the
 * notifications of a conversation closed once it is in view.
 *
 * The service worker, /sw.js (sw.js beside this file), shows what the server pushes. A page asks
 * for the browser's permission only when the user turns notifications on, never by itself.
 */

import { ApiError, NetworkError, api, messageFor } from "./api.js";

const WORKER = "/sw.js";
const SUBSCRIPTIONS = "/api/push/subscriptions/";
// The id of the user this browser's subscription was made for. Another user who signs in here
// must not be sent the notifications of someone whose session ended without a log-out.
const OWNER_KEY = "chat.push-owner";

/** What keeps this page from notifying whatever the user does: "insecure" (service workers need
 * https, or an address of this machine), "unsupported"; else null. */
function limitation() {
  if (!window.isSecureContext) return "insecure";
  const able = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  return able ? null : "unsupported";
}

/** The bytes of a base64url text (the server's application server key). */
function decode(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

/** Whether `subscription` was made with `key` (bytes); a browser that does not say is trusted. */
function madeWith(subscription, key) {
  const used = subscription.options?.applicationServerKey;
  if (!used) return true;
  const bytes = new Uint8Array(used);
  return bytes.length === key.length && bytes.every((byte, index) => byte === key[index]);
}

/** The registration of the service worker, if it was ever registered. */
const registration = () => navigator.serviceWorker.getRegistration("/");

async function currentSubscription() {
  return (await registration())?.pushManager.getSubscription() ?? null;
}

function failureText(error) {
  // The browser's own failures: no push service (some browsers have none), or a refusal.
  if (error instanceof DOMException) {
    return `This browser could not turn notifications on: ${error.message}`;
  }
  return messageFor(error);
}

/**
 * `state.push` once known: `status` is "unsupported", "insecure", "unavailable" (the server sends
 * no notifications), "blocked" (the browser's settings refuse them), "off" or "on"; `busy` while
 * turning them on or off; `error` what that failed with.
 */
export function createPush(store) {
  let key = null; // the server's application server key, as bytes, once known

  const set = (status, { busy = false, error = "" } = {}) =>
    store.apply({ type: "push.changed", status, busy, error });

  /** The server's key, or null if it sends no notifications. */
  async function serverKey() {
    if (key) return key;
    try {
      key = decode((await api("/api/push/key/")).public_key);
    } catch (error) {
      // 503: no key configured; 404: a server from before notifications.
      if (error instanceof ApiError && [404, 503].includes(error.status)) return null;
      throw error;
    }
    return key;
  }

  function send(subscription) {
    return api(SUBSCRIPTIONS, { method: "POST", body: subscription.toJSON() });
  }

  /** Takes `subscription` back: the browser's first, which makes the push service refuse it
   * whatever the server keeps, then the server's (`tellServer`, while a token is at hand). */
  async function forget(subscription, { tellServer }) {
    localStorage.removeItem(OWNER_KEY);
    const { endpoint } = subscription;
    await subscription.unsubscribe();
    if (tellServer) {
      await api(`${SUBSCRIPTIONS}?${new URLSearchParams({ endpoint })}`, { method: "DELETE" });
    }
  }

  /** The status as this browser has it, without asking the server. */
  async function localStatus() {
    const limited = limitation();
    if (limited) return limited;
    if (Notification.permission === "denied") return "blocked";
    return (await currentSubscription()) ? "on" : "off";
  }

  /**
   * After signing in: whether notifications are on here, and the server in step with that. It is
   * sent the subscription again (the push service may have changed it, or the server dropped it);
   * one made for someone else, or with a key the server no longer uses, is taken back, and in
   * the second case made anew.
   */
  async function start() {
    const me = store.state.me;
    const limited = limitation();
    if (!me) return;
    if (limited) return set(limited);
    try {
      let subscription = await currentSubscription();
      const someoneElses = localStorage.getItem(OWNER_KEY) !== String(me.id);
      if (subscription && (someoneElses || Notification.permission !== "granted")) {
        await forget(subscription, { tellServer: !someoneElses });
        subscription = null;
      }
      const serverKeyBytes = await serverKey();
      if (store.state.me !== me) return;
      if (!serverKeyBytes) return set("unavailable");
      if (subscription && !madeWith(subscription, serverKeyBytes)) {
        await forget(subscription, { tellServer: true });
        subscription = await subscribe(serverKeyBytes);
      }
      if (subscription) await send(subscription);
    } catch (error) {
      // The server is told the next time the page opens; until then it is as it was.
      if (!(error instanceof NetworkError)) console.warn("Notifications:", error);
    }
    if (store.state.me === me) set(await localStatus());
  }

  async function subscribe(serverKeyBytes) {
    const worker = await navigator.serviceWorker.register(WORKER, { scope: "/" });
    await navigator.serviceWorker.ready;
    const subscription = await worker.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: serverKeyBytes,
    });
    localStorage.setItem(OWNER_KEY, String(store.state.me.id));
    return subscription;
  }

  /** Turns notifications on, on the user's click: asks the browser's permission if it was not
   * given, subscribes, and sends the subscription to the server. */
  async function turnOn() {
    const me = store.state.me;
    set("off", { busy: true });
    // Asked first: browsers ask only while the click is fresh.
    const permission = await Notification.requestPermission();
    if (permission !== "granted") {
      const error = permission === "denied" ? "" : "Notifications were not allowed.";
      return set(permission === "denied" ? "blocked" : "off", { error });
    }
    let subscription = null;
    try {
      const serverKeyBytes = await serverKey();
      if (!serverKeyBytes) return set("unavailable");
      subscription = await subscribe(serverKeyBytes);
      await send(subscription);
    } catch (error) {
      // Not on at all rather than on in the browser only.
      await subscription?.unsubscribe().catch(() => {});
      localStorage.removeItem(OWNER_KEY);
      if (store.state.me === me) set(await localStatus(), { error: failureText(error) });
      return;
    }
    if (store.state.me === me) set("on");
  }

  /** Turns notifications off: this browser's subscription goes, here and on the server. */
  async function turnOff() {
    set("on", { busy: true });
    let error = "";
    try {
      const subscription = await currentSubscription();
      if (subscription) await forget(subscription, { tellServer: true });
    } catch (failure) {
      error = failureText(failure);
    }
    set(await localStatus(), { error });
  }

  /**
   * The session ends: this browser stops receiving its user's notifications, so that whoever
   * uses it next does not see them. `tellServer` before a log-out, while the token still works;
   * a session that expired, or ended in another tab, can only take back the browser's part,
   * which is enough (the push service refuses the endpoint, and the server then drops it).
   */
  async function leave({ tellServer = false } = {}) {
    if (limitation()) return;
    try {
      const subscription = await currentSubscription();
      if (subscription) await forget(subscription, { tellServer });
    } catch (error) {
      console.warn("Notifications:", error);
    }
  }

  /** The settings dialog opens: permission may have changed in the browser's settings, and
   * another tab may have turned notifications on or off. */
  async function refresh() {
    const push = store.state.push;
    if (!push || push.busy || push.status === "unavailable") return;
    const status = await localStatus();
    if (store.state.push === push) set(status);
  }

  let shown = null; // the thread in view, as last told
  /** Thread `thread` is in view (null: none): its notifications, read now, go. */
  async function inView(thread) {
    if (thread === shown) return;
    shown = thread;
    if (thread === null || limitation()) return;
    const worker = await registration();
    // The tag sw.js gives a conversation's notifications.
    const notifications = (await worker?.getNotifications({ tag: `thread-${thread}` })) ?? [];
    for (const notification of notifications) notification.close();
  }

  return { start, turnOn, turnOff, leave, refresh, inView };
}
