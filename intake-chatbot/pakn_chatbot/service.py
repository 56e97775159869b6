"""Registers `pakn chatbot` with the core CLI and the `pakn up` supervisor."""

from __future__ import annotations

from pakn.service import ServiceSpec


def _main() -> None:
    from pakn_chatbot.app import main

    main()


def _url() -> str:
    from pakn_chatbot.settings import ChatbotSettings

    settings = ChatbotSettings()
    return f"http://{settings.host}:{settings.chatbot_port}/webhook/generic"


SERVICE = ServiceSpec(
    name="chatbot",
    summary="chat webhooks (widget, Zalo OA, Messenger)",
    main=_main,
    url=_url,
    order=30,
)
