"""Open311 GeoReport v2: existing civic apps submit and follow reports through the same rules."""

from __future__ import annotations

from datetime import UTC, datetime

from pakn.bus import SUBMISSIONS_QUEUE
from pakn.ids import damm_check_digit
from pakn.schema import Submission
from pakn.store import Store
from tests.fixtures.broker import QueueInspector
from tests.pakn_web.conftest import WebClient

REPORT = {
    "service_code": "chieu-sang.den-hong",
    "lat": "12.2388",
    "long": "109.1967",
    "address_string": "Trước số 72 Trần Phú, phường Nha Trang",
    "description": "Cột đèn chiếu sáng trước số 72 Trần Phú bị tắt hai đêm nay, rất tối.",
    "first_name": "Bảo",
    "last_name": "Trần",
    "phone": "0905111222",
    "attribute[consent]": "yes",
}


async def test_services_are_the_provinces_categories(web: WebClient) -> None:
    services = await (await web.get("/open311/v2/services.json")).json()
    codes = {s["service_code"] for s in services}
    assert "chieu-sang.den-hong" in codes
    light = next(s for s in services if s["service_code"] == "chieu-sang.den-hong")
    assert light["group"] == "Chiếu sáng công cộng"
    assert light["metadata"] is True
    definition = await (await web.get("/open311/v2/services/chieu-sang.den-hong.json")).json()
    assert definition["attributes"][0]["code"] == "consent"
    assert definition["attributes"][0]["required"] is True
    assert (await web.get("/open311/v2/services/khong-co.json")).status == 404


async def test_a_georeport_post_is_published_like_any_report(
    web: WebClient, amqp_queues: QueueInspector
) -> None:
    response = await web.post("/open311/v2/requests.json", data=REPORT)
    assert response.status == 200, await response.text()
    (created,) = await response.json()
    code = created["service_request_id"]
    submission = Submission.model_validate_json((await amqp_queues.get_one(SUBMISSIONS_QUEUE)).body)
    assert submission.tracking_code == code
    assert submission.submitter.name == "Bảo Trần"
    assert submission.location.lat == 12.2388


async def test_the_same_rules_apply_to_georeport(
    web: WebClient, amqp_queues: QueueInspector
) -> None:
    unaccented = {**REPORT, "description": "Den duong truoc so 72 Tran Phu bi tat hai dem nay"}
    response = await web.post("/open311/v2/requests.json", data=unaccented)
    assert response.status == 400
    assert "có dấu" in (await response.json())[0]["description"]
    no_consent = {k: v for k, v in REPORT.items() if k != "attribute[consent]"}
    assert (await web.post("/open311/v2/requests.json", data=no_consent)).status == 400
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0


async def test_a_request_is_shown_without_personal_data(web: WebClient, store: Store) -> None:
    code = "555444333" + damm_check_digit("555444333")
    now = datetime.now(UTC)
    await store.cases.insert_one(
        {
            "submission_id": "web:" + "c" * 32,
            "tracking_code": code,
            "status": "assigned",
            "field": "chieu-sang",
            "category": "chieu-sang.den-hong",
            "lead_agency": "so-xay-dung",
            "received_at": now,
            "due_at": now,
            "confidential": False,
            "public_content": "Cột đèn trước số *** bị tắt.",
            "submitter": {"name": "Trần Bảo", "phone": "+84905111222"},
            "location": {"address": "72 Trần Phú", "lat": 12.2, "lon": 109.1},
        }
    )
    (view,) = await (await web.get(f"/open311/v2/requests/{code}.json")).json()
    assert view["status"] == "open"
    assert view["agency_responsible"] == "Sở Xây dựng tỉnh Khánh Hòa"
    assert view["description"] == "Cột đèn trước số *** bị tắt."
    # Where the problem is is echoed (GeoReport's address); who reported it never is.
    assert view["address"] == "72 Trần Phú" and view["lat"] == 12.2
    text = await (await web.get(f"/open311/v2/requests.json?service_request_id={code}")).text()
    assert "Trần Bảo" not in text and "905111222" not in text
    assert (await web.get("/open311/v2/requests/1234567890.json")).status in {400, 404}
    # Without ids it is a list query (tests/pakn_web/test_open311_georeport.py).
    assert (await web.get("/open311/v2/requests.json")).status == 200
