"""Pure checks of attachments, the same for every channel: type by the bytes, never by the
name; the limits; where a photo was taken (EXIF GPS, kept for routing)."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import unquote

import filetype
import pillow_heif
from PIL import ExifTags, Image

from pakn.intake.messages import message_for
from pakn.intake.validation import FieldError

log = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 25 * 1024 * 1024

#: What a citizen may send, as recognised from the bytes: MIME type → file extension.
ACCEPTED_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heic",
    "application/pdf": "pdf",
}
_IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"}


@dataclass(frozen=True)
class Upload:
    """One file as received: a name we made safe, the type its bytes prove, its content."""

    filename: str
    content_type: str
    data: bytes
    sha256: str
    lat: float | None = None
    lon: float | None = None

    @property
    def size(self) -> int:
        return len(self.data)


def sniff(data: bytes) -> str | None:
    """The accepted MIME type the bytes are, or None (whatever the name or header claims)."""
    kind = filetype.guess(data[:8192])
    if kind is None:
        return None
    return kind.mime if kind.mime in ACCEPTED_TYPES else None


_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


def safe_filename(claimed: str | None, content_type: str, index: int) -> str:
    """A display name that cannot traverse paths or smuggle markup; extension from the bytes."""
    # Some clients percent-encode the name ("..%2F..%2Fx.jpg"): decode before taking the base.
    base = PureWindowsPath(PurePosixPath(unquote(claimed or "")).name).name
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    stem = _UNSAFE.sub("_", base.rsplit(".", 1)[0]).strip(" ._")[:80]
    return f"{stem or f'tep-{index}'}.{ACCEPTED_TYPES[content_type]}"


def _degrees(value: tuple[float, float, float], ref: str) -> float:
    degrees = float(value[0]) + float(value[1]) / 60 + float(value[2]) / 3600
    return -degrees if ref in {"S", "W"} else degrees


def gps_location(data: bytes, content_type: str) -> tuple[float, float] | None:
    """Where a photo was taken (EXIF GPS), for routing; None when absent or unreadable."""
    if content_type not in _IMAGE_TYPES:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            gps = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # a broken EXIF block must never lose the report itself
        log.debug("unreadable EXIF", exc_info=True)
        return None
    try:
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef, "N"))
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef, "E"))
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return round(lat, 6), round(lon, 6)


def check_upload(claimed_name: str | None, data: bytes, index: int) -> Upload | None:
    """The upload if its bytes are an accepted type (None means the `file_type` error)."""
    content_type = sniff(data)
    if content_type is None:
        return None
    location = gps_location(data, content_type)
    return Upload(
        filename=safe_filename(claimed_name, content_type, index),
        content_type="image/heic" if content_type == "image/heif" else content_type,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        lat=location[0] if location else None,
        lon=location[1] if location else None,
    )


def _mb(limit: int) -> int:
    return limit // (1024 * 1024)


@dataclass
class UploadBatch:
    """The files of one report as they come in, checked one by one and then together.

    A file over MAX_FILE_BYTES is passed with ``too_large`` (and no bytes), so a channel that
    reads a stream need not hold it; ``finish()`` adds the count and total-size findings."""

    uploads: list[Upload] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    #: Files offered, refused ones included (the count limit counts what was sent).
    count: int = 0
    total: int = 0

    def add(self, filename: str | None, data: bytes, *, too_large: bool = False) -> None:
        self.count += 1
        shown = filename or f"tệp {self.count}"
        if too_large or len(data) > MAX_FILE_BYTES:
            self._error("file_too_large", filename=shown, maximum_mb=_mb(MAX_FILE_BYTES))
            return
        upload = check_upload(filename, data, self.count)
        if upload is None:
            self._error("file_type", filename=shown)
            return
        self.total += upload.size
        self.uploads.append(upload)

    def finish(self) -> None:
        if self.count > MAX_FILES:
            self._error("too_many_files", maximum=MAX_FILES)
        if self.total > MAX_TOTAL_BYTES:
            self._error("files_too_large", maximum_mb=_mb(MAX_TOTAL_BYTES))

    def _error(self, code: str, **values: object) -> None:
        self.errors.append(FieldError("attachments", code, message_for(code, None, **values)))


def combined_limit_errors(earlier: list[Upload], batch: UploadBatch) -> list[FieldError]:
    """The count and size limits over files kept from an earlier attempt and a new batch
    together (each alone was checked); findings the batch already has are not repeated."""
    codes = {error.code for error in batch.errors}
    errors: list[FieldError] = []
    if len(earlier) + batch.count > MAX_FILES and "too_many_files" not in codes:
        message = message_for("too_many_files", None, maximum=MAX_FILES)
        errors.append(FieldError("attachments", "too_many_files", message))
    total = sum(u.size for u in earlier) + sum(u.size for u in batch.uploads)
    if total > MAX_TOTAL_BYTES and "files_too_large" not in codes:
        message = message_for("files_too_large", None, maximum_mb=_mb(MAX_TOTAL_BYTES))
        errors.append(FieldError("attachments", "files_too_large", message))
    return errors
