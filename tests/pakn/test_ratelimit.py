"""The per-client token bucket."""

from __future__ import annotations

from pakn.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_the_client_is_told_when_to_return() -> None:
    clock = Clock()
    limiter = RateLimiter(capacity=3, per_minute=6, clock=clock)
    assert [limiter.check("a") for _ in range(3)] == [None, None, None]
    assert limiter.check("a") == 10  # one token per 10 s
    assert limiter.check("b") is None  # other clients are not affected
    clock.now += 10
    assert limiter.check("a") is None
    assert limiter.check("a") == 10


def test_memory_stays_bounded() -> None:
    limiter = RateLimiter(capacity=1, per_minute=1, max_clients=100, clock=Clock())
    for n in range(1000):
        limiter.check(f"client-{n}")
    assert len(limiter._buckets) == 100
