"""Reading a report off the web request (JSON from the app, multipart or urlencoded from the
form) within the upload limits; the checks themselves are the core's (pakn.intake)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDict, MultiDictProxy

from pakn.intake.uploads import MAX_FILE_BYTES, Upload, UploadBatch
from pakn.intake.validation import FieldError

#: Whole request bodies above this are refused with 413 before they are read. Base64 in the
#: app's JSON makes 25 MB of photos about 34 MB, so the ceiling sits above that.
MAX_BODY_BYTES = 36 * 1024 * 1024
#: A text field of a form cannot be longer than this (the content limit is far below it).
MAX_FIELD_BYTES = 256 * 1024
FILE_FIELDS = frozenset({"files", "attachments", "photos"})
#: Hidden inputs naming the photos kept from an earlier attempt (pakn_web.kept).
KEPT_FIELD = "kept_files"
CHUNK = 64 * 1024


class BadRequest(Exception):
    """The body could not be read at all (not JSON, broken multipart)."""


class InvalidIdempotencyKey(BadRequest):
    """The Idempotency-Key is longer than a channel reference may be, or not printable."""


#: Printable ASCII, at most the schema's channel_ref length: checked before anything is kept.
IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,512}")


def checked_idempotency_key(value: str | None) -> str | None:
    """The key as given (None when absent); InvalidIdempotencyKey when it cannot be one."""
    if value is None or value == "":
        return None
    if not IDEMPOTENCY_KEY.fullmatch(value):
        raise InvalidIdempotencyKey("invalid Idempotency-Key")
    return value


class BodyTooLarge(Exception):
    """The body is over MAX_BODY_BYTES: answered with 413 and nothing kept."""


@dataclass
class ReadSubmission:
    """What came in: the fields in the API's nested shape and the checked files."""

    fields: dict[str, Any]
    files: UploadBatch = field(default_factory=UploadBatch)
    idempotency_key: str | None = None
    #: Files sent before (attempts that had errors), named by the tokens the form carried.
    kept_tokens: list[str] = field(default_factory=list)

    @property
    def uploads(self) -> list[Upload]:
        return self.files.uploads

    @property
    def errors(self) -> list[FieldError]:
        return self.files.errors


#: What a malformed body raises while aiohttp reads it: a bad part header (a NUL in a
#: filename), a missing or wrong boundary, a truncated body, an unknown or undecodable charset.
UNREADABLE = (
    ValueError,
    AssertionError,
    UnicodeDecodeError,
    LookupError,
    HttpProcessingError,
    web.HTTPBadRequest,
)


async def read_form(request: web.Request) -> MultiDictProxy[str]:
    """The text fields of an urlencoded or multipart form (Open311, the HTML form without
    files); BadRequest when the body cannot be read as one."""
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge as exc:
        raise BodyTooLarge from exc
    except UNREADABLE as exc:
        raise BadRequest(f"the form cannot be read: {type(exc).__name__}") from exc
    return MultiDictProxy(MultiDict((k, v) for k, v in form.items() if isinstance(v, str)))


#: HTML form field names → the dotted names of the JSON API and of error reports.
FORM_FIELDS: Mapping[str, str] = {
    "title": "title",
    "content": "content",
    "occurred_at": "occurred_at",
    "address": "location.address",
    "commune": "location.commune",
    "lat": "location.lat",
    "lon": "location.lon",
    "name": "submitter.name",
    "phone": "submitter.phone",
    "email": "submitter.email",
    "contact_address": "submitter.address",
    "organization": "submitter.organization",
    "notify_via": "notify_via",
    "confidential": "confidential",
    "consent": "consent",
    "in_reply_to": "in_reply_to",
}


def flatten_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The HTML form's flat names as the nested JSON shape the API takes."""
    nested: dict[str, Any] = {}
    for form_name, dotted in FORM_FIELDS.items():
        if form_name not in form:
            continue
        value: Any = form[form_name]
        if dotted in {"confidential", "consent"}:
            value = value not in {"", "0", "false", "off"}
        target = nested
        *parents, leaf = dotted.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return nested


async def _read_part(part: BodyPartReader, limit: int, budget: list[int]) -> tuple[bytes, bool]:
    """The part's bytes up to ``limit``; the rest is drained so the next part can be read.
    ``budget`` is what is left of MAX_BODY_BYTES for a body sent without Content-Length."""
    chunks: list[bytes] = []
    size = 0
    too_large = False
    while chunk := await part.read_chunk(CHUNK):
        size += len(chunk)
        budget[0] -= len(chunk)
        if budget[0] < 0:
            raise BodyTooLarge
        if size > limit:
            too_large = True
            chunks.clear()
        elif not too_large:
            chunks.append(chunk)
    return b"".join(chunks), too_large


async def read_multipart(request: web.Request) -> ReadSubmission:
    form: dict[str, str] = {}
    kept_tokens: list[str] = []
    files = UploadBatch()
    budget = [MAX_BODY_BYTES]
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue  # nested multipart is not something a form sends
            name = part.name or ""
            if name in FILE_FIELDS:
                data, too_large = await _read_part(part, MAX_FILE_BYTES, budget)
                if not data and not too_large and not part.filename:
                    continue  # an empty <input type=file>: the browser sends a blank part
                files.add(part.filename, data, too_large=too_large)
            else:
                raw, too_large = await _read_part(part, MAX_FIELD_BYTES, budget)
                if too_large:
                    raise BadRequest(f"form field {name!r} is too large")
                value = raw.decode(part.get_charset("utf-8"), errors="replace")
                if name == KEPT_FIELD:
                    kept_tokens.append(value)
                else:
                    form[name] = value
    except UNREADABLE as exc:
        raise BadRequest(f"the form cannot be read: {type(exc).__name__}") from exc
    files.finish()
    return ReadSubmission(
        fields=flatten_form(form),
        files=files,
        idempotency_key=form.get("idempotency_key") or None,
        kept_tokens=kept_tokens,
    )


async def read_json(request: web.Request) -> ReadSubmission:
    try:
        body = json.loads(await request.read())
    except web.HTTPRequestEntityTooLarge as exc:
        raise BodyTooLarge from exc
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: JSON nested a thousand deep.
        raise BadRequest("the body is not valid JSON") from exc
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object")
    files = UploadBatch()
    attachments = body.get("attachments") or []
    if not isinstance(attachments, list):
        raise BadRequest("attachments must be a list")
    for item in attachments:
        if not isinstance(item, Mapping) or not isinstance(item.get("data"), str):
            raise BadRequest("each attachment needs base64 'data'")
        try:
            data = base64.b64decode(item["data"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("attachment data is not valid base64") from exc
        filename = item.get("filename") if isinstance(item.get("filename"), str) else None
        files.add(filename, data)
    files.finish()
    fields = {key: value for key, value in body.items() if key != "attachments"}
    return ReadSubmission(fields=fields, files=files)


async def read_submission(request: web.Request) -> ReadSubmission:
    """JSON (the app) or multipart (the web form); anything else is a 400."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BodyTooLarge
    if request.content_type == "application/json":
        read = await read_json(request)
    elif request.content_type in {"multipart/form-data", "application/x-www-form-urlencoded"}:
        if request.content_type == "multipart/form-data":
            read = await read_multipart(request)
        else:
            form = await read_form(request)
            flat = dict(form.items())
            read = ReadSubmission(
                fields=flatten_form(flat),
                idempotency_key=flat.get("idempotency_key") or None,
                kept_tokens=[v for v in form.getall(KEPT_FIELD, []) if isinstance(v, str)],
            )
    else:
        raise BadRequest(f"unsupported content type {request.content_type!r}")
    read.idempotency_key = checked_idempotency_key(
        request.headers.get("Idempotency-Key") or read.idempotency_key
    )
    return read
