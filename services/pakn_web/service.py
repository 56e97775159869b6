"""Registers `pakn web` with the core CLI and the `pakn up` supervisor."""

from __future__ import annotations

from pakn.service import Listen, ServiceSpec


def _main() -> None:
    from pakn_web.app import main

    main()


def _url() -> str:
    from pakn_web.settings import WebSettings

    settings = WebSettings()
    return f"http://{settings.host}:{settings.web_port}/"


def _listen() -> Listen:
    from pakn_web.settings import WebSettings

    settings = WebSettings()
    return Listen(settings.host, settings.web_port, "PAKN_WEB_PORT")


SERVICE = ServiceSpec(
    name="web",
    summary="web portal and app intake",
    main=_main,
    url=_url,
    listen=_listen,
    order=20,
)
