"""What the monitor's handlers share: the router's connections, the province data, the clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from pakn.bus import Bus
from pakn.sla import SlaPolicy
from pakn.store import Store
from pakn.territory import Agency, ProvinceConfig
from pakn.worktime import Clock, WorkCalendar, utc_now
from pakn_router.classify import Classifier
from pakn_router.consumer import SubmissionRouter
from pakn_router.monitor.views import Names
from pakn_router.settings import RouterSettings


@dataclass(frozen=True)
class MonitorKeys:
    """The router application's keys (app.py owns them; passed in to avoid an import cycle)."""

    settings: web.AppKey[RouterSettings]
    store: web.AppKey[Store]
    bus: web.AppKey[Bus]
    classifier: web.AppKey[Classifier]
    router: web.AppKey[SubmissionRouter]


@dataclass
class Monitor:
    """The monitor of one router process, under ``MONITOR`` in the application."""

    keys: MonitorKeys
    config: ProvinceConfig
    sla: SlaPolicy
    clock: Clock = utc_now
    #: Set when the router's connections are up (the monitor's start-up runs after them).
    app: web.Application | None = field(default=None, repr=False)

    @property
    def agencies(self) -> list[Agency]:
        return self.config.agencies

    def agency_name(self, code: str | None) -> str | None:
        return Names(self.config).agency(code)

    def _started(self) -> web.Application:
        if self.app is None:
            raise RuntimeError("the monitor is not started")
        return self.app

    @property
    def store(self) -> Store:
        return self._started()[self.keys.store]

    @property
    def bus(self) -> Bus:
        return self._started()[self.keys.bus]

    @property
    def router(self) -> SubmissionRouter:
        return self._started()[self.keys.router]

    @property
    def calendar(self) -> WorkCalendar:
        return self.router.calendar

    @property
    def publish_timeout(self) -> float:
        return self._started()[self.keys.settings].router_publish_timeout


MONITOR = web.AppKey("pakn_monitor", Monitor)


def monitor_of(request: web.Request) -> Monitor:
    return request.config_dict[MONITOR]
