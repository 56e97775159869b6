"""The mailbox over TLS, as production runs it: real Dovecot (IMAPS and STARTTLS) and aiosmtpd
(STARTTLS and implicit TLS) with certificates of a throwaway CA, verified by the email
service through PAKN_MAIL_CA_FILE; refused without it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme
from pydantic import SecretStr

from pakn.devmail import ServerTls
from pakn.store import Store
from pakn_email.imap import ImapSession
from pakn_email.outbox import Outbox
from pakn_email.settings import EmailSettings
from tests.fixtures.mail import Dovecot, SmtpSink
from tests.fixtures.store import free_port
from tests.pakn_email.test_outbox import _item


@dataclass(frozen=True)
class Certificates:
    """A CA's certificate (what the client trusts) and the server's, issued for 127.0.0.1."""

    ca_file: Path
    server: ServerTls
    server_context: ssl.SSLContext


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    cert, key = folder / "server.pem", folder / "server.key"
    with cert.open("wb") as chain:
        for pem in issued.cert_chain_pems:
            chain.write(pem.bytes())
    issued.private_key_pem.write_to_path(str(key))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    issued.configure_cert(context)
    return Certificates(folder / "ca.pem", ServerTls(cert, key, free_port()), context)


@pytest.fixture(scope="module")
def tls_dovecot(certificates: Certificates) -> Iterator[Dovecot]:
    server = Dovecot.in_temporary_folder(free_port(), tls=certificates.server)
    server.start()
    try:
        yield server
    finally:
        server.remove()


def imap_settings(dovecot: Dovecot, tmp_path: Path, **values: Any) -> EmailSettings:
    return EmailSettings(
        env="test",
        var_dir=tmp_path,
        imap_host="127.0.0.1",
        imap_user=dovecot.user,
        imap_password=SecretStr(dovecot.password),
        imap_timeout=10.0,
        **values,
    )


@pytest.mark.parametrize("mode", ["tls", "starttls"])
async def test_the_mailbox_is_read_over_a_verified_tls_link(
    tls_dovecot: Dovecot, certificates: Certificates, tmp_path: Path, mode: str
) -> None:
    port = certificates.server.port if mode == "tls" else tls_dovecot.port
    settings = imap_settings(
        tls_dovecot, tmp_path, imap_port=port, imap_tls=mode, mail_ca_file=certificates.ca_file
    )
    session = await ImapSession.open(settings)
    try:
        transport = session.client.protocol.transport
        assert transport is not None and transport.get_extra_info("ssl_object") is not None
        assert session.supports_idle  # capabilities read again once under TLS
    finally:
        await session.close()


@pytest.mark.parametrize("mode", ["tls", "starttls"])
async def test_a_mail_server_whose_certificate_is_not_trusted_is_refused(
    tls_dovecot: Dovecot, certificates: Certificates, tmp_path: Path, mode: str
) -> None:
    port = certificates.server.port if mode == "tls" else tls_dovecot.port
    # The system's CAs only: the throwaway CA is nobody's.
    settings = imap_settings(tls_dovecot, tmp_path, imap_port=port, imap_tls=mode)
    with pytest.raises(ssl.SSLCertVerificationError):
        await ImapSession.open(settings)


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "tls"])
async def test_letters_leave_over_a_verified_tls_link_or_not_at_all(
    store: Store, certificates: Certificates, tmp_path: Path, implicit: bool
) -> None:
    sink = SmtpSink(tls=certificates.server_context, implicit_tls=implicit)
    sink.start()
    try:
        values: dict[str, Any] = {
            "env": "test",
            "var_dir": tmp_path,
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.port,
            "smtp_tls": "tls" if implicit else "starttls",
            "smtp_timeout": 5,
            "outbox_max_backoff": 1,
        }
        untrusted = Outbox(store, EmailSettings(**values))
        await untrusted.ensure_indexes()
        assert await untrusted.enqueue(_item())
        assert await untrusted.send_due() == 0  # held, not sent in the clear or unverified
        assert sink.received == []

        trusted = Outbox(store, EmailSettings(**values, mail_ca_file=certificates.ca_file))
        pending = await trusted.collection.find_one({})
        assert pending is not None and pending["state"] == "pending"
        assert "CERTIFICATE_VERIFY_FAILED" in pending["last_error"]
        assert await trusted.send_due(now=datetime.now(UTC) + timedelta(hours=2)) == 1
        (received,) = sink.received
        assert received.recipients == ["an@example.vn"]
    finally:
        sink.stop()
