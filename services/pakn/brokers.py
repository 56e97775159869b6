"""Several RabbitMQ nodes behind one setting, and a robust connection that fails over.

``PAKN_AMQP_URL`` may name one node, several full URLs separated by commas or spaces, or one
URL with several hosts (``amqp://user:pass@rabbit1:5672,rabbit2,rabbit3/pakn``, the way a
MongoDB URL names a replica set). aio-pika's robust connection always reconnects to the one
URL it was given; with a cluster that would keep a service waiting for the node that died
while its peers serve the same quorum queues.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from aiormq.abc import AbstractConnection as UnderlayConnection
from yarl import URL

_SEPARATORS = re.compile(r"[\s,]+")


def broker_urls(value: str) -> list[str]:
    """Every node ``value`` names, in order, each once (see the module's docstring)."""
    value = value.strip()
    pieces = [p for p in _SEPARATORS.split(value) if p]
    if len(pieces) > 1 and all("://" in p for p in pieces):
        return list(dict.fromkeys(pieces))
    scheme, sep, rest = value.partition("://")
    if not sep:
        return [value]
    authority_end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, tail = rest[:authority_end], rest[authority_end:]
    userinfo, at, hosts = authority.rpartition("@")
    prefix = f"{scheme}://{userinfo}{at}"
    nodes = [f"{prefix}{host}{tail}" for host in hosts.split(",") if host]
    return list(dict.fromkeys(nodes)) or [value]


def node_name(url: URL | str) -> str:
    """``host:port`` of a broker URL, for logs and health answers (never the password)."""
    parsed = URL(str(url))
    return f"{parsed.host}:{parsed.port or 5672}"


class FailoverConnection(aio_pika.RobustConnection):
    """A robust connection over several nodes: when the connection is lost, or an attempt to
    reconnect fails, the next attempt goes to the next node, round the list.

    aio-pika reads ``url`` for each attempt and clears ``transport`` at the start of each;
    both are properties here so the node can move on at exactly those points.
    """

    def __init__(self, urls: Sequence[URL], **kwargs: Any) -> None:
        if not urls:
            raise ValueError("no broker node to connect to")
        self._nodes = list(urls)
        self._node = 0
        self._attempt_pending = False
        self._ready = False
        super().__init__(self._nodes[0], **kwargs)
        self._ready = True

    @property
    def url(self) -> URL:
        return self._nodes[self._node]

    @url.setter
    def url(self, value: URL) -> None:
        # Set by aio-pika in __init__ and when a secret is updated: it belongs to this node.
        self._nodes[self._node] = value

    @property  # type: ignore[override]
    def transport(self) -> UnderlayConnection | None:
        return getattr(self, "_transport_now", None)

    @transport.setter
    def transport(self, value: UnderlayConnection | None) -> None:
        old = getattr(self, "_transport_now", None)
        if value is None and self._ready:
            # Cleared before each attempt: after a lost connection or a failed attempt, the
            # next node; the very first attempt stays on the first.
            if old is not None or self._attempt_pending:
                self._node = (self._node + 1) % len(self._nodes)
            self._attempt_pending = True
        elif value is not None:
            self._attempt_pending = False
        self._transport_now = value

    @property
    def node(self) -> str:
        return node_name(self.url)


def robust_connection(amqp_url: str, **kwargs: Any) -> AbstractRobustConnection:
    """A robust connection to the node(s) ``amqp_url`` names (not yet connected)."""
    urls = [URL(u) for u in broker_urls(amqp_url)]
    if len(urls) == 1:
        return aio_pika.RobustConnection(urls[0], **kwargs)
    return FailoverConnection(urls, **kwargs)
