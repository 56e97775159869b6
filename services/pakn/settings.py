"""Settings from the environment (DESIGN.md §3): one settings object per service."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Where `make run` keeps its data (embedded store, generated dev secrets).
DEFAULT_VAR_DIR = Path("var")


class MissingSecretError(RuntimeError):
    """Production refuses to start without a secret that dev would generate."""


class CoreSettings(BaseSettings):
    """What every process needs: the broker, the store, the province configuration."""

    model_config = SettingsConfigDict(env_prefix="PAKN_", extra="ignore", frozen=True)

    env: Literal["dev", "test", "production"] = "dev"
    amqp_url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/")
    mongodb_url: SecretStr | None = None
    db_port: int = Field(default=27018, ge=1, le=65535)
    var_dir: Path = DEFAULT_VAR_DIR
    config_dir: Path = Path("deploy/config/khanh-hoa")
    public_url: str = "http://127.0.0.1:8080"
    log_level: str = "INFO"
    #: Days after publication within which a citizen's "not solved" reopens the case (the web
    #: form offers it and the router applies it: both read this one setting).
    reopen_days: int = Field(default=30, ge=1, le=365)

    @property
    def is_dev(self) -> bool:
        return self.env != "production"

    @property
    def db_dir(self) -> Path:
        return self.var_dir / "db"

    def required_secrets(self) -> dict[str, SecretStr | None]:
        """Secrets this service cannot run without in production (name → value)."""
        return {}

    @model_validator(mode="after")
    def _refuse_production_without_secrets(self) -> Self:
        if self.env == "production":
            missing = [name for name, value in self.required_secrets().items() if not value]
            if missing:
                names = ", ".join(f"PAKN_{n.upper()}" for n in missing)
                raise MissingSecretError(f"production needs {names}; refusing to start")
        return self


class HttpServiceSettings(CoreSettings):
    """A service with an HTTP port (every service has /healthz and /metrics)."""

    host: str = "127.0.0.1"
    trusted_proxies: Annotated[list[ipaddress.IPv4Network | ipaddress.IPv6Network], NoDecode] = (
        Field(default_factory=list)
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_cidrs(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class StaffServiceSettings(HttpServiceSettings):
    """A service staff log into (hotline console, routing monitor)."""

    session_secret: SecretStr | None = None

    def required_secrets(self) -> dict[str, SecretStr | None]:
        return {**super().required_secrets(), "session_secret": self.session_secret}

    def resolved_session_secret(self) -> str:
        """The configured secret, or in dev one generated once into ./var and reused."""
        if self.session_secret is not None:
            return self.session_secret.get_secret_value()
        if not self.is_dev:
            raise MissingSecretError("PAKN_SESSION_SECRET is required in production")
        path = self.var_dir / "session_secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
