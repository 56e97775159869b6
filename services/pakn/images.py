"""Public copies of photos: re-encoded without EXIF (GPS position, camera serial, time)."""

from __future__ import annotations

import io

from PIL import Image

#: Types a public copy is made of; HEIC (iPhones) becomes JPEG, which every browser shows.
PUBLIC_IMAGE_TYPES = {
    "image/jpeg": ("JPEG", "image/jpeg"),
    "image/png": ("PNG", "image/png"),
    "image/webp": ("WEBP", "image/webp"),
    "image/heic": ("JPEG", "image/jpeg"),
    "image/heif": ("JPEG", "image/jpeg"),
}


def strip_metadata(data: bytes, content_type: str) -> tuple[bytes, str] | None:
    """The image re-encoded from its pixels alone, and its type; None for what is no photo
    (a PDF is never made public: it may carry anything)."""
    target = PUBLIC_IMAGE_TYPES.get(content_type)
    if target is None:
        return None
    if content_type in ("image/heic", "image/heif"):
        from pillow_heif import register_heif_opener

        register_heif_opener()
    fmt, public_type = target
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        mode = image.mode if fmt != "JPEG" or image.mode in ("RGB", "L") else "RGB"
        pixels = image.convert(mode)
        clean = Image.new(mode, pixels.size)
        clean.paste(pixels)
        out = io.BytesIO()
        clean.save(out, format=fmt)
    return out.getvalue(), public_type
