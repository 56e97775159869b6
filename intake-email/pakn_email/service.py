"""Registers `pakn email` with the core CLI and the `pakn up` supervisor."""

from __future__ import annotations

import argparse

from pakn.service import Listen, ServiceSpec


def _main() -> None:
    from pakn_email.app import main

    main()


def _url() -> str:
    from pakn_email.settings import EmailSettings

    settings = EmailSettings()
    return f"http://{settings.host}:{settings.email_port}/healthz"


def _listen() -> Listen:
    from pakn_email.settings import EmailSettings

    settings = EmailSettings()
    return Listen(settings.host, settings.email_port, "PAKN_EMAIL_PORT")


def _skip_reason() -> str | None:
    from pakn_email.settings import EmailSettings

    if not EmailSettings().imap_host:
        return "e-mail is off: PAKN_IMAP_HOST is not set (see README, 'The mailbox')"
    return None


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    from pakn_email.reconcile import add_arguments

    add_arguments(parser)


SERVICE = ServiceSpec(
    name="email",
    summary="mailbox pakn@ (IMAP in, SMTP acknowledgements out)",
    main=_main,
    url=_url,
    skip_reason=_skip_reason,
    listen=_listen,
    order=30,
    add_arguments=_add_arguments,
)
