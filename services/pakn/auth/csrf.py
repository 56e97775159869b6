"""Cross-site request forgery: the session's token, the login form's token, local redirects.

A logged-in browser proves each state-changing request came from our own pages by echoing
the session's token in ``X-CSRF-Token`` (scripts) or a ``csrf_token`` form field (forms).
Before login there is no session, so the login form carries an HMAC of a random value held
in a cookie (a signed double submit): another site can neither read the cookie nor compute
the HMAC without the server's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
#: Requests that may change state; GET, HEAD and OPTIONS must not.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def tokens_match(expected: str, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def login_form_token(secret: str, nonce: str) -> str:
    """The login form's hidden field for the nonce in the visitor's cookie."""
    return hmac.new(secret.encode(), b"pakn-login:" + nonce.encode(), hashlib.sha256).hexdigest()


def login_form_token_valid(secret: str, nonce: str | None, given: str | None) -> bool:
    if not nonce:
        return False
    return tokens_match(login_form_token(secret, nonce), given)


def local_target(next_path: str | None, default: str = "/") -> str:
    """``next_path`` when it stays on this site, else ``default``: never an open redirect."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//"):
        return default
    # Browsers read a backslash as a slash ("/\evil.example") and drop tabs and newlines.
    if "\\" in next_path or any(ord(c) < 0x20 or ord(c) == 0x7F for c in next_path):
        return default
    parts = urlsplit(next_path)
    if parts.scheme or parts.netloc:
        return default
    return next_path
