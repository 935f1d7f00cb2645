"""Real files for the attachment tests, made by the tests: images with and without metadata,
files that pretend to be what they are not, a decompression bomb."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, PngImagePlugin

SECRET = "Secret Spy Camera"
GPS_LATITUDE = (48.0, 51.0, 29.0)


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = SECRET
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: GPS_LATITUDE,
    }
    return exif


def gradient(width: int = 640, height: int = 480, mode: str = "RGB") -> Image.Image:
    """An image whose every pixel differs from its neighbours, so a changed pixel shows."""
    image = Image.new(mode, (width, height))
    image.putdata(
        [
            (x * 255 // width, y * 255 // height, (x * y) % 256)[: len(mode)]
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


def image_bytes(image: Image.Image, image_format: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def jpeg_with_gps(width: int = 640, height: int = 480, orientation: int = 1) -> bytes:
    return image_bytes(
        gradient(width, height), "JPEG", exif=exif_with_gps(orientation), comment=SECRET.encode()
    )


def png_with_metadata(width: int = 640, height: int = 480) -> bytes:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", SECRET)
    return image_bytes(gradient(width, height), "PNG", exif=exif_with_gps(), pnginfo=text)


def decompression_bomb() -> bytes:
    """A few kilobytes that decode into 400 million pixels."""
    return image_bytes(Image.new("1", (20_000, 20_000)), "PNG")


def upload(content: bytes, name: str, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
