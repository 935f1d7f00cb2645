/**
 * Files in messages: the limits an upload must keep (its size, served in the page by
 * web/views.py; how many one message carries), sizes in the units people read, and whether a
 * file's signed link still works.
 */

/** The largest file the server takes, in bytes (settings.ATTACHMENT_MAX_BYTES). */
export const MAX_FILE_BYTES = Number(
  document.querySelector('meta[name="attachment-max-bytes"]').content,
);

/** The most files one message carries. */
export const MAX_FILES = 10;

const UNITS = ["KB", "MB", "GB"];

/** "812 bytes", "1.5 KB", "10 MB": in steps of 1024 and to one decimal, as the server says them
 * (chat/files.py's `human_size`). */
export function fileSize(bytes) {
  if (bytes < 1024) return bytes === 1 ? "1 byte" : `${bytes} bytes`;
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (value >= 1024 && unit < UNITS.length - 1);
  return `${Math.round(value * 10) / 10} ${UNITS[unit]}`;
}

/** Said before a file is chosen, and again when one is too large. */
export const SIZE_LIMIT_TEXT = `Files can be up to ${fileSize(MAX_FILE_BYTES)}.`;

/** Said when one file too many is chosen. */
export const COUNT_LIMIT_TEXT = `A message can carry up to ${MAX_FILES} files.`;

/** Whether a signed link (its `expires`, in seconds since 1970) has less than a minute left: the
 * server signs links for an hour, and a page stays open for longer. */
export function linkExpiring(url) {
  const expires = Number(new URL(url, window.location.href).searchParams.get("expires"));
  return !expires || expires * 1000 - Date.now() < 60_000;
}
