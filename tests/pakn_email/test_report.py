"""The corpus under the core's rules and the e-mail policy (pure: no server), and the texts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pakn.extract import PlaceFinder
from pakn.territory import load
from pakn_email import messages
from pakn_email.parse import parse_mail
from pakn_email.report import build_report
from tests.pakn_email.corpus import OUR_ADDRESS, CorpusMail, load_corpus

PLACES = PlaceFinder(load(Path("deploy/config/khanh-hoa")))
REPORTS = [m for m in load_corpus() if m.outcome in ("case", "needs_info", "followup")]


@pytest.mark.parametrize("mail", REPORTS, ids=lambda mail: mail.name)
def test_problems_are_what_the_sidecar_says(mail: CorpusMail) -> None:
    parsed = parse_mail(mail.raw, own_addresses=[OUR_ADDRESS])
    received = parsed.date or datetime(2026, 12, 2, 1, tzinfo=UTC)
    followup = parsed.thread_code if mail.outcome == "followup" else None
    report = build_report(parsed, received_at=received, places=PLACES, in_reply_to=followup)
    assert report.checked.report is not None
    assert [p.model_dump() for p in report.problems] == mail.expected.get("problems", [])
    # Each problem is asked for in the core's own Vietnamese words.
    assert len(report.requests) == len(report.problems)
    if mail.outcome == "case" and "attachments" in mail.expected:
        assert len(report.uploads) == len(mail.expected["attachments"])


def test_the_acknowledgement_says_the_code_the_link_and_what_to_add() -> None:
    letter = messages.acknowledgement(
        tracking_code="1234567894",
        name="Nguyễn Thị Mai",
        received_at=datetime(2026, 12, 2, 1, 15, tzinfo=UTC),
        title="Đèn đường bị tắt",
        requests=["Vui lòng cho biết sự việc xảy ra ở đâu (số nhà, tên đường, xã/phường)."],
        public_url="https://pakn.khanhhoa.gov.vn/",
        refused_files=[],
        phone_known=True,
    )
    assert letter.subject == "[PAKN 123 456 7894] Cần bổ sung thông tin"
    assert "Mã hồ sơ: 123 456 7894" in letter.text
    assert "https://pakn.khanhhoa.gov.vn/tra-cuu?ma=1234567894" in letter.text
    assert "  - Vui lòng cho biết sự việc xảy ra ở đâu" in letter.text
    assert "08:15 02/12/2026" in letter.text  # province time
    assert "số điện thoại để cơ quan" not in letter.text


def test_a_complete_report_is_told_it_will_be_routed() -> None:
    letter = messages.acknowledgement(
        tracking_code="1234567894",
        name=None,
        received_at=datetime(2026, 12, 2, 1, 15, tzinfo=UTC),
        title=None,
        requests=[],
        public_url="https://pakn.khanhhoa.gov.vn",
        refused_files=["Tệp “a.docx” không phải ảnh JPEG, PNG, WebP, HEIC hoặc tệp PDF."],
        phone_known=False,
    )
    assert letter.subject == "[PAKN 123 456 7894] Đã tiếp nhận phản ánh"
    assert letter.text.startswith("Kính gửi ông/bà,")
    assert "a.docx" in letter.text and "số điện thoại" in letter.text
