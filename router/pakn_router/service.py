"""Registers `pakn router` with the core CLI and the `pakn up` supervisor."""

from __future__ import annotations

from pakn.service import Listen, ServiceSpec


def _main() -> None:
    from pakn_router.app import main

    main()


def _url() -> str:
    from pakn_router.settings import RouterSettings

    settings = RouterSettings()
    return f"http://{settings.host}:{settings.router_port}/"


def _listen() -> Listen:
    from pakn_router.settings import RouterSettings

    settings = RouterSettings()
    return Listen(settings.host, settings.router_port, "PAKN_ROUTER_PORT")


SERVICE = ServiceSpec(
    name="router",
    summary="router and routing monitor",
    main=_main,
    url=_url,
    listen=_listen,
    order=10,  # before the channels that feed it
)
