"""Registers `pakn hotline` with the core CLI and the `pakn up` supervisor."""

from __future__ import annotations

from pakn.service import ServiceSpec


def _main() -> None:
    from pakn_hotline.app import main

    main()


def _url() -> str:
    from pakn_hotline.settings import HotlineSettings

    settings = HotlineSettings()
    return f"http://{settings.host}:{settings.hotline_port}/"


SERVICE = ServiceSpec(
    name="hotline",
    summary="hotline 1900 1023: agents' console and the phone system's API",
    main=_main,
    url=_url,
    order=30,
)
