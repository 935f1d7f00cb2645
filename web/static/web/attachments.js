/**
 * A message's files on screen: images as thumbnails that open the viewer, other files as download
 * links with their name and size; and the viewer, a modal dialog with the image at full size.
 *
 * Their links are signed by the server and need no token, so an <img> or a plain link loads them.
 */

import { byId, h } from "./dom.js";
import { fileSize, linkExpiring } from "./files.js";

const THUMBNAIL_BOX_PX = 240;

/** The size an image of `width` × `height` is shown at: within the thumbnail box, never larger
 * than it is. */
function thumbnailSize(width, height) {
  const scale = Math.min(1, THUMBNAIL_BOX_PX / width, THUMBNAIL_BOX_PX / height);
  const px = (length) => Math.max(1, Math.round(length * scale));
  return { width: px(width), height: px(height) };
}

/**
 * The list of `attachments`, or null when there are none. `open(attachment, button)` shows an
 * image in the viewer; `fresh(attachment)` gives it with links that still work (a promise).
 */
export function attachmentList(attachments, { open, fresh }) {
  if (!attachments.length) return null;
  return h(
    "ul",
    { class: "attachments" },
    attachments.map((attachment) =>
      h(
        "li",
        {},
        attachment.thumbnail_url ? thumbnail(attachment, open) : fileLink(attachment, fresh),
      ),
    ),
  );
}

function thumbnail(attachment, open) {
  const { name, width, height } = attachment;
  // Its size known before it loads, so that the messages below do not jump.
  const size = width && height ? thumbnailSize(width, height) : {};
  return h(
    "button",
    {
      type: "button",
      class: "thumbnail",
      "aria-haspopup": "dialog",
      "aria-label": `View image ${name}`,
      onclick: (event) => open(attachment, event.currentTarget),
    },
    h("img", { src: attachment.thumbnail_url, alt: "", ...size, decoding: "async" }),
  );
}

function fileLink(attachment, fresh) {
  const { name, size, url } = attachment;
  // A link that has run out is signed again before it is followed.
  const download = async (event) => {
    if (!linkExpiring(url)) return;
    event.preventDefault();
    const { url: freshUrl } = await fresh(attachment);
    h("a", { href: freshUrl, download: name }).click();
  };
  return h(
    "a",
    { class: "file-link", href: url, download: name, onclick: download },
    h("span", { class: "icon file", "aria-hidden": "true" }),
    h("span", { class: "file-name" }, name),
    h("span", { class: "file-size" }, fileSize(size)),
  );
}

/** The modal dialog that shows an image at full size; Escape or its Close button closes it, and
 * the focus goes back to the thumbnail that opened it. */
export class ImageViewer {
  constructor() {
    this.dialog = byId("image-viewer");
    this.image = byId("viewer-image");
    this.opener = null;
    byId("viewer-close").addEventListener("click", () => this.dialog.close());
    // A click on the backdrop, around the image, closes it too.
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog) this.dialog.close();
    });
    // Links are signed again before the viewer opens when they run out (conversation.js); one
    // that fails all the same (the file deleted since, the server away) says so.
    this.image.addEventListener("error", () => {
      if (!this.image.getAttribute("src")) return;
      this.image.hidden = true;
      byId("viewer-error").textContent =
        "The image cannot be shown: it may have been deleted, or the server is not answering.";
    });
    this.dialog.addEventListener("close", () => {
      this.image.removeAttribute("src");
      this.opener?.focus();
      this.opener = null;
    });
  }

  open({ name, url, width, height }, opener) {
    this.opener = opener;
    byId("viewer-title").textContent = name;
    byId("viewer-error").textContent = "";
    this.image.hidden = false;
    const download = byId("viewer-download");
    download.href = url;
    download.download = name;
    this.image.alt = name;
    // Its proportions known before it loads: the dialog takes its size at once.
    for (const [attribute, length] of Object.entries({ width, height })) {
      if (length) this.image.setAttribute(attribute, length);
      else this.image.removeAttribute(attribute);
    }
    this.image.src = url;
    this.dialog.showModal();
  }
}
