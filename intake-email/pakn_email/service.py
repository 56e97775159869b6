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
    from pakn.devmail import dovecot_binary
    from pakn_email.settings import EmailSettings

    if EmailSettings().imap_host:
        return None
    if dovecot_binary() is None:
        # Else `pakn up` would have run its development mailbox and set PAKN_IMAP_HOST.
        return (
            "e-mail is off: PAKN_IMAP_HOST is not set, and without Dovecot there is no "
            "development mailbox (`apt-get install dovecot-imapd`; see README, 'The mailbox')"
        )
    return "e-mail is off: PAKN_IMAP_HOST is not set (see README, 'The mailbox')"


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
