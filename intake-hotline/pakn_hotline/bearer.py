"""The phone system's credential: ``Authorization: Bearer <PAKN_HOTLINE_API_KEY>`` (pure)."""

from __future__ import annotations

import hmac


def bearer_matches(header: str | None, key: str) -> bool:
    """Whether ``Authorization`` carries the key; compared in constant time, so how long
    the comparison takes says nothing about how much of a guess was right."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not key:
        # Still compare, so a missing and a wrong token cost the same.
        hmac.compare_digest(b"-", b"--")
        return False
    return hmac.compare_digest(token.strip().encode(), key.encode())
