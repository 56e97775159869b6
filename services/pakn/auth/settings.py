"""How staff authentication behaves: hashing cost, session lifetimes, login throttling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from pakn.settings import StaffServiceSettings

Env = Literal["dev", "test", "production"]

#: NIST SP 800-63B asks for at least 8; staff accounts reach citizens' personal data.
MIN_PASSWORD_LENGTH = 10


class Argon2Params(BaseModel):
    """Argon2id cost; ``memory_cost`` in KiB."""

    model_config = ConfigDict(frozen=True)

    time_cost: int = Field(ge=1)
    memory_cost: int = Field(ge=8)
    parallelism: int = Field(ge=1)


#: RFC 9106's second recommended option (64 MiB, 3 passes): 0.17 s per login on a 2-core
#: machine, and 64 MiB of memory per guess for anyone who steals the hashes.
STRONG_ARGON2 = Argon2Params(time_cost=3, memory_cost=64 * 1024, parallelism=4)
#: The smallest Argon2id allows: tests log in hundreds of times.
CHEAP_ARGON2 = Argon2Params(time_cost=1, memory_cost=8, parallelism=1)


def argon2_params_for(env: Env) -> Argon2Params:
    """Memory-hard everywhere but in tests (dev too: a dev database may be copied around)."""
    return CHEAP_ARGON2 if env == "test" else STRONG_ARGON2


class AuthSettings(BaseModel):
    """What the staff login needs, derived from a service's StaffServiceSettings."""

    model_config = ConfigDict(frozen=True)

    env: Env = "dev"
    #: Signs the login form's anti-forgery token (the only secret the login needs: session
    #: ids are random and stored hashed, so they need no signature).
    session_secret: SecretStr
    #: Cookies only over HTTPS: production is behind TLS, dev and tests are plain HTTP.
    secure_cookies: bool = False
    argon2: Argon2Params = STRONG_ARGON2
    #: Hashes computed at once; each takes ``argon2.memory_cost`` of RAM.
    hash_concurrency: int = Field(default=4, ge=1)

    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_timeout: timedelta = timedelta(hours=12)
    #: A request refreshes the idle timer with at most one write per interval.
    touch_interval: timedelta = timedelta(minutes=1)

    #: Failed logins within ``failure_window`` (see pakn.auth.throttle): one account at one
    #: address is locked for the window past the first limit; one address across accounts
    #: past the second; an account from every address is slowed, never locked, past the third.
    max_failures_per_account_address: int = Field(default=5, ge=1)
    max_failures_per_address: int = Field(default=20, ge=1)
    max_failures_per_account: int = Field(default=50, ge=1)
    max_account_delay: timedelta = timedelta(minutes=5)
    failure_window: timedelta = timedelta(minutes=15)
    #: An address an account logged in from is exempt from the account-wide slowing this long.
    known_address_ttl: timedelta = timedelta(days=30)

    min_password_length: int = Field(default=MIN_PASSWORD_LENGTH, ge=8)
    #: Argon2 takes any length; a cap keeps a megabyte "password" from costing anything.
    max_password_length: int = Field(default=1024, ge=64)

    @classmethod
    def from_settings(cls, settings: StaffServiceSettings, **overrides: Any) -> AuthSettings:
        """Defaults for the service's environment; ``overrides`` replace any field."""
        values: dict[str, Any] = {
            "env": settings.env,
            "session_secret": SecretStr(settings.resolved_session_secret()),
            "secure_cookies": not settings.is_dev,
            "argon2": argon2_params_for(settings.env),
        }
        values.update(overrides)
        return cls(**values)
