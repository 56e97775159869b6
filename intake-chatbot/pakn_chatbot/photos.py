"""Photos a citizen sends in a chat: fetched from the platform, checked by the core, held.

The platform gives a URL; the bytes are fetched (bounded), recognised and checked by the
core's upload rules (the same as the web form's: type by the bytes, size, GPS for routing),
and held in GridFS under the session until the report is sent or dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiohttp

from pakn.intake import Upload, check_upload
from pakn.intake.uploads import MAX_FILE_BYTES
from pakn.store import Store
from pakn_chatbot import messages
from pakn_chatbot.dialogue import Photo, PhotoRejected

log = logging.getLogger(__name__)

HELD = "chatbot_held"


class TooLarge(Exception):
    pass


async def _fetch(session: aiohttp.ClientSession, url: str, limit: int) -> bytes:
    async with session.get(url) as response:
        response.raise_for_status()
        if response.content_length is not None and response.content_length > limit:
            raise TooLarge(url)
        data = bytearray()
        async for chunk in response.content.iter_chunked(65536):
            data.extend(chunk)
            if len(data) > limit:
                raise TooLarge(url)
        return bytes(data)


async def fetch_photos(
    session: aiohttp.ClientSession, store: Store, key: str, urls: Sequence[str]
) -> list[Photo | PhotoRejected]:
    """Each URL fetched and checked: a held Photo, or why it was not taken."""
    results: list[Photo | PhotoRejected] = []
    for index, url in enumerate(urls, start=1):
        name = f"anh-{index}"
        try:
            data = await _fetch(session, url, MAX_FILE_BYTES)
        except TooLarge:
            limit_mb = MAX_FILE_BYTES // 2**20
            results.append(
                PhotoRejected(name, messages.PHOTO_TOO_LARGE.format(maximum_mb=limit_mb))
            )
            continue
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("photo download failed for %s: %s", key, type(exc).__name__)
            results.append(PhotoRejected(name, messages.PHOTO_UNREACHABLE))
            continue
        upload = check_upload(name, data, index)
        if upload is None:
            results.append(PhotoRejected(name, messages.PHOTO_TYPE))
            continue
        ref = await store.put_attachment(
            upload.data,
            filename=upload.filename,
            content_type=upload.content_type,
            metadata={HELD: key, "sha256": upload.sha256, "lat": upload.lat, "lon": upload.lon},
        )
        results.append(
            Photo(
                ref=ref,
                filename=upload.filename,
                content_type=upload.content_type,
                size=upload.size,
                sha256=upload.sha256,
            )
        )
    return results


async def load_uploads(store: Store, photos: Sequence[Photo]) -> list[Upload]:
    """The held photos as the core's uploads, for the intake path."""
    uploads: list[Upload] = []
    for photo in photos:
        data, info = await store.open_attachment(photo.ref)
        uploads.append(
            Upload(
                filename=photo.filename,
                content_type=photo.content_type,
                data=data,
                sha256=photo.sha256,
                lat=info.get("lat"),
                lon=info.get("lon"),
            )
        )
    return uploads


async def release(store: Store, photos: Sequence[Photo]) -> None:
    """Drops held photos (sent with the report, or the draft was cancelled)."""
    from bson import ObjectId

    for photo in photos:
        try:
            await store.gridfs.delete(ObjectId(photo.ref))
        except Exception:  # already gone: nothing to release
            log.debug("held photo %s already gone", photo.ref)
