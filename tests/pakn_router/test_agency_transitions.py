"""The agency workspace's pure transitions, without I/O: who may do what from where, what the
case becomes and which events it publishes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pakn.auth.users import Role
from pakn.schema import Case, EventKind, FeedbackInput, Status
from pakn.text import MASK
from pakn.worktime import WorkCalendar
from pakn_router.agency import transitions as tr
from pakn_router.cases import open_case
from tests.pakn_router.conftest import make_submission

CALENDAR = WorkCalendar.from_config_dir(Path("deploy/config/khanh-hoa"))
#: A Tuesday morning in Nha Trang (09:00 +07:00), no holiday near.
NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
LEAD = "moi-truong-do-thi-nha-trang"
CO = "so-xay-dung"
STAFF = tr.Officer("can.bo", Role.AGENCY_STAFF, LEAD)
LEADER = tr.Officer("lanh.dao", Role.AGENCY_LEADER, LEAD)
ADMIN = tr.Officer("quan.tri", Role.AGENCY_ADMIN, LEAD)
CO_STAFF = tr.Officer("phoi.hop", Role.AGENCY_STAFF, CO)
OTHER = tr.Officer("khac", Role.AGENCY_STAFF, "so-y-te")
OPERATOR = tr.Officer("dieu.phoi", Role.OPERATOR)
CONTENT = "Tôi là Nguyễn Thị Mai, số 0905 123 456. Đèn đường trước số 120 Trần Phú tắt ba đêm liền."


def assigned(**changes: object) -> Case:
    case = open_case(make_submission(CONTENT, received_at=NOW - timedelta(hours=1)), NOW)
    case.status = Status.ASSIGNED
    case.lead_agency, case.co_agencies = LEAD, [CO]
    case.due_at = CALENDAR.add_working_time(case.received_at, CALENDAR.hours.day_length * 5)
    case.sla.working_days = 5
    case.outbox.clear()
    return case.model_copy(update=changes)


def in_progress() -> Case:
    return tr.accept(assigned(), STAFF, NOW).case


def drafted(**changes: object) -> Case:
    case = tr.draft_answer(in_progress(), STAFF, "Đã thay bóng đèn. Cảm ơn chị Mai.", NOW).case
    return case.model_copy(update=changes)


def kinds(transition: tr.Transition) -> list[EventKind]:
    return [e.event for e in transition.events]


def test_accept_puts_the_case_in_progress_and_tells_the_citizen() -> None:
    before = assigned()
    done = tr.accept(before, STAFF, NOW)
    assert done.case.status is Status.IN_PROGRESS
    assert before.status is Status.ASSIGNED  # the input is never changed
    (event,) = done.events
    assert event.event is EventKind.IN_PROGRESS and event.lead_agency == LEAD
    assert event.channel is not None and event.notify_citizen and event.summary
    assert event in done.case.outbox
    assert done.case.history[-1].actor == STAFF.username


@pytest.mark.parametrize("who", [OTHER, CO_STAFF, OPERATOR])
def test_only_the_lead_agency_accepts(who: tr.Officer) -> None:
    with pytest.raises(tr.Refused) as refused:
        tr.accept(assigned(), who, NOW)
    assert refused.value.status == 403


def test_accept_twice_is_refused_as_a_conflict() -> None:
    with pytest.raises(tr.Refused) as refused:
        tr.accept(in_progress(), STAFF, NOW)
    assert refused.value.status == 409


def test_return_goes_back_to_triage_keeping_the_deadline_and_counting_ping_pong() -> None:
    before = in_progress()
    done = tr.give_back(before, STAFF, "Thuộc thẩm quyền điện lực.", NOW, agency_name="Cty")
    case = done.case
    assert case.status is Status.TRIAGE and case.lead_agency is None
    assert case.due_at == before.due_at
    assert case.returns == 1 and case.reassignments == 1
    (event,) = done.events
    assert event.event is EventKind.RETURNED and event.addressed_to == LEAD
    again = case.model_copy(update={"status": Status.ASSIGNED, "lead_agency": LEAD})
    again = tr.give_back(again, STAFF, "x", NOW, agency_name="Cty").case
    again = again.model_copy(update={"status": Status.ASSIGNED, "lead_agency": LEAD})
    third = tr.give_back(again, STAFF, "x", NOW, agency_name="Cty").case
    assert third.ping_pong and third.reassignments == 3


def test_a_co_agency_contributes_and_only_staff_hear_of_it() -> None:
    done = tr.contribute(in_progress(), CO_STAFF, "Sở Xây dựng đã kiểm tra cột đèn.", NOW)
    assert done.case.contributions[-1].agency == CO
    (event,) = done.events
    assert event.event is EventKind.CONTRIBUTED and not event.notify_citizen
    with pytest.raises(tr.Refused):
        tr.contribute(in_progress(), STAFF, "lead is not a co-agency", NOW)


def test_asking_the_citizen_pauses_the_clock_and_their_reply_resumes_it() -> None:
    asked = tr.ask_citizen(in_progress(), STAFF, "Chị cho biết cột đèn số mấy?", NOW)
    case = asked.case
    assert case.status is Status.NEEDS_INFO
    assert case.sla.paused[-1].from_ == NOW and case.sla.paused[-1].to is None
    assert kinds(asked) == [EventKind.NEEDS_INFO]
    later = NOW + timedelta(hours=3)  # three office hours later (09:00 → 12:00 counts 2.5 h)
    resumed = tr.resume_after_reply(case, later, CALENDAR)
    assert resumed is not None
    assert resumed.case.status is Status.IN_PROGRESS
    assert resumed.case.sla.paused[-1].to == later
    assert resumed.case.question is not None and resumed.case.question.answered_at == later
    assert case.due_at is not None and resumed.case.due_at is not None
    waited = CALENDAR.working_time_between(NOW, later)
    assert resumed.case.due_at == CALENDAR.add_working_time(case.due_at, waited)
    assert kinds(resumed) == [EventKind.IN_PROGRESS]


def test_a_reply_to_a_case_nobody_asked_about_changes_nothing_here() -> None:
    assert tr.resume_after_reply(in_progress(), NOW, CALENDAR) is None


def test_an_extension_is_requested_then_decided_by_an_operator() -> None:
    requested = tr.request_extension(in_progress(), STAFF, 5, "Chờ thay cột đèn mới.", NOW)
    assert kinds(requested) == [EventKind.EXTENSION_REQUESTED]
    assert not requested.events[0].notify_citizen
    with pytest.raises(tr.Refused):
        tr.request_extension(requested.case, STAFF, 2, "again", NOW)
    before = requested.case.due_at
    assert before is not None
    approved = tr.decide_extension(requested.case, OPERATOR, True, NOW, CALENDAR)
    assert approved.case.due_at == CALENDAR.add_working_time(before, CALENDAR.hours.day_length * 5)
    assert approved.case.extensions[-1].decision == "approved"
    assert approved.case.extensions[-1].previous_due_at == before
    assert kinds(approved) == [EventKind.EXTENDED] and approved.events[0].notify_citizen
    rejected = tr.decide_extension(
        tr.request_extension(in_progress(), STAFF, 5, "x", NOW).case, OPERATOR, False, NOW, CALENDAR
    )
    assert rejected.case.due_at == in_progress().due_at
    assert kinds(rejected) == [EventKind.EXTENSION_REJECTED]
    with pytest.raises(tr.Refused):
        tr.decide_extension(in_progress(), OPERATOR, True, NOW, CALENDAR)


def test_only_a_leader_approves_or_the_admin_of_an_agency_without_one() -> None:
    with pytest.raises(tr.Refused) as refused:
        tr.approve(drafted(), STAFF, NOW, agency_has_leader=True)
    assert refused.value.status == 403
    with pytest.raises(tr.Refused):
        tr.approve(drafted(), ADMIN, NOW, agency_has_leader=True)
    assert tr.approve(drafted(), ADMIN, NOW, agency_has_leader=False).case.status is (
        Status.PUBLISHED
    )
    with pytest.raises(tr.Refused):
        tr.approve(in_progress(), LEADER, NOW, agency_has_leader=True)  # nothing drafted


def test_approval_resolves_and_publishes_a_masked_version() -> None:
    done = tr.approve(drafted(), LEADER, NOW, agency_has_leader=True)
    case = done.case
    assert kinds(done) == [EventKind.RESOLVED, EventKind.PUBLISHED]
    assert case.status is Status.PUBLISHED
    assert case.result is not None and case.result.published_at == NOW
    assert "0905" not in (case.public_content or "") and "Nguyễn Thị Mai" not in (
        case.public_content or ""
    )
    assert "120 Trần Phú" in (case.public_content or "")  # the place of the incident stays
    assert case.result.text == f"Đã thay bóng đèn. Cảm ơn chị {MASK}."
    assert case.answer is not None and case.answer.approved_by == LEADER.username


def test_the_approver_may_correct_the_public_version() -> None:
    corrected = tr.PublicVersion("Đèn đường trước số 120 Trần Phú tắt.", "Đã thay bóng đèn.")
    done = tr.approve(drafted(), LEADER, NOW, agency_has_leader=True, corrected=corrected)
    assert done.case.public_content == corrected.content
    assert done.case.result is not None and done.case.result.text == corrected.answer
    assert done.detail["corrected"] is True


@pytest.mark.parametrize("secret", [{"confidential": True}, {"state_secret": True}])
def test_confidential_and_secret_cases_are_resolved_never_published(
    secret: dict[str, bool],
) -> None:
    done = tr.approve(drafted(**secret), LEADER, NOW, agency_has_leader=True)
    assert done.case.status is Status.RESOLVED and done.case.result is None
    assert kinds(done) == [EventKind.RESOLVED]
    with pytest.raises(tr.Refused):
        tr.edit_publication(done.case, OPERATOR, NOW, content="x", answer=None)


def test_an_edit_after_publication_is_recorded_as_such() -> None:
    published = tr.approve(drafted(), LEADER, NOW, agency_has_leader=True).case
    edited = tr.edit_publication(published, OPERATOR, NOW, content=None, answer="Đã thay đèn.")
    assert edited.detail["after_publication"] is True
    assert edited.case.result is not None and edited.case.result.text == "Đã thay đèn."
    assert edited.case.history[-1].action == "publication_edited"
    assert "sau khi đã công khai" in (edited.case.history[-1].note or "")
    before = tr.edit_publication(in_progress(), STAFF, NOW, content="Đèn tắt.", answer=None)
    assert before.detail["after_publication"] is False


def test_not_solved_within_the_window_reopens_with_the_same_agency_and_a_new_deadline() -> None:
    published = tr.approve(drafted(), LEADER, NOW, agency_has_leader=True).case
    later = NOW + timedelta(days=3)
    done = tr.take_feedback(
        published,
        FeedbackInput(rating=1, solved=False),
        submission_id="web:" + "0" * 32,
        comment="Đèn lại tắt.",
        now=later,
        calendar=CALENDAR,
        window=timedelta(days=30),
        agency_name=LEAD,
    )
    case = done.case
    assert case.status is Status.ASSIGNED and case.lead_agency == LEAD
    assert case.reopened == 1 and case.citizen_feedback[-1].reopened
    assert case.due_at == CALENDAR.add_working_time(later, CALENDAR.hours.day_length * 5)
    assert kinds(done) == [EventKind.REOPENED]


def test_feedback_after_the_window_or_solved_is_only_recorded() -> None:
    published = tr.approve(drafted(), LEADER, NOW, agency_has_leader=True).case
    for solved, when in ((False, NOW + timedelta(days=31)), (True, NOW + timedelta(days=1))):
        done = tr.take_feedback(
            published,
            FeedbackInput(rating=4, solved=solved),
            submission_id="web:" + "1" * 32,
            comment=None,
            now=when,
            calendar=CALENDAR,
            window=timedelta(days=30),
            agency_name=LEAD,
        )
        assert done.case.status is Status.PUBLISHED and done.events == ()
        assert done.case.citizen_feedback[-1].rating == 4


def test_input_rules() -> None:
    with pytest.raises(tr.Refused) as refused:
        tr.required_text("  ", "reason")
    assert refused.value.field == "reason" and refused.value.status == 422
    assert tr.working_days_of("2,5") == 2.5
    with pytest.raises(tr.Refused):
        tr.working_days_of("40")
    assert tr.flag("on") is True and tr.flag(False) is False and tr.flag("?") is None
