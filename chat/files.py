"""The content of attachments: what type a file is, images cleaned and thumbnailed, where the
files are stored, and the signed links that serve them.

The type is judged from the content alone (magic numbers, by `filetype`; plain text by decoding
it), never from the name or the client's Content-Type. Images are decoded and re-encoded in their
own format by Pillow: what is stored is pixels, without EXIF, GPS, comments or anything else a
file can carry, and an image too large to decode safely (a decompression bomb) is refused from
its header, before any pixel is decoded.

Nothing here touches the database: `chat.services` writes the rows, in the order that keeps
files and rows consistent (files first, rows after).
"""

import base64
import functools
import hashlib
import hmac
import io
import math
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from PIL import ExifTags, Image, ImageOps, ImageSequence

from common.errors import TooLarge, UnsupportedType

# Pillow refuses (DecompressionBombError) any image over twice this, and warns over it; the
# service refuses over ATTACHMENT_MAX_PIXELS itself, from the header, so this is the backstop.
Image.MAX_IMAGE_PIXELS = settings.ATTACHMENT_MAX_PIXELS

THUMBNAIL_BOX = (320, 320)
# Room for the multipart framing around a file of the largest size: a request larger than the
# limit and this is refused before its body is read (by the view, and by nginx).
MULTIPART_OVERHEAD = 64 * 1024
# An animation may have this many times the pixels of one frame over all its frames.
ANIMATION_PIXEL_FACTOR = 4

# The two files of an attachment that signed links name.
FILE, THUMBNAIL = "file", "thumbnail"

TEXT = "text/plain"


@dataclass(frozen=True)
class ImageFormat:
    pillow_name: str
    thumbnail: str  # Pillow's name of the thumbnail's format
    extensions: tuple[str, ...]


IMAGES = {
    "image/jpeg": ImageFormat("JPEG", "JPEG", (".jpg", ".jpeg", ".jfif")),
    "image/png": ImageFormat("PNG", "PNG", (".png",)),
    # An animation's thumbnail is its first frame, still.
    "image/gif": ImageFormat("GIF", "PNG", (".gif",)),
    "image/webp": ImageFormat("WEBP", "WEBP", (".webp",)),
}
THUMBNAIL_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
OTHER_EXTENSIONS = {"application/pdf": (".pdf",), TEXT: (".txt", ".text", ".log", ".md", ".csv")}
ALLOWED_DESCRIPTION = "JPEG, PNG, GIF or WebP images, PDF documents and plain text (UTF-8)"

# Control characters (C0 and C1) but tab, line feed, form feed and carriage return: a text file
# has none. A pattern rather than a look at each character: a file of 10 MiB is 10 million.
CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")

# Text that a browser would take for markup if it ever ignored the Content-Type: refused, as the
# contract says (HTML, SVG, XML). The files are served as text/plain with nosniff and a sandbox
# anyway; this keeps such files out of the store altogether.
MARKUP = re.compile(
    rb"<(?:!doctype|html|head|body|script|svg|iframe|object|embed|style|meta|link|\?xml)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Prepared:
    """A file ready to store: its cleaned content, and a thumbnail if it is an image."""

    name: str
    content_type: str
    content: bytes
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None


def prepare(content: bytes, name: str) -> Prepared:
    """Judge `content`'s type and clean it; UnsupportedType or TooLarge if it cannot be kept."""
    content_type = filetype.guess_mime(content[:8192])
    if content_type in IMAGES:
        return _prepare_image(content, content_type, name)
    if content_type == "application/pdf":
        return Prepared(clean_name(name, content_type), content_type, content)
    if content_type is None and is_plain_text(content):
        return Prepared(clean_name(name, TEXT), TEXT, content)
    raise UnsupportedType(f"This type of file cannot be sent. Allowed: {ALLOWED_DESCRIPTION}.")


def is_plain_text(content: bytes) -> bool:
    """UTF-8 without control characters other than white space, and no markup near its start
    (where browsers sniff)."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if CONTROL.search(text):
        return False
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n\f")
    return not head.startswith(b"<") and MARKUP.search(head) is None


def _prepare_image(content: bytes, content_type: str, name: str) -> Prepared:
    image_format = IMAGES[content_type]
    limit = settings.ATTACHMENT_MAX_PIXELS
    too_large = f"This image is too large: at most {limit / 1e6:g} million pixels."
    try:
        image = Image.open(io.BytesIO(content), formats=[image_format.pillow_name])
        width, height = image.size
        frames = getattr(image, "n_frames", 1)
        if width * height > limit or width * height * frames > limit * ANIMATION_PIXEL_FACTOR:
            raise TooLarge(f"{too_large} This one has {width} x {height} in {frames} frames.")
        cleaned, image = _reencode(image, image_format, content)
        thumbnail = _thumbnail(image, image_format)
    except Image.DecompressionBombError:  # Pillow's own check, on opening: far over the limit
        raise TooLarge(too_large) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        # A truncated or corrupt file that only starts like an image (Pillow's own words would
        # show its internals).
        raise UnsupportedType(
            "This image could not be read: the file is damaged or only starts like an image."
        ) from None
    return Prepared(
        clean_name(name, content_type),
        content_type,
        cleaned,
        width=image.width,
        height=image.height,
        thumbnail=thumbnail,
    )


def _reencode(image: Image.Image, image_format: ImageFormat, content: bytes):
    """The image written anew in its own format with nothing but its pixels (and its colour
    profile, without which colours shift): pixels unchanged for PNG, GIF and lossless WebP. A
    JPEG keeps its quantisation tables (`quality="keep"`), so re-encoding loses as little as
    possible; one turned upright by its EXIF orientation is encoded at quality 90."""
    options = {}
    if icc_profile := image.info.get("icc_profile"):
        options["icc_profile"] = icc_profile
    out = io.BytesIO()
    if image_format.pillow_name == "JPEG":
        if image.getexif().get(ExifTags.Base.Orientation, 1) not in (0, 1):
            image = ImageOps.exif_transpose(image)
            options["quality"] = 90
        else:
            options["quality"] = "keep"
        image.info = {}  # nothing read from the file is written back but what `options` names
        image.save(out, "JPEG", **options)
        return out.getvalue(), image
    animated = getattr(image, "n_frames", 1) > 1
    if "transparency" in image.info:
        options["transparency"] = image.info["transparency"]
    if animated:
        timing = [_frame_timing(frame) for frame in ImageSequence.Iterator(image)]
        options["duration"] = [duration for duration, _ in timing]
        if image_format.pillow_name == "GIF":
            options["disposal"] = [disposal for _, disposal in timing]
        options["loop"] = image.info.get("loop", 0)
        image.seek(0)
    if image_format.pillow_name == "WEBP":
        # VP8L is WebP's lossless coding; a lossy WebP is encoded lossy again.
        lossless = b"VP8L" in content[12:4096]
        options.update(lossless=lossless, quality=100 if lossless else 90, exact=lossless)
    image.info = {}
    image.save(out, image_format.pillow_name, save_all=animated, **options)
    return out.getvalue(), image


def _frame_timing(frame: Image.Image) -> tuple[int, int]:
    frame.load()  # WebP tells a frame's duration once it is decoded
    return frame.info.get("duration", 100), getattr(frame, "disposal_method", 0)


def _thumbnail(image: Image.Image, image_format: ImageFormat) -> bytes:
    image.seek(0)
    if image.mode in ("P", "PA", "1"):  # palettes are not resampled
        image = image.convert("RGBA")
    elif image_format.thumbnail == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    # A box reduction to near the size first (a new, small image: the full one is not copied,
    # a third of the cost of a photo's thumbnail), then the resampling that makes it. Other
    # modes (16-bit greyscale, CMYK) are copied whole, as Pillow reduces only these.
    factor = max(1, min(image.width // THUMBNAIL_BOX[0], image.height // THUMBNAIL_BOX[1]))
    reducible = factor > 1 and image.mode in ("L", "LA", "RGB", "RGBA")
    thumbnail = image.reduce(factor) if reducible else image.copy()
    thumbnail.thumbnail(THUMBNAIL_BOX)
    out = io.BytesIO()
    thumbnail.save(out, image_format.thumbnail)
    return out.getvalue()


def refuse_if_too_large(size: int, *, framing: int = 0) -> None:
    """TooLarge if a file of `size` bytes (with `framing` bytes around it allowed for) is over
    ATTACHMENT_MAX_BYTES."""
    if size > settings.ATTACHMENT_MAX_BYTES + framing:
        raise TooLarge(
            "This file is too large: files can be up to "
            f"{human_size(settings.ATTACHMENT_MAX_BYTES)}."
        )


def human_size(size: int) -> str:
    """Bytes in the units people read: 10 MB, 1 GB (powers of 1024, as file managers count)."""
    units = ["bytes", "KB", "MB", "GB"]
    unit = 0
    while size >= 1024 and unit < len(units) - 1:
        size, unit = size / 1024, unit + 1
    return f"{size} bytes" if unit == 0 else f"{round(size, 1):g} {units[unit]}"


def thumbnail_type(content_type: str) -> str:
    return THUMBNAIL_TYPES[IMAGES[content_type].thumbnail]


def clean_name(name: str, content_type: str) -> str:
    """The uploader's file name without folders or control characters, at most 255 characters,
    with an extension that agrees with the content (a PNG named `cat.pdf` becomes `cat.png`), so
    that whoever downloads it opens it with the right program."""
    name = PurePath(name.replace("\\", "/")).name
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip(" .")
    stem, _, extension = name.rpartition(".") if "." in name else (name, "", "")
    extensions = (
        IMAGES[content_type].extensions
        if content_type in IMAGES
        else OTHER_EXTENSIONS[content_type]
    )
    if f".{extension.lower()}" not in extensions:
        extension = extensions[0][1:]
    stem = stem or "attachment"
    return f"{stem[: 254 - len(extension)]}.{extension}"


# Stored names: a folder per hour of upload, so that the purge can leave the last hours' files
# alone (their rows may not have committed yet) without asking the storage each file's age.
FOLDER = "attachments"
HOUR_FORMAT = "%Y%m%d%H"


def store(prepared: Prepared) -> tuple[str, str]:
    """Write the file, and its thumbnail if any; returns their stored names ("" for none)."""
    folder = f"{FOLDER}/{timezone.now():{HOUR_FORMAT}}"
    token = secrets.token_hex(16)
    file_name = default_storage.save(f"{folder}/{token}", ContentFile(prepared.content))
    if prepared.thumbnail is None:
        return file_name, ""
    try:
        thumbnail_name = default_storage.save(
            f"{folder}/{token}-thumbnail", ContentFile(prepared.thumbnail)
        )
    except Exception:
        delete_stored([file_name])
        raise
    return file_name, thumbnail_name


def delete_stored(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def stored_folders() -> list[str]:
    """The hour folders under `attachments/`, oldest first."""
    try:
        folders, _ = default_storage.listdir(FOLDER)
    except FileNotFoundError:  # nothing stored yet (S3 has no folders to be missing)
        return []
    return sorted(folder for folder in folders if re.fullmatch(r"\d{10}", folder))


def stored_in(folder: str) -> list[str]:
    _, names = default_storage.listdir(f"{FOLDER}/{folder}")
    return [f"{FOLDER}/{folder}/{name}" for name in names]


def folder_hour(folder: str):
    return datetime.strptime(folder, HOUR_FORMAT).replace(tzinfo=UTC)


# Signed links. The signature (an HMAC-SHA256 under a key derived from SECRET_KEY for links alone)
# covers the attachment, which of its files, and the expiry; the expiry is rounded up to the
# minute, so that a link stays the same for a minute and a browser showing a page again finds
# its images in its cache.
LINK_SALT = "chat.attachment-link"


@functools.cache
def _link_key(secret: str) -> bytes:
    """Derived once, not per link as `django.core.signing` does: a page of messages signs two
    links a file."""
    return hashlib.sha256(f"{LINK_SALT}:{secret}".encode()).digest()


def _signature(attachment_id: int, kind: str, expires: int) -> str:
    digest = hmac.new(
        _link_key(settings.SECRET_KEY), f"{attachment_id}:{kind}:{expires}".encode(), "sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed_link(attachment_id: int, kind: str) -> str:
    """A path that serves the file to anyone holding it, for ATTACHMENT_URL_TTL seconds (up to a
    minute more)."""
    expires = math.ceil((time.time() + settings.ATTACHMENT_URL_TTL) / 60) * 60
    signature = _signature(attachment_id, kind, expires)
    return f"{_link_path(kind)}{attachment_id}/{kind}/?expires={expires}&signature={signature}"


@functools.cache
def _link_path(kind: str) -> str:
    """What comes before the id in a link (`/api/attachments/`), resolved once: a page of
    messages writes two links a file, and `reverse` costs more than the signature."""
    path = reverse("attachment-link", kwargs={"attachment_id": 1, "kind": kind})
    return path.removesuffix(f"1/{kind}/")


def link_seconds_left(attachment_id: int, kind: str, expires: str, signature: str) -> int | None:
    """How many seconds the link has left, or None if it was not signed by us for this file, or
    has expired."""
    if not expires.isdigit() or len(expires) > 12:
        return None
    if not constant_time_compare(signature, _signature(attachment_id, kind, int(expires))):
        return None
    left = int(expires) - int(time.time())
    return left if left > 0 else None
