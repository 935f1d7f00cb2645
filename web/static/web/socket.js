/**
 * The live connection, `/ws/chat/?token=<access>` (see docs/API.md): reconnects with exponential
 * backoff, pings to notice a dead link, and reports each change of state so the page can show
 * it and catch up through REST after a reconnect.
 */

const PING_EVERY_MS = 25_000;
const SILENCE_LIMIT_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;
const AUTH_FAILED = 4401;

export class LiveSocket {
  /**
   * @param {object} hooks
   * @param {() => Promise<string>} hooks.token a fresh access token (may throw)
   * @param {(event: object) => void} hooks.onEvent each server event except pong
   * @param {(state: "open" | "closed") => void} hooks.onState
   * @param {(token: string) => Promise<void>} hooks.onAuthFailed that token was refused
   */
  constructor({ token, onEvent, onState, onAuthFailed }) {
    Object.assign(this, { token, onEvent, onState, onAuthFailed });
    this.socket = null;
    this.attempt = 0;
    this.stopped = true;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastHeard = 0;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.drop(1000);
  }

  get isOpen() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  send(event) {
    if (this.isOpen) this.socket.send(JSON.stringify(event));
  }

  /** Reconnects with a fresh token before the server closes the socket for the old one. */
  renew() {
    if (this.stopped || !this.isOpen) return;
    this.socket.handled = true;
    this.drop(1000);
    this.connect();
  }

  /** Try again now (the browser came back online), forgetting the backoff. */
  retryNow() {
    if (this.stopped || this.socket) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.connect();
  }

  async connect() {
    if (this.stopped || this.socket) return;
    let token;
    try {
      token = await this.token();
    } catch (error) {
      if (error.name !== "SessionExpired") this.retryLater();
      return;
    }
    if (this.stopped || this.socket) return;
    const url = new URL("/ws/chat/", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", token);
    const socket = new WebSocket(url);
    socket.token = token;
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.lastHeard = Date.now();
      this.pingTimer = setInterval(() => this.keepAlive(), PING_EVERY_MS);
      this.onState("open");
    });
    socket.addEventListener("message", (message) => {
      this.lastHeard = Date.now();
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event.type !== "pong") this.onEvent(event);
    });
    socket.addEventListener("close", (close) => this.closed(socket, close.code));
  }

  keepAlive() {
    if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS) {
      const socket = this.socket;
      this.drop(4000);
      this.closed(socket, 1006);
    } else {
      this.send({ type: "ping" });
    }
  }

  drop(code) {
    clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(code);
  }

  async closed(socket, code) {
    if (socket.handled) return;
    socket.handled = true;
    if (socket === this.socket) {
      clearInterval(this.pingTimer);
      this.socket = null;
    }
    if (this.stopped) return;
    this.onState("closed");
    if (code === AUTH_FAILED) {
      try {
        await this.onAuthFailed(socket.token);
      } catch (error) {
        if (error.name === "SessionExpired") return;
      }
    }
    this.retryLater();
  }

  retryLater() {
    clearTimeout(this.retryTimer);
    const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), backoff * (0.5 + Math.random() / 2));
  }
}
