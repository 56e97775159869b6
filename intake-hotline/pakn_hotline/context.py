"""Typed application state shared by the console and the telephony API."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from pakn.bus import Bus
from pakn.extract import PlaceFinder
from pakn.intake import IntakePath
from pakn.safety import SafetyDetector
from pakn.store import Store
from pakn_hotline.callbacks import CallbackList
from pakn_hotline.drafts import CallDrafts
from pakn_hotline.settings import HotlineSettings


@dataclass(frozen=True)
class Services:
    """What the running service holds once the store and the broker are up."""

    store: Store
    bus: Bus
    drafts: CallDrafts
    callbacks: CallbackList
    intake: IntakePath


SETTINGS = web.AppKey("settings", HotlineSettings)
SERVICES = web.AppKey("services", Services)
PLACES = web.AppKey("places", PlaceFinder)
COMMUNES = web.AppKey("communes", list[str])
AGENCY_NAMES = web.AppKey("agency_names", dict[str, str])
API_KEY = web.AppKey("api_key", str)
SAFETY = web.AppKey("safety", SafetyDetector)


def services(request: web.Request) -> Services:
    return request.config_dict[SERVICES]
