"""PAKN_AMQP_URL naming several broker nodes."""

from __future__ import annotations

from pakn.brokers import broker_urls, node_name


def test_one_url_is_one_node() -> None:
    assert broker_urls("amqp://guest:guest@127.0.0.1:5672/") == [
        "amqp://guest:guest@127.0.0.1:5672/"
    ]


def test_several_full_urls_by_comma_or_space() -> None:
    value = "amqp://a:b@r1:5672/pakn, amqp://a:b@r2:5673/pakn\namqp://a:b@r1:5672/pakn"
    assert broker_urls(value) == ["amqp://a:b@r1:5672/pakn", "amqp://a:b@r2:5673/pakn"]


def test_one_url_with_several_hosts_keeps_credentials_vhost_and_options() -> None:
    value = "amqps://pakn:s3cr%40t@rabbit1:5671,rabbit2,rabbit3:5671/pakn?heartbeat=30"
    assert broker_urls(value) == [
        "amqps://pakn:s3cr%40t@rabbit1:5671/pakn?heartbeat=30",
        "amqps://pakn:s3cr%40t@rabbit2/pakn?heartbeat=30",
        "amqps://pakn:s3cr%40t@rabbit3:5671/pakn?heartbeat=30",
    ]
    assert broker_urls("amqp://rabbit1,rabbit2") == ["amqp://rabbit1", "amqp://rabbit2"]


def test_a_node_is_named_without_its_password() -> None:
    assert node_name("amqp://pakn:secret@rabbit2:5673/pakn") == "rabbit2:5673"
    assert node_name("amqp://pakn:secret@rabbit2/pakn") == "rabbit2:5672"
