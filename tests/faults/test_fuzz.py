"""No input, however malformed, makes the web intake answer 5xx or leave a reservation behind.

First the ten classes of input that answered 500 in the drills, each as a regression test;
then Hypothesis strategies for JSON, multipart, urlencoded and Open311 bodies and for headers,
sent to the real service. ``PAKN_FUZZ_EXAMPLES`` sets how many examples each strategy runs
(``make fuzz`` runs many; ``make test`` a bounded number).
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Collection
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pakn.store import Store
from tests.pakn_web.conftest import WebClient, WebClientFactory, report

EXAMPLES = int(os.environ.get("PAKN_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("PAKN_FUZZ_RANDOM") is None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SUBMIT = "/api/v1/submissions"
OPEN311 = "/open311/v2/requests.json"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def web(web_client_factory: WebClientFactory, store: Store) -> WebClient:
    """The web intake with limits that let a fuzzer through (the limiter is tested apart)."""
    return await web_client_factory(submit_burst=100_000, lookup_burst=100_000)


async def no_reservation_left(store: Store, accepted: Collection[str] = ()) -> None:
    """Only reports that were answered 202 hold a tracking code."""
    held = {doc["tracking_code"] async for doc in store.intake_keys.find({}, {"tracking_code": 1})}
    assert held <= set(accepted), f"reservations left behind: {held - set(accepted)}"


def multipart(parts: list[tuple[str, str | None, bytes]], boundary: str = "zzzBOUNDzzz") -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode(
            "utf-8", "surrogateescape"
        )
        out += data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


# --- the ten classes, each a regression test ------------------------------------------------


async def test_a_nul_in_a_multipart_filename_is_a_clear_error(web: WebClient, store: Store) -> None:
    fields = {**report(), "location": None, "submitter": None}
    body = multipart(
        [
            ("content", None, fields["content"].encode()),
            ("files", "anh\x00.jpg", b"\xff\xd8\xff\xe0 not really a jpeg"),
        ]
    )
    response = await web.post(
        SUBMIT, data=body, headers={"Content-Type": "multipart/form-data; boundary=zzzBOUNDzzz"}
    )
    assert 400 <= response.status < 500
    assert "message" in json.dumps(await response.json(), ensure_ascii=False)
    await no_reservation_left(store)


@pytest.mark.parametrize("charset", ["x-unknown-charset", "utf-16", "utf-8"])
async def test_an_urlencoded_body_in_an_odd_charset_is_a_clear_error(
    web: WebClient, store: Store, charset: str
) -> None:
    body = b"content=%FF%FE%00abc&name=%E9%80"
    if charset == "utf-16":
        body = "content=Đèn đường".encode("utf-16")
    response = await web.post(
        SUBMIT,
        data=body,
        headers={"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"},
    )
    assert 400 <= response.status < 500
    await no_reservation_left(store)


async def test_a_latitude_of_309_digits_is_invalid_coordinates(
    web: WebClient, store: Store
) -> None:
    body = report(location={"address": "45 Lê Thánh Tôn, phường Nha Trang", "lat": 10**309})
    response = await web.post(SUBMIT, json=body)
    assert response.status == 422
    codes = {(e["field"], e["code"]) for e in (await response.json())["errors"]}
    assert ("location.lat", "invalid_coordinates") in codes
    await no_reservation_left(store)


async def test_json_nested_a_thousand_deep_is_a_bad_request(web: WebClient, store: Store) -> None:
    deep = '{"content": ' + "[" * 1000 + "]" * 1000 + "}"
    response = await web.post(SUBMIT, data=deep.encode(), headers=JSON)
    assert response.status == 400
    await no_reservation_left(store)


@pytest.mark.parametrize(
    "path", [("content",), ("title",), ("submitter", "name"), ("location", "address")]
)
async def test_a_lone_surrogate_in_a_text_field_is_refused_before_any_reservation(
    web: WebClient, store: Store, path: tuple[str, ...]
) -> None:
    body: dict[str, Any] = report(title="Nắp hố ga bị mất")
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = target[path[-1]] + " \ud800 thêm"
    raw = json.dumps(body).encode()  # JSON escapes it: \\ud800, which parses back lone
    response = await web.post(SUBMIT, data=raw, headers=JSON)
    assert response.status == 422
    errors = (await response.json())["errors"]
    assert {"field": ".".join(path), "code": "invalid_characters"} in [
        {"field": e["field"], "code": e["code"]} for e in errors
    ]
    # And again when the form is shown again to a browser with what was typed.
    page = await web.post(SUBMIT, data=raw, headers={**JSON, "Accept": "text/html"})
    assert page.status == 422 and "text/html" in page.content_type
    await no_reservation_left(store)


async def test_a_commune_over_the_schemas_limit_is_too_long(web: WebClient, store: Store) -> None:
    body = report(location={"address": "45 Lê Thánh Tôn", "commune": "Phường " + "Ạ" * 200})
    response = await web.post(SUBMIT, json=body)
    assert response.status == 422
    codes = {(e["field"], e["code"]) for e in (await response.json())["errors"]}
    assert ("location.commune", "too_long") in codes
    await no_reservation_left(store)


async def test_an_idempotency_key_over_512_characters_is_refused(
    web: WebClient, store: Store
) -> None:
    response = await web.post(SUBMIT, json=report(), headers={"Idempotency-Key": "k" * 513})
    assert response.status == 400
    assert (await response.json())["error"] == "invalid_idempotency_key"
    await no_reservation_left(store)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\nb\r\n--x--"),
        ("multipart/form-data; boundary=yyy", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="de'),
    ],
    ids=["missing boundary", "wrong boundary", "truncated"],
)
async def test_a_broken_open311_post_is_a_vietnamese_400(
    web: WebClient, store: Store, content_type: str, body: bytes
) -> None:
    response = await web.post(OPEN311, data=body, headers={"Content-Type": content_type})
    assert response.status == 400
    (error,) = await response.json()
    assert error["code"] == 400 and "không" in error["description"].lower()
    await no_reservation_left(store)


# --- fuzzing --------------------------------------------------------------------------------

texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=60) | st.sampled_from(
    ["", " ", "\x00", "\ud800", "Đèn đường không sáng", "0905123456", "1e309"]
)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)
FIELDS = ["content", "title", "occurred_at", "location", "submitter", "consent", "in_reply_to"]
report_like = st.fixed_dictionaries(
    {},
    optional={
        name: json_values
        | st.fixed_dictionaries({}, optional=dict.fromkeys(("address", "lat", "name"), json_values))
        for name in FIELDS
    },
)
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=600
)  # what HTTP lets through
headers = st.fixed_dictionaries(
    {},
    optional={
        "Idempotency-Key": header_text,
        "X-Client": header_text,
        "Accept": st.sampled_from(["text/html", "application/json", "*/*", ""]),
    },
)


class Outcomes:
    def __init__(self) -> None:
        self.accepted: set[str] = set()

    async def check(self, response: Any) -> None:
        assert response.status < 500, f"{response.status}: {await response.text()}"
        if response.status == 202:
            self.accepted.add((await response.json())["tracking_code"])


@FUZZ
@given(body=report_like, sent_headers=headers)
async def test_fuzzed_json_reports_never_answer_5xx(
    web: WebClient, store: Store, body: dict[str, Any], sent_headers: dict[str, str]
) -> None:
    outcomes = Outcomes()
    raw = json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")
    await outcomes.check(await web.post(SUBMIT, data=raw, headers={**JSON, **sent_headers}))
    await no_reservation_left(store, outcomes.accepted)
    await store.intake_keys.delete_many({})


@FUZZ
@given(
    parts=st.lists(
        st.tuples(
            st.sampled_from(["content", "title", "files", "lat", "phone", "name", "x"]),
            st.none() | st.text(max_size=30),
            st.binary(max_size=200),
        ),
        max_size=6,
    ),
    boundary=st.sampled_from(["zzzBOUNDzzz", "", "x" * 80]),
    declared=st.sampled_from(["zzzBOUNDzzz", "other", ""]),
    truncate=st.integers(min_value=0, max_value=40),
)
async def test_fuzzed_multipart_bodies_never_answer_5xx(
    web: WebClient,
    store: Store,
    parts: list[tuple[str, str | None, bytes]],
    boundary: str,
    declared: str,
    truncate: int,
) -> None:
    outcomes = Outcomes()
    body = multipart(parts, boundary or "b")
    body = body[: max(len(body) - truncate, 0)]
    content_type = "multipart/form-data" + (f"; boundary={declared}" if declared else "")
    for path in (SUBMIT, OPEN311):
        response = await web.post(path, data=body, headers={"Content-Type": content_type})
        await outcomes.check(response)
    await no_reservation_left(store, outcomes.accepted)
    await store.intake_keys.delete_many({})


@FUZZ
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(
                ["content", "name", "phone", "lat", "lon", "service_code", "description", "long"]
            ),
            st.binary(max_size=80),
        ),
        max_size=8,
    ),
    charset=st.sampled_from(["", "utf-8", "latin-1", "utf-16", "x-nope", "windows-1258"]),
)
async def test_fuzzed_urlencoded_forms_and_open311_posts_never_answer_5xx(
    web: WebClient, store: Store, pairs: list[tuple[str, bytes]], charset: str
) -> None:
    from urllib.parse import quote_from_bytes

    outcomes = Outcomes()
    body = "&".join(f"{name}={quote_from_bytes(value)}" for name, value in pairs).encode()
    content_type = "application/x-www-form-urlencoded" + (f"; charset={charset}" if charset else "")
    for path in (SUBMIT, OPEN311):
        response = await web.post(path, data=body, headers={"Content-Type": content_type})
        await outcomes.check(response)
    await no_reservation_left(store, outcomes.accepted)
    await store.intake_keys.delete_many({})


@FUZZ
@given(
    code=st.text(string.digits + " .-", max_size=14) | st.text(max_size=20),
    sent_headers=headers,
)
async def test_fuzzed_lookups_never_answer_5xx(
    web: WebClient, code: str, sent_headers: dict[str, str]
) -> None:
    from urllib.parse import quote

    quoted = quote(code.encode("utf-8", "surrogatepass"), safe="")
    for path in (
        f"/api/v1/cases/{quoted}",
        f"/tra-cuu?ma={quoted}",
        f"/open311/v2/requests/{quoted}.json",
        f"/open311/v2/requests.json?service_request_id={quoted}",
    ):
        response = await web.get(path, headers=sent_headers)
        assert response.status < 500, f"{path}: {response.status}"
