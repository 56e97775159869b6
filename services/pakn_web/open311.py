"""Open311 GeoReport v2 (JSON and XML) so existing civic apps can submit and follow reports.

Services are the province's categories. Our rules that GeoReport lacks a field for travel as
service attributes, as the spec intends: the citizen's consent to the processing of personal
data (Luật 91/2025/QH15) is a required attribute of every service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from xml.etree import ElementTree

from aiohttp import web

from pakn import http
from pakn.ids import InvalidTrackingCode, parse_tracking_code
from pakn.public import AgencyNames, public_view
from pakn.schema import FIELD_NAMES
from pakn.territory import ProvinceConfig
from pakn_web import messages

CONSENT_ATTRIBUTE = {
    "variable": True,
    "code": "consent",
    "datatype": "singlevaluelist",
    "required": True,
    "datatype_description": "Bắt buộc: đồng ý xử lý dữ liệu cá nhân.",
    "order": 1,
    "description": messages.CONSENT_TEXT,
    "values": [{"key": "yes", "name": "Đồng ý"}],
}
OPEN_STATUSES = frozenset({"received", "needs_info", "triage", "assigned", "in_progress"})
CLOSED_STATUSES = frozenset({"resolved", "published", "redirected", "duplicate"})
#: GeoReport: a list query spans at most 90 days, and defaults to the most recent 90.
MAX_SPAN = timedelta(days=90)
#: GeoReport leaves the cap to the server; 1000 is what the spec's examples use.
MAX_RESULTS = 1000

Format = Literal["json", "xml"]


def services(config: ProvinceConfig) -> list[dict[str, Any]]:
    return [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": category.name,
            "metadata": True,
            "type": "realtime",
            "keywords": ", ".join(phrase.text for phrase in category.phrases[:5]),
            "group": FIELD_NAMES.get(category.field, category.field),
        }
        for category in config.categories
    ]


def definition(config: ProvinceConfig, code: str) -> dict[str, Any] | None:
    try:
        config.category(code)
    except KeyError:
        return None
    return {"service_code": code, "attributes": [CONSENT_ATTRIBUTE]}


def to_submission_fields(form: dict[str, str], now: datetime) -> dict[str, Any]:
    """A GeoReport POST as the nested shape the intake validates."""
    lat, lon = form.get("lat"), form.get("long")
    address = form.get("address_string")
    if not address and lat and lon:
        address = f"Tọa độ {lat}, {lon}"
    name = " ".join(filter(None, [form.get("first_name"), form.get("last_name")])) or None
    return {
        "content": form.get("description"),
        # GeoReport has no time of the event: a report is sent as it is seen.
        "occurred_at": now.isoformat(),
        "location": {"address": address, "lat": lat or None, "lon": lon or None},
        "submitter": {"name": name, "phone": form.get("phone"), "email": form.get("email")},
        "consent": form.get("attribute[consent]") == "yes",
    }


def request_view(case: dict[str, Any], names: AgencyNames) -> dict[str, Any]:
    """One service request as GeoReport shows it: drawn from the same public view as
    /tra-cuu, so what the public may see is decided in one place (pakn.public)."""
    view = public_view(case, names)
    status = view["status"] or "received"
    return {
        "service_request_id": view["tracking_code"],
        "status": "open" if status in OPEN_STATUSES else "closed",
        "status_notes": messages.STATUS_LABELS.get(status, status),
        "service_code": view["category"],
        "service_name": view["field_name"],
        "description": view["public_content"],
        "agency_responsible": view["lead_agency_name"],
        "service_notice": (view["result"] or {}).get("text"),
        "requested_datetime": view["received_at"],
        "updated_datetime": _iso(case.get("updated_at")) or view["received_at"],
        "expected_datetime": view["due_at"],
        # Where the problem is, as the citizen described it (never their own contact).
        "address": view["address"],
        "lat": view["lat"],
        "long": view["lon"],
    }


def _iso(value: Any) -> str | None:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else None


@dataclass(frozen=True)
class ListQuery:
    """`GET requests` without ids: its filters, as GeoReport v2 defines them."""

    start: datetime
    end: datetime
    service_codes: tuple[str, ...] = ()
    statuses: frozenset[str] = OPEN_STATUSES | CLOSED_STATUSES


class BadQuery(ValueError):
    """A list query GeoReport does not allow; the message is the 400's description."""


def _w3c(name: str, raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadQuery(messages.OPEN311_BAD_DATE.format(name=name)) from None
    if moment.tzinfo is None:
        raise BadQuery(messages.OPEN311_DATE_NEEDS_ZONE.format(name=name))
    return moment.astimezone(UTC)


def _listed(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def parse_list_query(query: Mapping[str, str], now: datetime) -> ListQuery:
    """service_code, status, start_date and end_date; without dates, the most recent 90 days."""
    start = _w3c("start_date", query["start_date"]) if query.get("start_date") else None
    end = _w3c("end_date", query["end_date"]) if query.get("end_date") else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise BadQuery(messages.OPEN311_END_BEFORE_START)
    if end - start > MAX_SPAN:
        raise BadQuery(messages.OPEN311_SPAN_TOO_LONG)
    statuses: set[str] = set()
    for status in _listed(query.get("status", "")) or ["open", "closed"]:
        if status == "open":
            statuses |= OPEN_STATUSES
        elif status == "closed":
            statuses |= CLOSED_STATUSES
        else:
            raise BadQuery(messages.OPEN311_BAD_STATUS)
    return ListQuery(
        start=start,
        end=end,
        service_codes=tuple(_listed(query.get("service_code", ""))),
        statuses=frozenset(statuses),
    )


def list_filter(query: ListQuery) -> dict[str, Any]:
    """The store filter of a list query. Confidential cases are never listed: their
    existence and category are the submitter's to reveal, not a public list's."""
    found: dict[str, Any] = {
        "received_at": {"$gte": query.start, "$lte": query.end},
        "status": {"$in": sorted(query.statuses)},
        "confidential": {"$ne": True},
    }
    if query.service_codes:
        found["category"] = {"$in": list(query.service_codes)}
    return found


# --- formats ----------------------------------------------------------------------------

#: The XML element of one item in each list GeoReport answers with.
XML_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
}


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ElementTree.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _fill(ElementTree.SubElement(element, key), inner)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        item_tag = XML_ITEMS.get(element.tag, "item")
        for inner in value:
            _fill(ElementTree.SubElement(element, item_tag), inner)
    elif value is not None:
        element.text = _xml_value(value)


def to_xml(root: str, body: Any) -> str:
    """GeoReport's XML: ``<services><service>…``, ``<service_requests><request>…``;
    a missing value is an empty element, as in the specification's examples."""
    element = ElementTree.Element(root)
    _fill(element, body)
    return '<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(
        element, encoding="unicode"
    )


def respond(body: Any, fmt: Format, *, root: str, status: int = 200) -> web.Response:
    """One answer in the format the path asked for (`.json` or `.xml`)."""
    if fmt == "xml":
        return web.Response(
            text=to_xml(root, body), status=status, content_type="text/xml", charset="utf-8"
        )
    return http.json_response(body, status=status)


def error(status: int, description: str, fmt: Format = "json") -> web.Response:
    return respond(
        [{"code": status, "description": description}], fmt, root="errors", status=status
    )


def parse_ids(raw: str) -> list[str] | None:
    """Tracking codes from `service_request_id=a,b`; None when one is not a valid code."""
    try:
        return [parse_tracking_code(part) for part in raw.split(",") if part.strip()]
    except InvalidTrackingCode:
        return None
