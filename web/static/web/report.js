/**
 * The dialog that reports a message sent to me: a reason (spam, harassment, inappropriate,
 * other), an optional comment of up to 1000 characters with its counter, then "Reported".
 * What the report was is the server's to keep: the dialog holds only the form being filled in.
 */

import { messageFor } from "./api.js";
import { byId, setText } from "./dom.js";

const COMMENT_MAX = 1000;

export function reportView(sync) {
  const dialog = byId("report-dialog");
  const form = byId("report-form");
  const comment = byId("report-comment");
  const submit = byId("report-submit");
  const done = byId("report-done");
  let message = null; // the message being reported
  let sending = false;

  function count() {
    const length = comment.value.length;
    setText(byId("report-count"), `${length} / ${COMMENT_MAX}`);
  }

  /** The form, or once sent the confirmation, which then names the dialog. */
  function showDone(sent) {
    form.hidden = sent;
    done.hidden = !sent;
    dialog.setAttribute("aria-labelledby", sent ? "report-done-title" : "report-title");
  }

  function open(reported) {
    message = reported;
    form.reset();
    showDone(false);
    count();
    setText(byId("report-error"), "");
    setText(byId("report-quote"), reported.text);
    submit.disabled = false;
    dialog.showModal();
    form.querySelector("input[name=reason]").focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = new FormData(form).get("reason");
    if (!message || !reason || sending) return;
    sending = true;
    submit.disabled = true;
    setText(byId("report-error"), "");
    try {
      await sync.reportMessage(message, reason, comment.value.trim());
      showDone(true);
      byId("report-close").focus();
    } catch (error) {
      setText(byId("report-error"), messageFor(error));
      submit.disabled = false;
    } finally {
      sending = false;
    }
  });
  comment.addEventListener("input", count);
  byId("report-cancel").addEventListener("click", () => dialog.close());
  byId("report-close").addEventListener("click", () => dialog.close());

  return { open };
}
