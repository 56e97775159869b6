"""Settings of `pakn chatbot`, from PAKN_* environment variables (DESIGN.md §3)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from pakn.settings import HttpServiceSettings


class ChatbotSettings(HttpServiceSettings):
    chatbot_port: int = Field(default=8082, ge=1, le=65535)
    #: How long a confirmed report waits for the broker's confirm before the citizen is told
    #: to send "gửi" again.
    confirm_timeout: float = Field(default=5.0, gt=0)
    #: A conversation untouched this long is dropped (and the citizen told, politely).
    session_idle_hours: float = Field(default=24.0, gt=0)
    #: How often abandoned conversations are looked for.
    sweep_interval: float = Field(default=300.0, gt=0)

    # The portal's widget (POST /webhook/generic) is called by browsers, unauthenticated: each
    # message takes a token from its widget user id, then from its client address. The user id
    # is the tight one (it is one conversation); the address is generous, as a carrier's NAT
    # (CGNAT) puts many citizens behind one address.
    #: Messages per widget user id: a burst of this many, refilled at chatbot_user_per_minute.
    chatbot_user_burst: int = Field(default=20, ge=1)
    chatbot_user_per_minute: float = Field(default=10.0, gt=0)
    #: Messages per client address (through trusted proxies), for every user id behind it.
    chatbot_address_burst: int = Field(default=200, ge=1)
    chatbot_address_per_minute: float = Field(default=120.0, gt=0)

    # Facebook Messenger (Graph API Send API; webhook verify token and app secret).
    messenger_verify_token: SecretStr | None = None
    messenger_app_secret: SecretStr | None = None
    messenger_page_token: SecretStr | None = None
    messenger_api_base: str = "https://graph.facebook.com/v21.0"
    #: Tag for updates outside the 24-hour window (Meta's policy decides which tags exist).
    messenger_update_tag: str = "ACCOUNT_UPDATE"

    # Zalo Official Account (OpenAPI v3 messages, OAuth v4 token refresh).
    zalo_app_id: str | None = None
    zalo_app_secret: SecretStr | None = None
    #: The OA secret key that signs webhook events (not the app secret).
    zalo_oa_secret: SecretStr | None = None
    zalo_oa_token: SecretStr | None = None
    zalo_refresh_token: SecretStr | None = None
    zalo_api_base: str = "https://openapi.zalo.me"
    zalo_oauth_base: str = "https://oauth.zaloapp.com"

    # The outbox of messages to the platforms.
    outbox_interval: float = Field(default=2.0, gt=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_first_backoff: float = Field(default=2.0, gt=0)
    outbox_max_backoff: float = Field(default=600.0, gt=0)
    #: Timeout of one call to a platform (send, photo download, token refresh).
    platform_timeout: float = Field(default=10.0, gt=0)

    @field_validator(
        "messenger_verify_token",
        "messenger_app_secret",
        "messenger_page_token",
        "zalo_app_id",
        "zalo_app_secret",
        "zalo_oa_secret",
        "zalo_oa_token",
        "zalo_refresh_token",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # An empty secret (compose's `${X:-}`) must switch a platform off, not sign with "".
        if value is None or (
            isinstance(value, str | SecretStr)
            and not str(value.get_secret_value() if isinstance(value, SecretStr) else value).strip()
        ):
            return None
        return value
