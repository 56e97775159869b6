"""Open311 GeoReport v2 (JSON) so existing civic apps can submit and follow reports.

Services are the province's categories. Our rules that GeoReport lacks a field for travel as
service attributes, as the spec intends: the citizen's consent to the processing of personal
data (Luật 91/2025/QH15) is a required attribute of every service."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

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
OPEN_STATUSES = {"received", "needs_info", "triage", "assigned", "in_progress"}


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
        # Where it happened is kept off public views, like the citizen's own address.
        "address": None,
        "lat": None,
        "long": None,
    }


def _iso(value: Any) -> str | None:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else None


def error(status: int, description: str) -> web.Response:
    return web.json_response(
        [{"code": status, "description": description}],
        status=status,
        dumps=lambda body: json.dumps(body, ensure_ascii=False),
    )


def parse_ids(raw: str) -> list[str] | None:
    """Tracking codes from `service_request_id=a,b`; None when one is not a valid code."""
    try:
        return [parse_tracking_code(part) for part in raw.split(",") if part.strip()]
    except InvalidTrackingCode:
        return None
