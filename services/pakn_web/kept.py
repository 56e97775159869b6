"""Photos kept across a form shown again with errors: browsers cannot refill a file input,
so without this a citizen on a slow phone would have to choose every photo again."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from pakn.intake.uploads import Upload, check_upload
from pakn.store import Store

#: A form left with errors for longer than this loses its kept photos (they are deleted).
KEEP_FOR = timedelta(hours=24)
BUCKET_FILES = "attachments.files"


@dataclass(frozen=True)
class KeptFile:
    """A photo held for a form: the unguessable token the page carries, and what it shows."""

    token: str
    filename: str
    size: int
    upload: Upload
    ref: str


async def keep(store: Store, uploads: list[Upload], now: datetime) -> list[KeptFile]:
    """Hold these uploads until the citizen sends the form again (or ``KEEP_FOR`` passes)."""
    kept = []
    for upload in uploads:
        token = secrets.token_urlsafe(24)
        ref = await store.put_attachment(
            upload.data,
            filename=upload.filename,
            content_type=upload.content_type,
            metadata={"pending": True, "token": token, "expires_at": now + KEEP_FOR},
        )
        kept.append(KeptFile(token, upload.filename, upload.size, upload, ref))
    return kept


async def load(store: Store, tokens: list[str], now: datetime) -> list[KeptFile]:
    """The held uploads these tokens name; unknown or expired tokens are ignored."""
    found: list[KeptFile] = []
    if not tokens:
        return found
    cursor = store.db[BUCKET_FILES].find(
        {
            "metadata.pending": True,
            "metadata.token": {"$in": tokens[:20]},
            "metadata.expires_at": {"$gt": now},
        }
    )
    async for doc in cursor:
        data, _ = await store.open_attachment(str(doc["_id"]))
        # Checked again from the bytes, as if uploaded now: the store is not trusted blindly.
        upload = check_upload(doc.get("filename"), data, len(found) + 1)
        if upload is not None:
            token = doc["metadata"]["token"]
            found.append(KeptFile(token, upload.filename, upload.size, upload, str(doc["_id"])))
    return found


async def release(store: Store, kept: list[KeptFile]) -> None:
    """The report was accepted with its own copies: the held ones are no longer needed."""
    for file in kept:
        await store.gridfs.delete(ObjectId(file.ref))


async def purge_expired(store: Store, now: datetime) -> int:
    """Delete held photos of forms that were never sent again."""
    expired: list[Any] = [
        doc["_id"]
        async for doc in store.db[BUCKET_FILES].find(
            {"metadata.pending": True, "metadata.expires_at": {"$lte": now}}, {"_id": 1}
        )
    ]
    for file_id in expired:
        await store.gridfs.delete(file_id)
    return len(expired)
