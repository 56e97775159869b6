"""Settings of `pakn web`, from PAKN_* environment variables."""

from __future__ import annotations

from pydantic import Field

from pakn.settings import HttpServiceSettings


class WebSettings(HttpServiceSettings):
    web_port: int = Field(default=8080, ge=1, le=65535)
    #: How long a citizen waits for the broker's confirm before being told to retry (503).
    confirm_timeout: float = Field(default=5.0, gt=0)
    #: Seconds suggested in Retry-After when the store or the broker could not take a report.
    retry_after: int = Field(default=10, ge=1)
    #: How long a reservation may wait for the store before the citizen is told to retry (503).
    store_timeout: float = Field(default=5.0, gt=0)
    #: Submissions per client: a burst of this many, refilled at submit_per_minute.
    submit_burst: int = Field(default=10, ge=1)
    submit_per_minute: float = Field(default=6.0, gt=0)
    #: Public look-ups per client (a brake on guessing tracking codes).
    lookup_burst: int = Field(default=60, ge=1)
    lookup_per_minute: float = Field(default=60.0, gt=0)
    #: Seconds between deletions of photos held for forms that were never sent again.
    purge_interval: float = Field(default=3600.0, gt=0)
