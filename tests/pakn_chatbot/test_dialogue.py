"""The dialogue as pure code: state + message → new state, replies and effects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pakn.extract import PlaceFinder
from pakn.ids import new_tracking_code
from pakn.territory import load
from pakn.worktime import VIETNAM_TZ
from pakn_chatbot import messages
from pakn_chatbot.dialogue import (
    Incoming,
    Lookup,
    Photo,
    PhotoRejected,
    State,
    Submit,
    Turn,
    expire,
    status_reply,
    step,
    submit_unavailable,
    submitted,
)

KHANH_HOA = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=VIETNAM_TZ)
ALL_IN_ONE = (
    "Tôi là Nguyễn Văn An, tối qua lúc 9h đèn đường trước 120 Trần Phú, phường Nha Trang bị "
    "tắt, rất tối. SĐT 0912 345 678"
)


@pytest.fixture(scope="module")
def places() -> PlaceFinder:
    return PlaceFinder(load(KHANH_HOA))


class Chat:
    """A conversation driven message by message, clock advancing a minute each."""

    def __init__(self, places: PlaceFinder, state: State | None = None) -> None:
        self.places = places
        self.state = state or State()
        self.now = NOW
        self.last: Turn | None = None

    def say(
        self,
        text: str,
        *,
        photos: Sequence[Photo | PhotoRejected] = (),
        advice: Sequence[str] = (),
        after: timedelta = timedelta(minutes=1),
    ) -> Turn:
        self.now += after
        turn = step(
            self.state,
            Incoming(text=text, now=self.now, photos=photos, emergency_advice=advice),
            places=self.places,
        )
        self.state, self.last = turn.state, turn
        return turn

    def text(self) -> str:
        assert self.last is not None
        return "\n".join(self.last.replies)


def _photo(n: int) -> Photo:
    return Photo(
        ref=f"{n:024x}", filename=f"anh-{n}.jpg", content_type="image/jpeg", size=100,
        sha256=f"{n:064x}",
    )  # fmt: skip


def test_one_message_fills_every_slot_and_only_consent_is_asked(places: PlaceFinder) -> None:
    chat = Chat(places)
    turn = chat.say(ALL_IN_ONE)
    assert messages.GREETING in turn.replies
    assert messages.CONSENT in turn.replies
    assert "nội dung, địa điểm, thời gian, họ tên, số điện thoại" in chat.text()
    draft = chat.state.draft
    assert draft is not None
    assert (draft.name, draft.phone) == ("Nguyễn Văn An", "+84912345678")
    assert draft.place is not None and draft.place.commune_code == "22366"
    assert draft.time is not None and draft.time.at.astimezone(VIETNAM_TZ).hour == 21
    assert turn.events == ["started"]


def test_only_what_is_missing_is_asked_in_order(places: PlaceFinder) -> None:
    chat = Chat(places)
    chat.say("Cây xanh bị ngã đổ chắn ngang đường Yersin, phường Nha Trang")
    assert messages.ASK["time"] in chat.last.replies  # type: ignore[union-attr]
    chat.say("chiều qua")
    assert chat.last is not None and chat.last.replies == [messages.ASK["name"]]
    chat.say("Võ Văn Tâm")
    assert chat.last.replies == [messages.ASK["phone"]]


def test_an_unclear_answer_is_asked_again_politely_then_counted(places: PlaceFinder) -> None:
    chat = Chat(places)
    chat.say("Cây xanh bị ngã đổ chắn ngang đường Yersin, phường Nha Trang")
    turn = chat.say("không nhớ rõ")
    assert turn.replies == [messages.REASK["time"]]
    assert turn.events == ["reask:time"]
    assert chat.state.asking == "time"


def test_a_time_in_the_future_is_refused_with_the_cores_words(places: PlaceFinder) -> None:
    chat = Chat(places)
    chat.say("Cây xanh bị ngã đổ chắn ngang đường Yersin, phường Nha Trang")
    turn = chat.say("ngày 25/12/2026")
    assert messages.IN_FUTURE in turn.replies
    assert chat.state.draft is not None and chat.state.draft.time is None


def test_content_without_diacritics_is_asked_once_then_kept(places: PlaceFinder) -> None:
    chat = Chat(places)
    turn = chat.say("den duong truoc nha toi bi tat ba dem lien rat toi")
    assert messages.MISSING_DIACRITICS in turn.replies
    turn = chat.say("den duong bi tat, toi lam")
    assert messages.ASK["place"] in turn.replies
    draft = chat.state.draft
    assert draft is not None and "content" in draft.given_up
    assert draft.content == "den duong bi tat, toi lam"


def test_consent_is_asked_once_and_recorded(places: PlaceFinder) -> None:
    chat = Chat(places)
    chat.say(ALL_IN_ONE)
    turn = chat.say("không")
    assert turn.replies == [messages.CONSENT_REFUSED]
    chat.say("đồng ý")
    assert chat.state.consent is not None
    assert chat.state.consent.version == messages.CONSENT_VERSION
    assert chat.state.stage == "confirm"
    submit = chat.say("gửi").effects[0]
    assert isinstance(submit, Submit)
    chat.state = submitted(chat.state, new_tracking_code(), "http://x").state
    # A second report: straight to the summary, no second consent question.
    turn = chat.say(ALL_IN_ONE.replace("0912 345 678", "0905 123 456"))
    assert messages.CONSENT not in turn.replies
    assert chat.state.stage == "confirm"


def test_confirmation_submits_with_the_citizens_moment(places: PlaceFinder) -> None:
    chat = Chat(places)
    chat.say(ALL_IN_ONE)
    chat.say("đồng ý")
    turn = chat.say("Gửi đi ạ")
    (effect,) = turn.effects
    assert isinstance(effect, Submit)
    assert effect.confirmed_at == chat.now
    assert effect.conversation == 1
    assert effect.fields["submitter"] == {"name": "Nguyễn Văn An", "phone": "+84912345678"}
    assert effect.fields["consent"] is True
    done = submitted(chat.state, new_tracking_code(), "http://x")
    assert done.state.draft is None and done.state.stage == "idle"
    assert any(name.startswith("completed:") for name in done.events)
    assert messages.AFTER_SUBMIT in done.replies


def test_broker_trouble_keeps_everything(places: PlaceFinder) -> None:
    chat = Chat(places)
    chat.say(ALL_IN_ONE)
    chat.say("đồng ý")
    chat.say("gửi")
    kept = submit_unavailable(chat.state)
    assert kept.replies == [messages.SUBMIT_UNAVAILABLE]
    assert kept.state.stage == "confirm" and kept.state.draft is not None


def test_one_item_is_corrected_at_the_summary(places: PlaceFinder) -> None:
    chat = Chat(places)
    chat.say(ALL_IN_ONE)
    chat.say("đồng ý")
    turn = chat.say("sửa số điện thoại 0905 123 456")
    assert messages.CORRECTED.format(item="số điện thoại") in turn.replies
    assert chat.state.draft is not None and chat.state.draft.phone == "+84905123456"
    assert chat.state.draft.name == "Nguyễn Văn An"
    turn = chat.say("sửa địa chỉ")
    assert turn.replies == [messages.ASK["place"]]
    turn = chat.say("45 Lê Thánh Tôn, phường Nha Trang")
    assert chat.state.draft.place is not None
    assert chat.state.draft.place.address == "45 Lê Thánh Tôn, phường Nha Trang"
    assert chat.state.stage == "confirm"


def test_cancel_drops_the_draft_at_any_point(places: PlaceFinder) -> None:
    chat = Chat(places)
    chat.say("Cây xanh bị ngã đổ chắn ngang đường Yersin, phường Nha Trang")
    turn = chat.say("Hủy!")
    assert turn.replies == [messages.CANCELLED] and turn.events == ["cancelled"]
    assert chat.state.draft is None and chat.state.stage == "idle"
    assert chat.say("huy").replies == [messages.NOTHING_TO_CANCEL]


def test_a_tracking_code_asks_for_the_status_and_resumes(places: PlaceFinder) -> None:
    code = new_tracking_code()
    chat = Chat(places)
    chat.say("Cây xanh bị ngã đổ chắn ngang đường Yersin, phường Nha Trang")
    turn = chat.say(f"tra cứu {code[:3]} {code[3:6]} {code[6:]}")
    assert turn.effects == [Lookup(code)]
    assert turn.then == [messages.ASK["time"]]
    assert chat.say(code).effects == [Lookup(code)]
    bad = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert chat.say(f"tra cứu {bad}").replies == [messages.LOOKUP_INVALID]


def test_a_phone_number_is_not_taken_for_a_tracking_code(places: PlaceFinder) -> None:
    chat = Chat(places)
    chat.say("Cây xanh bị ngã đổ chắn ngang đường Yersin, phường Nha Trang")
    chat.say("chiều qua")
    chat.say("Võ Văn Tâm")
    turn = chat.say("0912345678")
    assert not turn.effects
    assert chat.state.draft is not None and chat.state.draft.phone == "+84912345678"


def test_an_emergency_is_answered_first(places: PlaceFinder) -> None:
    chat = Chat(places)
    chat.say("Cây xanh bị ngã đổ chắn ngang đường sau cơn mưa lớn")
    turn = chat.say("Dây điện đứt rơi xuống đường", advice=["Gọi ngay 114."])
    assert turn.replies[0] == messages.EMERGENCY_HEADER
    assert turn.replies[1] == "Gọi ngay 114."
    assert "emergency" in turn.events


def test_confidentiality_on_request(places: PlaceFinder) -> None:
    chat = Chat(places)
    chat.say(ALL_IN_ONE)
    turn = chat.say("Xin giữ bí mật thông tin giúp tôi")
    assert messages.CONFIDENTIAL in turn.replies
    chat.say("đồng ý")
    assert messages.SUMMARY_CONFIDENTIAL.strip() in chat.text()
    submit = chat.say("gửi").effects[0]
    assert isinstance(submit, Submit) and submit.fields["confidential"] is True


def test_photos_are_kept_up_to_the_limit_and_refusals_explained(places: PlaceFinder) -> None:
    chat = Chat(places)
    turn = chat.say("", photos=[_photo(1)])
    assert messages.PHOTO_RECEIVED.format(count=1) in turn.replies
    assert messages.ASK["content"] in turn.replies
    turn = chat.say(
        "Nắp hố ga bị mất trước chợ Đầm, phường Nha Trang",
        photos=[_photo(1), PhotoRejected("anh-2", "không phải ảnh")],
    )
    assert any("anh-2" in reply for reply in turn.replies)
    assert chat.state.draft is not None and len(chat.state.draft.photos) == 1
    turn = chat.say("sáng nay", photos=[_photo(n) for n in range(2, 8)])
    assert messages.PHOTO_LIMIT.format(maximum=5) in turn.replies
    assert len(chat.state.draft.photos) == 5


def test_an_abandoned_draft_expires_politely(places: PlaceFinder) -> None:
    chat = Chat(places)
    chat.say("Cây xanh bị ngã đổ chắn ngang đường Yersin, phường Nha Trang")
    turn = chat.say("chiều qua", after=timedelta(days=2))
    assert turn.replies[0] == messages.EXPIRED
    assert "abandoned" in turn.events
    # The sweeper's way: the draft dropped, consent and history kept.
    chat.say(ALL_IN_ONE)
    chat.say("đồng ý")
    state = expire(chat.state)
    assert state.draft is None and state.consent is not None


def test_status_reply_shows_the_public_view_only() -> None:
    code = new_tracking_code()
    view = {
        "status": "assigned",
        "lead_agency_name": "UBND phường Nha Trang",
        "due_at": "2026-12-04T10:00:00+00:00",
        "overdue": False,
        "escalation": None,
        "result": None,
    }
    text = status_reply(code, view)
    assert messages.STATUS_LABELS["assigned"] in text
    assert "UBND phường Nha Trang" in text and "Hạn xử lý: 17:00 04/12/2026" in text
    published = status_reply(
        code, {**view, "status": "published", "result": {"text": "Đã sửa đèn."}}
    )
    assert "Kết quả: Đã sửa đèn." in published and "Hạn xử lý" not in published
    assert "Không tìm thấy" in status_reply(code, None)


def test_a_time_asked_three_times_in_vain_is_left_to_the_agency(places: PlaceFinder) -> None:
    from pakn.intake import check_report
    from pakn_chatbot.dialogue import CHAT_POLICY

    chat = Chat(places)
    chat.say("Cây xanh bị ngã đổ chắn ngang đường Yersin, phường Nha Trang")
    assert chat.say("không nhớ").events == ["reask:time"]
    turn = chat.say("thật sự không nhớ")
    assert "given_up:time" in turn.events
    assert turn.replies[-1] == messages.ASK["name"]
    chat.say("Võ Văn Tâm")
    chat.say("0914 222 333")
    chat.say("đồng ý")
    submit = chat.say("gửi").effects[0]
    assert isinstance(submit, Submit) and submit.fields["occurred_at"] is None
    checked = check_report(submit.fields, now=chat.now, policy=CHAT_POLICY)
    assert checked.report is not None
    assert [(p.field, p.code) for p in checked.problems] == [("occurred_at", "required")]
