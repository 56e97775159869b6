"""The Vietnamese texts citizens receive by e-mail: acknowledgements and case news."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pakn.ids import format_tracking_code
from pakn.worktime import local_text

SIGNATURE = (
    "Cổng tiếp nhận phản ánh, kiến nghị tỉnh Khánh Hòa\n"
    "Đường dây nóng: 1900 1023 · pakn@khanhhoa.gov.vn\n"
    "Thư này được gửi tự động; xin đừng xóa mã hồ sơ ở tiêu đề khi trả lời."
)
SENDER_NAME = "Cổng PAKN Khánh Hòa"


@dataclass(frozen=True)
class Letter:
    subject: str
    text: str


def tracking_link(public_url: str, tracking_code: str) -> str:
    return f"{public_url.rstrip('/')}/tra-cuu?ma={tracking_code}"


def _greeting(name: str | None) -> str:
    return f"Kính gửi ông/bà {name}," if name else "Kính gửi ông/bà,"


def _subject(tracking_code: str, what: str) -> str:
    return f"[PAKN {format_tracking_code(tracking_code)}] {what}"


def acknowledgement(
    *,
    tracking_code: str,
    name: str | None,
    received_at: datetime,
    title: str | None,
    requests: list[str],
    public_url: str,
    refused_files: list[str],
    phone_known: bool,
) -> Letter:
    """The answer to a new report: its code and link, and exactly what to add by replying.

    ``requests`` are the core's own Vietnamese messages for what is missing, ``refused_files``
    its messages for attachments it could not take.
    """
    code = format_tracking_code(tracking_code)
    parts = [
        _greeting(name),
        "",
        "Cổng tiếp nhận phản ánh, kiến nghị tỉnh Khánh Hòa đã nhận thư của ông/bà"
        + (f" «{title}»" if title else "")
        + f" lúc {local_text(received_at)}.",
        "",
        f"Mã hồ sơ: {code}",
        f"Tra cứu tình trạng xử lý: {tracking_link(public_url, tracking_code)}",
        "",
    ]
    if requests:
        parts += [
            "Để chuyển phản ánh đến cơ quan có thẩm quyền, xin ông/bà trả lời thư này và bổ sung:",
            *(f"  - {line}" for line in dict.fromkeys(requests)),
            "",
            "Hồ sơ được giữ nguyên mã; thời hạn xử lý được tính từ khi nhận đủ thông tin.",
        ]
    else:
        parts += [
            "Phản ánh sẽ được chuyển đến cơ quan có thẩm quyền. Ông/bà sẽ nhận thư khi hồ sơ "
            "được giao xử lý và khi có kết quả.",
            "Muốn bổ sung thông tin hoặc hình ảnh, ông/bà chỉ cần trả lời thư này.",
        ]
    if not phone_known:
        parts += [
            "",
            "Nếu được, xin ông/bà cho biết số điện thoại để cơ quan xử lý liên hệ khi cần.",
        ]
    if refused_files:
        parts += ["", "Về tệp đính kèm:", *(f"  - {line}" for line in refused_files)]
    parts += ["", "Trân trọng,", SIGNATURE]
    what = "Cần bổ sung thông tin" if requests else "Đã tiếp nhận phản ánh"
    return Letter(_subject(tracking_code, what), "\n".join(parts))


def followup_acknowledgement(
    *, parent_code: str, name: str | None, received_at: datetime, public_url: str
) -> Letter:
    """The answer to a reply that adds to an existing case."""
    parts = [
        _greeting(name),
        "",
        f"Thông tin ông/bà gửi lúc {local_text(received_at)} đã được bổ sung vào hồ sơ "
        f"{format_tracking_code(parent_code)}.",
        f"Tra cứu tình trạng xử lý: {tracking_link(public_url, parent_code)}",
        "",
        "Trân trọng,",
        SIGNATURE,
    ]
    return Letter(_subject(parent_code, "Đã bổ sung vào hồ sơ"), "\n".join(parts))


def assigned(
    *, tracking_code: str, name: str | None, agency: str, due_at: datetime | None, public_url: str
) -> Letter:
    deadline = f" Thời hạn xử lý: {local_text(due_at)}." if due_at else ""
    parts = [
        _greeting(name),
        "",
        f"Hồ sơ {format_tracking_code(tracking_code)} đã được giao cho {agency} xử lý.{deadline}",
        f"Tra cứu: {tracking_link(public_url, tracking_code)}",
        "",
        "Trân trọng,",
        SIGNATURE,
    ]
    return Letter(_subject(tracking_code, f"Đã giao cho {agency}"), "\n".join(parts))


def needs_info(
    *, tracking_code: str, name: str | None, question: str | None, public_url: str
) -> Letter:
    parts = [
        _greeting(name),
        "",
        f"Cơ quan xử lý hồ sơ {format_tracking_code(tracking_code)} cần ông/bà bổ sung thông tin"
        + (f": {question}" if question else "."),
        "Xin trả lời thư này; thời hạn xử lý tạm dừng cho đến khi nhận được thông tin.",
        f"Tra cứu: {tracking_link(public_url, tracking_code)}",
        "",
        "Trân trọng,",
        SIGNATURE,
    ]
    return Letter(_subject(tracking_code, "Cần bổ sung thông tin"), "\n".join(parts))


def escalated(
    *, tracking_code: str, name: str | None, reason: str | None, public_url: str
) -> Letter:
    parts = [
        _greeting(name),
        "",
        f"Hồ sơ {format_tracking_code(tracking_code)} đã quá thời hạn xử lý và được báo cáo lên "
        "Ủy ban nhân dân tỉnh để chỉ đạo" + (f" ({reason})" if reason else "") + ".",
        f"Tra cứu: {tracking_link(public_url, tracking_code)}",
        "",
        "Trân trọng,",
        SIGNATURE,
    ]
    return Letter(_subject(tracking_code, "Hồ sơ quá hạn đã được báo cáo"), "\n".join(parts))


def published(*, tracking_code: str, name: str | None, public_url: str) -> Letter:
    parts = [
        _greeting(name),
        "",
        f"Hồ sơ {format_tracking_code(tracking_code)} đã có kết quả xử lý. Ông/bà xem kết quả và "
        f"đánh giá mức độ hài lòng tại: {tracking_link(public_url, tracking_code)}",
        "",
        "Trân trọng,",
        SIGNATURE,
    ]
    return Letter(_subject(tracking_code, "Đã có kết quả xử lý"), "\n".join(parts))
