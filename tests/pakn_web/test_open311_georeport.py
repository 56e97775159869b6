"""Open311 GeoReport v2 as a civic app sees it: every call through the `georeport` client from
PyPI, in JSON and in XML, against the real web app on real servers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
import xmltodict
from georeport import GeoReport

from pakn.ids import damm_check_digit
from pakn.store import Store
from pakn_web import open311
from tests.pakn_web.conftest import WebClient
from tests.pakn_web.test_open311 import REPORT

T = TypeVar("T")
NOW = datetime.now(UTC).replace(microsecond=0)


def _code(prefix: str) -> str:
    return prefix + damm_check_digit(prefix)


LIGHT_OPEN = _code("100000001")
LIGHT_DONE = _code("100000002")
WATER_OPEN = _code("100000003")
OLD_LIGHT = _code("100000004")
SECRET = _code("100000005")


def _case(code: str, *, category: str, status: str, age: timedelta, **extra: Any) -> dict[str, Any]:
    return {
        "submission_id": "web:" + code * 3 + "xx",
        "tracking_code": code,
        "status": status,
        "field": category.split(".")[0],
        "category": category,
        "lead_agency": "so-xay-dung",
        "received_at": NOW - age,
        "due_at": NOW + timedelta(days=1),
        "confidential": False,
        "public_content": f"Phản ánh {code}: đèn đường tại số *** bị tắt.",
        "submitter": {"name": "Trần Bảo", "phone": "+84905111222", "email": "bao@example.vn"},
        "location": {"address": "72 Trần Phú, phường Nha Trang", "lat": 12.2388, "lon": 109.1967},
        **extra,
    }


@pytest.fixture
async def cases(store: Store) -> None:
    await store.cases.insert_many(
        [
            _case(LIGHT_OPEN, category="chieu-sang.den-hong", status="assigned", age=timedelta(0)),
            _case(
                LIGHT_DONE,
                category="chieu-sang.den-hong",
                status="published",
                age=timedelta(days=2),
                result={"text": "Đã thay bóng đèn.", "published_at": NOW, "by": "x"},
            ),
            _case(
                WATER_OPEN,
                category="cap-thoat-nuoc.mat-nuoc",
                status="in_progress",
                age=timedelta(days=5),
            ),
            _case(OLD_LIGHT, category="chieu-sang.den-hong", status="triage", age=timedelta(200)),
            _case(
                SECRET,
                category="chieu-sang.den-hong",
                status="assigned",
                age=timedelta(hours=1),
                confidential=True,
            ),
        ]
    )


def client(web: WebClient, fmt: str) -> GeoReport:
    return GeoReport(str(web.make_url("/open311/v2")), output_format=fmt)


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    # The client is synchronous (requests); the server runs on this test's event loop.
    return await asyncio.to_thread(function, *args, **kwargs)


def as_list(found: Any) -> list[dict[str, Any]]:
    """xmltodict gives a dict for one element and a list for several; JSON always a list."""
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def ids(found: Any) -> set[str]:
    return {item["service_request_id"] for item in as_list(found)}


FORMATS = pytest.mark.parametrize("fmt", ["json", "xml"])


@FORMATS
async def test_service_list(web: WebClient, fmt: str) -> None:
    services = as_list(await call(client(web, fmt).get_service_list))
    light = next(s for s in services if s["service_code"] == "chieu-sang.den-hong")
    assert light["group"] == "Chiếu sáng công cộng"
    assert str(light["metadata"]).lower() == "true"
    assert light["type"] == "realtime"


@FORMATS
async def test_service_definition_names_the_consent_attribute(web: WebClient, fmt: str) -> None:
    definition = await call(client(web, fmt).get_service_definition, "chieu-sang.den-hong")
    assert definition["service_code"] == "chieu-sang.den-hong"
    attributes = definition["attributes"]
    (consent,) = as_list(attributes["attribute"] if fmt == "xml" else attributes)
    assert consent["code"] == "consent"
    assert str(consent["required"]).lower() == "true"
    (value,) = as_list(consent["values"]["value"] if fmt == "xml" else consent["values"])
    assert value["key"] == "yes"


@FORMATS
async def test_an_unknown_service_is_a_404(web: WebClient, fmt: str) -> None:
    response = await web.get(f"/open311/v2/services/khong-co.{fmt}")
    assert response.status == 404
    text = await response.text()
    if fmt == "xml":
        assert xmltodict.parse(text)["errors"]["error"]["code"] == "404"


@FORMATS
async def test_list_without_filters_is_the_last_90_days_public_cases(
    web: WebClient, cases: None, fmt: str
) -> None:
    found = as_list(await call(client(web, fmt).get_service_requests))
    # The 200-day-old case is out of the default window; the confidential one is never listed.
    assert ids(found) == {LIGHT_OPEN, LIGHT_DONE, WATER_OPEN}
    newest = found[0]
    assert newest["service_request_id"] == LIGHT_OPEN  # newest first
    assert newest["address"] == "72 Trần Phú, phường Nha Trang"
    assert float(newest["lat"]) == 12.2388 and float(newest["long"]) == 109.1967
    assert newest["agency_responsible"] == "Sở Xây dựng tỉnh Khánh Hòa"
    assert newest["status"] == "open"


@FORMATS
async def test_list_filters_by_service_code_and_status(
    web: WebClient, cases: None, fmt: str
) -> None:
    geo = client(web, fmt)
    assert ids(await call(geo.get_service_requests, service_code="chieu-sang.den-hong")) == {
        LIGHT_OPEN,
        LIGHT_DONE,
    }
    codes = "chieu-sang.den-hong,cap-thoat-nuoc.mat-nuoc"
    assert ids(await call(geo.get_service_requests, service_code=codes, status="open")) == {
        LIGHT_OPEN,
        WATER_OPEN,
    }
    (done,) = as_list(await call(geo.get_service_requests, status="closed"))
    assert done["service_request_id"] == LIGHT_DONE
    assert done["status"] == "closed" and done["service_notice"] == "Đã thay bóng đèn."


@FORMATS
async def test_list_filters_by_start_and_end_date(web: WebClient, cases: None, fmt: str) -> None:
    geo = client(web, fmt)

    def w3c(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    recent = await call(geo.get_service_requests, start_date=w3c(NOW - timedelta(days=3)))
    assert ids(recent) == {LIGHT_OPEN, LIGHT_DONE}
    window = await call(
        geo.get_service_requests,
        start_date=w3c(NOW - timedelta(days=6)),
        end_date=w3c(NOW - timedelta(days=1)),
    )
    assert ids(window) == {LIGHT_DONE, WATER_OPEN}
    old = await call(
        geo.get_service_requests,
        start_date=w3c(NOW - timedelta(days=210)),
        end_date=w3c(NOW - timedelta(days=150)),
    )
    assert ids(old) == {OLD_LIGHT}


@FORMATS
async def test_a_list_query_the_spec_does_not_allow_is_a_400(web: WebClient, fmt: str) -> None:
    too_long = "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"
    for query in (too_long, "status=maybe", "start_date=yesterday"):
        response = await web.get(f"/open311/v2/requests.{fmt}?{query}")
        assert response.status == 400, query
        text = await response.text()
        error = (
            xmltodict.parse(text)["errors"]["error"] if fmt == "xml" else (await response.json())[0]
        )
        assert str(error["code"]) == "400" and error["description"]


@FORMATS
async def test_requests_by_id_and_one_request(web: WebClient, cases: None, fmt: str) -> None:
    geo = client(web, fmt)
    # service_request_id overrides every other filter, as the specification says.
    both = await call(
        geo.get_service_requests,
        service_request_id=f"{LIGHT_OPEN},{OLD_LIGHT}",
        status="closed",
    )
    assert ids(both) == {LIGHT_OPEN, OLD_LIGHT}
    one = await call(geo.get_service_request, WATER_OPEN)
    assert one["service_request_id"] == WATER_OPEN
    assert one["service_name"] == "Cấp thoát nước"
    assert one["address"] == "72 Trần Phú, phường Nha Trang"


@FORMATS
async def test_nothing_personal_in_any_answer(web: WebClient, cases: None, fmt: str) -> None:
    for path in (f"requests.{fmt}", f"requests/{LIGHT_OPEN}.{fmt}", f"requests/{SECRET}.{fmt}"):
        text = await (await web.get(f"/open311/v2/{path}")).text()
        assert "Trần Bảo" not in text and "905111222" not in text and "bao@" not in text
    # The confidential case, asked for by its code: no content and no place.
    secret = await call(client(web, fmt).get_service_request, SECRET)
    assert not secret.get("description") and not secret.get("address")


@FORMATS
async def test_a_post_answers_in_the_format_asked(web: WebClient, fmt: str) -> None:
    response = await web.post(f"/open311/v2/requests.{fmt}", data=REPORT)
    assert response.status == 200, await response.text()
    text = await response.text()
    if fmt == "xml":
        assert response.content_type == "text/xml"
        created = xmltodict.parse(text)["service_requests"]["request"]
    else:
        (created,) = await response.json()
    assert len(created["service_request_id"]) == 10
    missing = {k: v for k, v in REPORT.items() if k != "attribute[consent]"}
    refused = await web.post(f"/open311/v2/requests.{fmt}", data=missing)
    assert refused.status == 400


def test_xml_follows_the_specification_shape() -> None:
    text = open311.to_xml(
        "service_requests",
        [{"service_request_id": "1", "lat": None, "ok": True, "address": "Số 1 & 2 <A>"}],
    )
    parsed = xmltodict.parse(text)["service_requests"]["request"]
    assert parsed == {
        "service_request_id": "1",
        "lat": None,
        "ok": "true",
        "address": "Số 1 & 2 <A>",
    }


def test_default_window_and_status_groups() -> None:
    query = open311.parse_list_query({}, NOW)
    assert query.end == NOW and query.start == NOW - timedelta(days=90)
    assert open311.parse_list_query({"status": "open"}, NOW).statuses == open311.OPEN_STATUSES
    start_only = open311.parse_list_query({"start_date": "2026-01-01T00:00:00+07:00"}, NOW)
    assert start_only.end - start_only.start == timedelta(days=90)
    assert open311.list_filter(query)["confidential"] == {"$ne": True}
