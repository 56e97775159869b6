"""A store outage at intake: 503 with Retry-After, nothing published, and the retry with the
same key gets one code, the same on every further retry."""

from __future__ import annotations

from pakn.bus import SUBMISSIONS_QUEUE
from pakn.store import Store
from tests.fixtures.broker import QueueInspector, TcpProxy
from tests.fixtures.store import proxied_store_url
from tests.pakn_web.conftest import WebClientFactory, report

JSON = {"Accept": "application/json", "X-Client": "app/2.4"}


async def test_store_outage_gives_503_then_the_retry_gets_one_code(
    web_client_factory: WebClientFactory,
    store_proxy: TcpProxy,
    mongodb_url: str,
    store: Store,
    amqp_queues: QueueInspector,
) -> None:
    web = await web_client_factory(
        store=proxied_store_url(store_proxy, mongodb_url, store.db.name),
        store_timeout=1.0,
        retry_after=12,
    )
    headers, body = {**JSON, "Idempotency-Key": "outage-retry-1"}, report()
    store_proxy.cut()
    response = await web.post("/api/v1/submissions", json=body, headers=headers)
    assert response.status == 503
    assert response.headers["Retry-After"] == "12"
    assert "gửi lại" in (await response.json())["message"]
    assert await amqp_queues.depth(SUBMISSIONS_QUEUE) == 0
    health = await web.get("/healthz")
    assert health.status == 503 and (await health.json())["checks"]["store"] != "ok"

    store_proxy.restore()
    codes = []
    for _ in range(2):
        response = await web.post("/api/v1/submissions", json=body, headers=headers)
        assert response.status == 202, await response.text()
        codes.append((await response.json())["tracking_code"])
    assert codes[0] == codes[1]
    assert await store.intake_keys.count_documents({}) == 1
    assert (await web.get("/healthz")).status == 200
