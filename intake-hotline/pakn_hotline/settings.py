"""Settings of `pakn hotline`, from PAKN_* environment variables."""

from __future__ import annotations

import secrets

from pydantic import Field, SecretStr

from pakn.settings import MissingSecretError, StaffServiceSettings


class HotlineSettings(StaffServiceSettings):
    hotline_port: int = Field(default=8081, ge=1, le=65535)
    #: The phone system's Bearer token for POST /api/v1/calls.
    hotline_api_key: SecretStr | None = None
    #: How long an agent waits for the broker's confirm before being told to press again.
    hotline_confirm_timeout: float = Field(default=5.0, gt=0)
    #: How far back "the same incident" looks for open cases near the same place.
    hotline_similar_days: int = Field(default=3, ge=1, le=30)

    def required_secrets(self) -> dict[str, SecretStr | None]:
        return {**super().required_secrets(), "hotline_api_key": self.hotline_api_key}

    def resolved_api_key(self) -> str:
        """The configured key, or in dev one generated once into ./var and reused (so a
        local phone-system simulator can read it from there)."""
        if self.hotline_api_key is not None:
            return self.hotline_api_key.get_secret_value()
        if not self.is_dev:
            raise MissingSecretError("PAKN_HOTLINE_API_KEY is required in production")
        path = self.var_dir / "hotline_api_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()
