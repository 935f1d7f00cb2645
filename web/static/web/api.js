/**
 * The REST client: JSON requests with the access token, kept fresh before it expires.
 *
 * Tokens live in localStorage so a reload keeps the session. Refresh tokens rotate (the used one
 * is blacklisted), so two tabs must not refresh with the same one: a Web Lock serialises the
 * refresh across tabs, and whoever gets the lock first re-reads the stored pair, which another
 * tab may already have renewed.
 */

const STORAGE_KEY = "chat.tokens";
const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };

export class ApiError extends Error {
  constructor(status, data, retryAfter) {
    super(describe(status, data));
    this.name = "ApiError";
    this.status = status;
    this.data = data;
    this.retryAfter = retryAfter;
  }
}

/** The server could not be reached at all. */
export class NetworkError extends Error {
  constructor() {
    super("The server cannot be reached.");
    this.name = "NetworkError";
  }
}

/** The refresh token was refused: the user must log in again. */
export class SessionExpired extends Error {
  constructor() {
    super("Your session has expired. Please log in again.");
    this.name = "SessionExpired";
  }
}

/** What to tell the user about a failed request. */
export function messageFor(error) {
  if (error instanceof NetworkError) return "The server cannot be reached. Check your connection.";
  if (error instanceof ApiError && error.status === 429 && error.retryAfter) {
    return `Too many requests. Try again in ${error.retryAfter} s.`;
  }
  if (error instanceof ApiError || error instanceof SessionExpired) return error.message;
  console.error(error);
  return "Something went wrong. Please try again.";
}

export const isNotFound = (error) => error instanceof ApiError && error.status === 404;

function describe(status, data) {
  if (status === 429) return "Too many attempts. Please wait a moment and try again.";
  if (data && typeof data === "object") {
    if (typeof data.detail === "string") return data.detail;
    const messages = Object.values(data).flat().filter((item) => typeof item === "string");
    if (messages.length) return messages.join(" ");
  }
  if (status >= 500) return "The server had a problem. Please try again.";
  return `The request failed (${status}).`;
}

function readStored() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY));
  } catch {
    return null;
  }
}

let tokens = readStored();
let refreshing = null;
let refreshTimer = null;
const expiredListeners = [];
const renewedListeners = [];

/** `listener()` runs after this tab renewed the token pair. */
export function onTokensRenewed(listener) {
  renewedListeners.push(listener);
}

/** `listener(reason)` runs when the session ends: "expired", or "signed-out" in another tab. */
export function onSessionEnd(listener) {
  expiredListeners.push(listener);
}

function store(pair) {
  tokens = pair;
  if (pair) localStorage.setItem(STORAGE_KEY, JSON.stringify(pair));
  else localStorage.removeItem(STORAGE_KEY);
  scheduleRefresh();
}

function endSession(reason) {
  store(null);
  for (const listener of expiredListeners) listener(reason);
}

window.addEventListener("storage", (event) => {
  if (event.key !== STORAGE_KEY) return;
  const hadSession = Boolean(tokens);
  tokens = readStored();
  scheduleRefresh();
  if (hadSession && !tokens) for (const listener of expiredListeners) listener("signed-out");
});

function claims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload));
  } catch {
    return {};
  }
}

/** Milliseconds before expiry at which the access token is renewed: a quarter of its life,
 * at most a minute. */
function renewMargin(token) {
  const { exp = 0, iat = 0 } = claims(token);
  return Math.min(60_000, ((exp - iat) * 1000) / 4);
}

function isFresh(token) {
  const { exp = 0 } = claims(token);
  return exp * 1000 - Date.now() > renewMargin(token);
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!tokens) return;
  const { exp = 0 } = claims(tokens.access);
  const delay = Math.max(1000, exp * 1000 - Date.now() - renewMargin(tokens.access));
  refreshTimer = setTimeout(() => refresh().catch(() => {}), delay);
}
scheduleRefresh();

export const hasSession = () => Boolean(tokens);

/** A usable access token, renewed first when it is about to expire. */
export async function accessToken() {
  if (!tokens) throw new SessionExpired();
  if (isFresh(tokens.access)) return tokens.access;
  return (await refresh()).access;
}

/** Renews the pair because the server refused `rejected` (unless it is already replaced). */
export const renewTokens = (rejected) => refresh(rejected);

/** Renews the token pair. `rejected` is an access token the server refused: renew even if it
 * looks fresh, unless another tab has stored a different one meanwhile. */
function refresh(rejected = null) {
  refreshing ??= withLock(() => renew(rejected)).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function withLock(task) {
  return navigator.locks ? navigator.locks.request("chat.token-refresh", task) : task();
}

async function renew(rejected) {
  const stored = readStored();
  if (!stored) {
    endSession("expired");
    throw new SessionExpired();
  }
  if (stored.access !== rejected && isFresh(stored.access)) {
    store(stored);
    return stored;
  }
  let response;
  try {
    response = await fetch("/api/auth/token/refresh/", {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify({ refresh: stored.refresh }),
    });
  } catch {
    throw new NetworkError();
  }
  if (response.status === 401 || response.status === 400) {
    endSession("expired");
    throw new SessionExpired();
  }
  const data = await readJson(response);
  if (!response.ok) throw new ApiError(response.status, data, response.headers.get("Retry-After"));
  const pair = { access: data.access, refresh: data.refresh ?? stored.refresh };
  store(pair);
  for (const listener of renewedListeners) listener();
  return pair;
}

async function readJson(response) {
  if (response.status === 204 || response.status === 205) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * `api("/api/threads/", {method, body, headers, auth})`: the parsed JSON body, or throws
 * ApiError (an error status), NetworkError (no answer) or SessionExpired.
 */
export async function api(path, { method = "GET", body, headers = {}, auth = true } = {}) {
  const send = async (access) => {
    try {
      return await fetch(path, {
        method,
        headers: {
          Accept: "application/json",
          ...(body === undefined ? {} : JSON_HEADERS),
          ...(access ? { Authorization: `Bearer ${access}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new NetworkError();
    }
  };
  let access = auth ? await accessToken() : null;
  let response = await send(access);
  if (auth && response.status === 401) {
    access = (await refresh(access)).access;
    response = await send(access);
    if (response.status === 401) {
      endSession("expired");
      throw new SessionExpired();
    }
  }
  const data = await readJson(response);
  if (!response.ok) throw new ApiError(response.status, data, response.headers.get("Retry-After"));
  return data;
}

/**
 * `upload("/api/attachments/", file, {onProgress, signal})`: posts `file` as the form field
 * `file`; the parsed JSON answer, or throws as `api()` does (an AbortError once `signal` aborts).
 * XMLHttpRequest rather than fetch, which does not tell how much of a body has been sent:
 * `onProgress(sent, total)` follows it.
 */
export async function upload(path, file, { onProgress = () => {}, signal } = {}) {
  const send = (access) =>
    new Promise((resolve, reject) => {
      signal?.throwIfAborted();
      const request = new XMLHttpRequest();
      request.open("POST", path);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("Authorization", `Bearer ${access}`);
      request.upload.onprogress = (event) => onProgress(event.loaded, event.total);
      request.onload = () => resolve(request);
      request.onerror = () => reject(new NetworkError());
      request.onabort = () => reject(new DOMException("The upload was stopped.", "AbortError"));
      signal?.addEventListener("abort", () => request.abort(), { once: true });
      const form = new FormData();
      form.append("file", file);
      request.send(form);
    });
  let access = await accessToken();
  let request = await send(access);
  if (request.status === 401) {
    access = (await refresh(access)).access;
    onProgress(0, file.size); // sent again from its start
    request = await send(access);
    if (request.status === 401) {
      endSession("expired");
      throw new SessionExpired();
    }
  }
  let data = null;
  try {
    data = JSON.parse(request.responseText);
  } catch {
    // Not JSON (a proxy's error page): the status alone tells what failed.
  }
  const ok = request.status >= 200 && request.status < 300;
  if (!ok) throw new ApiError(request.status, data, request.getResponseHeader("Retry-After"));
  return data;
}

export async function logIn(username, password) {
  const pair = await api("/api/auth/token/", {
    method: "POST",
    body: { username, password },
    auth: false,
  });
  store({ access: pair.access, refresh: pair.refresh });
}

export async function register(username, password) {
  await api("/api/auth/register/", { method: "POST", body: { username, password }, auth: false });
  await logIn(username, password);
}

/** Blacklists the refresh token on the server (best effort) and forgets the pair here. */
export async function logOut() {
  const pair = tokens;
  try {
    if (pair) await api("/api/auth/logout/", { method: "POST", body: { refresh: pair.refresh } });
  } finally {
    store(null);
  }
}

/** A random key for `Idempotency-Key` (crypto.randomUUID needs a secure context). */
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
