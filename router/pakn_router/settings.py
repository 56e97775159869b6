"""Settings of `pakn router`, from PAKN_* environment variables."""

from __future__ import annotations

from pydantic import Field

from pakn.settings import StaffServiceSettings


class RouterSettings(StaffServiceSettings):
    router_port: int = Field(default=8083, ge=1, le=65535)
    #: Deliveries the broker hands over before an ack; bounds memory and redelivery on a crash.
    #: Three batches: one being written, the next being built meanwhile, one arriving.
    router_prefetch: int = Field(default=600, ge=1)
    #: A batch is written in one bulk write: at most this many, or what came within batch_wait.
    #: 200: a backlog drained 17 % faster than with 100 (each batch is a chain of journaled
    #: round trips), while the store's own bulk insert gained 6 % (README "Benchmarks").
    router_batch_size: int = Field(default=200, ge=1)
    router_batch_wait: float = Field(default=0.02, ge=0)
    #: How long to wait for the broker to confirm one case event before retrying the batch.
    router_publish_timeout: float = Field(default=10.0, gt=0)
    #: How often the monitor's sweep flags overdue cases, escalates and re-sends stale events.
    router_sweep_interval: float = Field(default=30.0, gt=0)
    #: A background loop that failed (the worker, the sweeper, the dead-letter keeper) starts
    #: again after this many seconds, doubling up to a minute while it keeps failing.
    router_loop_backoff: float = Field(default=1.0, gt=0)
