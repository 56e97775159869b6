"""The audit log: who did what, when, from where — append-only, never a password."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pakn.store import Store

Outcome = Literal["success", "failure", "denied"]
DetailValue = str | int | bool | None

# What happened (``action``). Requests to other routes are logged as REQUEST with the method
# and path as the target, so a console's state changes are audited without its own code.
LOGIN = "login"
LOGOUT = "logout"
SESSION_REVOKED = "session.revoked"
REQUEST = "request"
USER_CREATE = "user.create"
USER_DISABLE = "user.disable"
USER_ENABLE = "user.enable"
USER_PASSWORD = "user.password"
USER_ROLE = "user.role"
USER_UNLOCK = "user.unlock"

#: Browsers send long agent strings; the first part identifies them well enough.
MAX_USER_AGENT = 256
MAX_TARGET = 512


class AuditEntry(BaseModel):
    """One line of the audit log, as stored in the ``audit`` collection."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    action: str
    outcome: Outcome
    #: The username acting (``cli:<os user>`` from the command line), None when nobody is
    #: logged in; ``role`` and ``agency`` are theirs at that moment.
    actor: str | None = None
    role: str | None = None
    agency: str | None = None
    #: What was acted on: a username, or "METHOD /path" for a request.
    target: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    service: str | None = None
    detail: dict[str, DetailValue] = Field(default_factory=dict)

    @field_validator("target")
    @classmethod
    def _clip_target(cls, value: str | None) -> str | None:
        return None if value is None else value[:MAX_TARGET]

    @field_validator("user_agent")
    @classmethod
    def _clip_user_agent(cls, value: str | None) -> str | None:
        return None if value is None else value[:MAX_USER_AGENT]


async def record(store: Store, entry: AuditEntry) -> None:
    """Append ``entry``. Errors propagate: an action that cannot be audited should not pass."""
    await store.audit.insert_one(entry.model_dump())
