/**
 * The log-in and registration form, shown while nobody is signed in; the name of whoever is, and
 * the log-out button.
 */

import { ApiError, logIn, logOut, messageFor, register } from "./api.js";
import { byId, setText } from "./dom.js";

/**
 * @param {object} session
 * @param {() => Promise<void>} session.enter opens the chat once the tokens are stored
 * @param {(notice: string) => void} session.leave closes it
 * @param {() => Promise<void>} session.beforeLogOut runs on log-out while the tokens still work
 */
export function loginView(store, { enter, leave, beforeLogOut }) {
  let registering = false;
  let signedIn = null; // as shown

  function setMode(registeringNow) {
    registering = registeringNow;
    byId("login-title").textContent = registering ? "Create your Chat account" : "Log in to Chat";
    byId("login-submit").textContent = registering ? "Create account" : "Log in";
    byId("switch-text").textContent = registering ? "Already have an account?" : "New here?";
    byId("login-switch").textContent = registering ? "Log in instead" : "Create an account";
    byId("login-password").autocomplete = registering ? "new-password" : "current-password";
    byId("password-hint").hidden = !registering;
    byId("login-error").textContent = "";
  }

  async function submit(event) {
    event.preventDefault();
    const username = byId("login-username").value.trim();
    const password = byId("login-password").value;
    const error = byId("login-error");
    if (!username || !password) {
      error.textContent = "Enter a username and a password.";
      return;
    }
    const button = byId("login-submit");
    button.disabled = true;
    error.textContent = "";
    byId("login-notice").textContent = "";
    try {
      if (registering) await register(username, password);
      else await logIn(username, password);
      byId("login-password").value = "";
      await enter();
    } catch (failure) {
      error.textContent =
        failure instanceof ApiError && failure.status === 401
          ? "Wrong username or password."
          : messageFor(failure);
    } finally {
      button.disabled = false;
    }
  }

  byId("login-form").addEventListener("submit", submit);
  byId("login-switch").addEventListener("click", () => {
    setMode(!registering);
    byId("login-username").focus();
  });
  byId("logout").addEventListener("click", async () => {
    try {
      await beforeLogOut();
      await logOut();
    } catch {
      // The tokens are forgotten here whatever the server said.
    }
    leave("You have logged out.");
  });

  store.subscribe((state) => {
    setText(byId("me-name"), state.me?.username ?? "");
    if (state.signedIn === signedIn) return;
    signedIn = state.signedIn;
    byId("chat-view").hidden = !signedIn;
    byId("login-view").hidden = signedIn;
    if (signedIn) return;
    setMode(false);
    byId("login-notice").textContent = state.signedOutNotice;
    byId("login-password").value = "";
    byId("login-username").focus();
  });
}
