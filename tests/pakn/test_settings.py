"""Settings from the environment; production refuses to start without its secrets."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from pakn.settings import (
    CoreSettings,
    HttpServiceSettings,
    MissingSecretError,
    StaffServiceSettings,
)


def test_defaults_are_the_contracts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "PAKN_ENV",
        "PAKN_AMQP_URL",
        "PAKN_DB_PORT",
        "PAKN_MONGODB_URL",
        "PAKN_CONFIG_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = CoreSettings()
    assert settings.env == "dev"
    assert settings.amqp_url.get_secret_value() == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.mongodb_url is None
    assert settings.db_port == 27018
    assert settings.config_dir == Path("deploy/config/khanh-hoa")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAKN_DB_PORT", "27999")
    monkeypatch.setenv("PAKN_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1/32")
    settings = HttpServiceSettings()
    assert settings.db_port == 27999
    assert settings.trusted_proxies == [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.1/32"),
    ]


def test_secrets_do_not_leak_into_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAKN_AMQP_URL", "amqp://pakn:hunter2@broker/")
    assert "hunter2" not in repr(CoreSettings())


def test_production_refuses_to_start_without_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAKN_ENV", "production")
    monkeypatch.delenv("PAKN_SESSION_SECRET", raising=False)
    with pytest.raises(MissingSecretError, match="PAKN_SESSION_SECRET"):
        StaffServiceSettings()
    monkeypatch.setenv("PAKN_SESSION_SECRET", "x" * 48)
    assert StaffServiceSettings().resolved_session_secret() == "x" * 48


def test_dev_generates_a_session_secret_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAKN_SESSION_SECRET", raising=False)
    settings = StaffServiceSettings(env="dev", var_dir=tmp_path)
    first = settings.resolved_session_secret()
    assert len(first) >= 48
    assert StaffServiceSettings(env="dev", var_dir=tmp_path).resolved_session_secret() == first
    assert (tmp_path / "session_secret").stat().st_mode & 0o077 == 0
