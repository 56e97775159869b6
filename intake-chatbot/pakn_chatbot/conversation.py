"""One citizen message, start to end: session, photos, safety, dialogue, effects, outbox.

Platform-neutral: the webhooks turn their payloads into an :class:`InboundEvent` and call
:meth:`Chatbot.handle`; the widget gets the replies in its answer, the platforms through the
outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp

from pakn.extract import PlaceFinder
from pakn.store import Store
from pakn_chatbot import dialogue, messages, metrics, outbox, photos, sessions
from pakn_chatbot.dialogue import Incoming, Lookup, State, Submit, Turn
from pakn_chatbot.platforms import InboundEvent, split_text
from pakn_chatbot.submit import Reporter, SubmitRefused, SubmitUnavailable

log = logging.getLogger(__name__)

#: A session saved by someone else meanwhile is reloaded and the turn redone this often.
CONFLICT_RETRIES = 5

EmergencyCheck = Callable[[str], tuple[str, ...]]


@dataclass
class TurnResult:
    replies: list[str]
    duplicate: bool = False


class Chatbot:
    def __init__(
        self,
        *,
        store: Store,
        reporter: Reporter,
        places: PlaceFinder,
        emergency: EmergencyCheck,
        http: aiohttp.ClientSession,
        retention: timedelta,
        abandon_after: timedelta,
        wake: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.reporter = reporter
        self.places = places
        self.emergency = emergency
        self.http = http
        self.retention = retention
        self.abandon_after = abandon_after
        self.wake = wake
        self.clock = clock
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def handle(self, event: InboundEvent) -> TurnResult:
        key = sessions.session_key(event.platform, event.user_id)
        async with self._locks[key]:
            try:
                return await self._handle(event, key)
            finally:
                if not self._locks[key].locked():
                    self._locks.pop(key, None)

    async def _handle(self, event: InboundEvent, key: str) -> TurnResult:
        received = (
            await photos.fetch_photos(self.http, self.store, key, event.photo_urls)
            if event.photo_urls
            else []
        )
        # Platforms stamp their events: a redelivery is read at the same moment, so "tối
        # qua" and the confirmation time come out the same. The widget has no stamp.
        now = event.at if event.platform != "generic" else self.clock()
        for _ in range(CONFLICT_RETRIES):
            session = await sessions.load(self.store, event.platform, event.user_id)
            if event.event_id and event.event_id in session.seen:
                metrics.DUPLICATE_EVENTS.labels(event.platform).inc()
                replies = session.last_replies if session.last_event == event.event_id else []
                return TurnResult(replies, duplicate=True)
            advice = self.emergency(event.text) if event.text else ()
            turn = dialogue.step(
                session.state,
                Incoming(text=event.text, now=now, photos=received, emergency_advice=advice),
                places=self.places,
                abandon_after=self.abandon_after,
            )
            state, replies = await self._effects(turn, event, now)
            replies = [*replies, *turn.then]
            if event.platform == "generic":
                replies = [*await outbox.take_generic(self.store, event.user_id, now=now), *replies]
            else:
                await outbox.enqueue(
                    self.store,
                    [
                        outbox.OutgoingMessage(
                            f"{key}:{event.event_id}:{i}:{j}",
                            event.platform,
                            event.user_id,
                            piece,
                            "reply",
                        )
                        for i, text in enumerate(replies)
                        for j, piece in enumerate(split_text(text))
                    ],
                    now=now,
                )
            try:
                await sessions.save(
                    self.store,
                    session,
                    state,
                    now=self.clock(),
                    retention=self.retention,
                    event_id=event.event_id or None,
                    replies=replies,
                )
            except sessions.SessionConflict:
                continue
            await self._release_dropped(session.state, state)
            self._count(event.platform, turn, advice)
            if event.platform != "generic":
                self.wake()
            return TurnResult(replies)
        raise sessions.SessionConflict(key)

    async def _effects(
        self, turn: Turn, event: InboundEvent, now: datetime
    ) -> tuple[State, list[str]]:
        state = turn.state
        replies = list(turn.replies)
        for effect in turn.effects:
            if isinstance(effect, Lookup):
                view = await self.reporter.public_view(effect.tracking_code)
                replies.append(dialogue.status_reply(effect.tracking_code, view))
            elif isinstance(effect, Submit):
                done = await self._submit(state, effect, event)
                state = done.state
                replies.extend(done.replies)
                for name in done.events:
                    if name.startswith("completed:"):
                        metrics.CONVERSATIONS_COMPLETED.labels(event.platform).inc()
                        metrics.TURNS_PER_REPORT.observe(int(name.split(":")[1]))
        return state, replies

    async def _submit(self, state: State, effect: Submit, event: InboundEvent) -> Turn:
        ref = f"{event.platform}:{event.user_id}:{effect.conversation}"
        try:
            uploads = await photos.load_uploads(self.store, effect.draft.photos)
            code = await self.reporter.submit(
                platform=event.platform,
                channel_ref=ref,
                confirmed_at=effect.confirmed_at,
                fields=effect.fields,
                uploads=uploads,
            )
        except SubmitUnavailable:
            return dialogue.submit_unavailable(state)
        except SubmitRefused as exc:
            log.error("core refused chat report %s: %s", ref, exc)
            return dialogue.submit_refused(state, [e.message for e in exc.errors])
        await photos.release(self.store, effect.draft.photos)
        log.info("chat report %s submitted as %s", ref, code)
        return dialogue.submitted(state, code, self.reporter.status_url(code))

    async def _release_dropped(self, before: State, after: State) -> None:
        """Held photos of a draft that was cancelled, expired or corrected away."""
        kept = {p.ref for p in after.draft.photos} if after.draft else set()
        gone = [p for p in (before.draft.photos if before.draft else []) if p.ref not in kept]
        if gone:
            await photos.release(self.store, gone)

    def _count(self, platform: str, turn: Turn, advice: tuple[str, ...]) -> None:
        metrics.TURNS.labels(platform).inc()
        if advice:
            metrics.EMERGENCIES.labels(platform).inc()
        for name in turn.events:
            kind, _, slot = name.partition(":")
            if kind == "started":
                metrics.CONVERSATIONS_STARTED.labels(platform).inc()
            elif kind == "reask":
                metrics.REASKS.labels(slot).inc()
            elif kind == "cancelled":
                metrics.CONVERSATIONS_CANCELLED.labels(platform).inc()
            elif kind == "abandoned":
                metrics.CONVERSATIONS_ABANDONED.labels(platform).inc()

    async def sweep(self) -> int:
        """Drops drafts left untouched too long and tells their citizens, politely, once."""
        now = self.clock()
        dropped = 0
        for doc in await sessions.abandoned(self.store, before=now - self.abandon_after):
            state = State.model_validate(doc["state"])
            held = list(state.draft.photos) if state.draft else []
            if not await sessions.close_draft(self.store, doc, dialogue.expire(state), now=now):
                continue  # the citizen wrote meanwhile
            dropped += 1
            platform = str(doc.get("platform"))
            metrics.CONVERSATIONS_ABANDONED.labels(platform).inc()
            await photos.release(self.store, held)
            await outbox.enqueue(
                self.store,
                [
                    outbox.OutgoingMessage(
                        f"{doc['_id']}:expired:{doc.get('version', 0)}",
                        platform,
                        str(doc.get("user_id")),
                        messages.EXPIRED,
                        "notice",
                    )
                ],
                now=now,
            )
        if dropped:
            self.wake()
        return dropped
