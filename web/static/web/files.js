/**
 * Files in messages: the limits an upload must keep (its size, served in the page by
 * web/views.py; how many one message carries), and sizes in the units people read.
 */

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

/** The largest file the server takes, in bytes. */
export const MAX_FILE_BYTES =
  Number(document.querySelector('meta[name="attachment-max-bytes"]')?.content) ||
  DEFAULT_MAX_BYTES;

/** The most files one message carries. */
export const MAX_FILES = 10;

const UNITS = ["KB", "MB", "GB"];

/** "812 bytes", "1.5 KB", "10 MB": in steps of 1024, one decimal below ten. */
export function fileSize(bytes) {
  if (bytes < 1024) return bytes === 1 ? "1 byte" : `${bytes} bytes`;
  let value = bytes;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (value >= 1024 && unit < UNITS.length - 1);
  const shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  return `${shown} ${UNITS[unit]}`;
}

/** Said before a file is chosen, and again when one is too large. */
export const SIZE_LIMIT_TEXT = `Files can be up to ${fileSize(MAX_FILE_BYTES)}.`;

/** Said when one file too many is chosen. */
export const COUNT_LIMIT_TEXT = `A message can carry up to ${MAX_FILES} files.`;
