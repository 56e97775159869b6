"""Settings of `pakn email`, from PAKN_* environment variables (DESIGN.md §3)."""

from __future__ import annotations

import functools
import ssl
from typing import Literal

from pydantic import Field, FilePath, SecretStr

from pakn.settings import HttpServiceSettings

TlsMode = Literal["tls", "starttls", "none"]


@functools.cache
def _verifying_context(cafile: str | None) -> ssl.SSLContext:
    """One context per CA bundle for the process: each connection and each letter would
    otherwise read and parse the whole bundle again. A context is safe to share."""
    return ssl.create_default_context(cafile=cafile)


class EmailSettings(HttpServiceSettings):
    email_port: int = Field(default=8084, ge=1, le=65535)

    imap_host: str | None = None
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_mailbox: str = "INBOX"
    imap_tls: TlsMode = "tls"
    #: Where a message goes once it is a case, a follow-up or ignored with a reason.
    imap_processed: str = "PAKN/Processed"
    #: Where a message goes that could not be read as a report (for a person to look at).
    imap_failed: str = "PAKN/Failed"
    #: Seconds between polls when the server has no IDLE.
    imap_poll_interval: float = Field(default=60.0, gt=0)
    #: IDLE is renewed (and the inbox searched) after this long. RFC 2177 asks for less
    #: than 29 minutes; 5 bounds how long a letter waits when a search right after a push
    #: did not see it yet (seen once against Dovecot in the test suite).
    imap_idle_renew: float = Field(default=5 * 60.0, gt=0, lt=29 * 60.0)
    #: Seconds an IMAP command may take.
    imap_timeout: float = Field(default=30.0, gt=0)

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "pakn@khanhhoa.gov.vn"
    smtp_tls: TlsMode = "starttls"
    smtp_timeout: float = Field(default=30.0, gt=0)
    #: CA certificates (PEM) that sign the mail servers' certificates, for a mail server
    #: behind an internal CA; unset, the system's CAs. Names and certificates are always
    #: checked: a mailbox of citizens' letters is not read over an unverified link.
    mail_ca_file: FilePath | None = None

    #: How long a submission waits for the broker's confirm before it is tried again later.
    confirm_timeout: float = Field(default=10.0, gt=0)
    #: Seconds between looks at the outbox for mail due to be sent.
    outbox_interval: float = Field(default=5.0, gt=0)
    #: The longest wait between two tries of one outgoing mail.
    outbox_max_backoff: float = Field(default=3600.0, gt=0)
    #: Seconds between reconciliation runs, and how far back they look.
    reconcile_interval: float = Field(default=3600.0, gt=0)
    reconcile_window_days: int = Field(default=7, ge=1)
    #: Longest wait between two reconnection attempts to the mail server.
    reconnect_max_backoff: float = Field(default=300.0, gt=0)

    def tls_context(self) -> ssl.SSLContext:
        """How IMAP and SMTP verify the mail servers (TLS and STARTTLS alike)."""
        return _verifying_context(str(self.mail_ca_file) if self.mail_ca_file else None)

    def required_secrets(self) -> dict[str, SecretStr | None]:
        needed = dict(super().required_secrets())
        if self.imap_host:
            needed["imap_password"] = self.imap_password
        if self.smtp_host and self.smtp_user:
            needed["smtp_password"] = self.smtp_password
        return needed

    @property
    def mailbox_address(self) -> str:
        """The mailbox as a client name for submission ids: who the mail was sent to."""
        return f"{self.imap_user or self.smtp_from}@{self.imap_host or 'local'}/{self.imap_mailbox}"

    @property
    def own_addresses(self) -> frozenset[str]:
        """Addresses mail of ours comes from: never answered (loops)."""
        addresses = {self.smtp_from.lower()}
        if self.imap_user and "@" in self.imap_user:
            addresses.add(self.imap_user.lower())
        return frozenset(addresses)
