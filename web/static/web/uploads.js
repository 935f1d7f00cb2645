/**
 * Files for the next message: chosen with the composer's attach button, dropped on the
 * conversation, or pasted into the composer; each uploads at once (sync.js), and shows above the
 * composer as a chip with its name, size and progress, then its thumbnail, or why it failed; each
 * can be removed. Rendered from the open conversation's `uploads` in the store.
 */

import { byId, h, setText } from "./dom.js";
import { SIZE_LIMIT_TEXT, fileSize } from "./files.js";

export function uploadsView(store, sync) {
  const list = byId("upload-list");
  const picker = byId("attach-input");
  const attachButton = byId("attach");
  const dropZone = byId("drop-zone");
  const conversationPane = byId("conversation");
  const chips = new Map(); // upload key → {value: upload, element}
  let shown = null; // the uploads on screen

  const hint = `Images, PDF or text files. ${SIZE_LIMIT_TEXT}`;
  setText(byId("attach-hint"), hint);
  attachButton.title = hint;
  setText(byId("drop-limit"), SIZE_LIMIT_TEXT);

  /** Files are taken while the composer is there to send them: not while it edits a message,
   * nor while I block the other person (their notice takes its place). */
  const taking = () => {
    const conversation = store.state.conversation;
    return Boolean(conversation) && !conversation.editing && !byId("composer").hidden;
  };

  function render({ conversation }) {
    attachButton.disabled = Boolean(conversation?.editing);
    const uploads = conversation?.uploads ?? null;
    if (uploads === shown) return;
    shown = uploads;
    const wanted = uploads ?? new Map();
    // A chip drawn anew, or removed, takes the focus with it: its new one, or the composer, gets
    // it back.
    const focused = [...chips].find(([, item]) => item.element.contains(document.activeElement));
    for (const [key, item] of chips) {
      const upload = wanted.get(key);
      if (upload === item.value) continue;
      if (upload && onlyProgressed(item.value, upload)) {
        item.element.querySelector("progress").value = upload.sent;
        item.value = upload;
        continue;
      }
      item.element.remove();
      chips.delete(key);
    }
    // In order, moving only those out of place: a chip moved would lose the focus.
    let cursor = list.firstElementChild;
    for (const [key, upload] of wanted) {
      if (!chips.has(key)) chips.set(key, { value: upload, element: chip(key, upload) });
      const { element } = chips.get(key);
      if (element === cursor) cursor = cursor.nextElementSibling;
      else list.insertBefore(element, cursor);
    }
    list.hidden = wanted.size === 0;
    if (!focused) return;
    const [key] = focused;
    if (chips.has(key)) chips.get(key).element.querySelector(".remove").focus();
    else byId("message-input").focus();
  }

  function chip(key, { name, size, sent, attachment, error }) {
    const state = error ? "failed" : attachment ? "done" : "uploading";
    return h(
      "li",
      { class: `upload ${state}`, dataset: { state } },
      attachment?.thumbnail_url
        ? h("img", { class: "upload-thumbnail", src: attachment.thumbnail_url, alt: "" })
        : h("span", { class: "icon file", "aria-hidden": "true" }),
      h(
        "span",
        { class: "upload-main" },
        h("span", { class: "upload-name" }, name),
        h("span", { class: "upload-size" }, fileSize(size)),
        state === "uploading"
          ? h("progress", { max: size, value: sent, "aria-label": `Uploading ${name}` })
          : null,
        error ? h("span", { class: "upload-error", role: "alert" }, error) : null,
      ),
      h(
        "button",
        {
          type: "button",
          class: "remove",
          "aria-label": `Remove ${name}`,
          onclick: () => sync.removeUpload(key),
        },
        h("span", { "aria-hidden": "true" }, "×"),
      ),
    );
  }

  attachButton.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    sync.attach(picker.files);
    // The same file may be chosen again, after it was removed.
    picker.value = "";
  });

  byId("message-input").addEventListener("paste", (event) => {
    const files = event.clipboardData?.files;
    if (!files?.length || !taking()) return;
    event.preventDefault();
    sync.attach(files);
  });

  // Files dragged over the conversation are always caught: let through, the browser would
  // leave the chat to open them.
  const carriesFiles = (event) => event.dataTransfer?.types.includes("Files");
  conversationPane.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = taking() ? "copy" : "none";
    dropZone.hidden = !taking();
  });
  conversationPane.addEventListener("dragleave", (event) => {
    if (!conversationPane.contains(event.relatedTarget)) dropZone.hidden = true;
  });
  conversationPane.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dropZone.hidden = true;
    if (taking()) sync.attach(event.dataTransfer.files);
  });

  store.subscribe(render);
}

/** Whether `after` differs from `before` in bytes sent alone, so its progress bar moves. */
const onlyProgressed = (before, after) =>
  before.sent !== after.sent &&
  ["name", "size", "attachment", "error"].every((field) => before[field] === after[field]);
