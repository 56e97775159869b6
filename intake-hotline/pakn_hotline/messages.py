"""The Vietnamese texts agents see: the core's rules phrased for someone on the line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from pakn.schema import Status

#: API field names (as the core's rules name them) → the console's form fields.
FORM_FIELD_OF: Final[Mapping[str, str]] = {
    "content": "content",
    "title": "content",
    "occurred_at": "occurred",
    "location.address": "street",
    "location.commune": "commune",
    "submitter.name": "name",
    "submitter.phone": "phone",
    "submitter.contact": "phone",
    "submitter.email": "phone",
    "consent": "consent",
    "in_reply_to": "in_reply_to",
}

#: (field, code) → what the agent should do about it, in the words of the call.
AGENT_HINTS: Final[Mapping[tuple[str, str], str]] = {
    ("content", "required"): "Chưa ghi nội dung: hỏi người gọi việc gì đang xảy ra.",
    ("content", "too_short"): (
        "Nội dung còn quá ngắn (ít nhất {minimum} ký tự): hỏi thêm việc gì, ở đâu, "
        "từ bao giờ, ảnh hưởng thế nào."
    ),
    ("content", "too_long"): "Nội dung quá dài ({length}/{maximum} ký tự): tóm tắt lại.",
    ("content", "missing_diacritics"): (
        "Nội dung đang gõ không dấu: gõ lại có dấu để cơ quan xử lý đọc đúng."
    ),
    ("content", "not_vietnamese"): "Ghi nội dung bằng tiếng Việt (có thể dịch lời người gọi).",
    ("occurred_at", "required"): (
        "Chưa có thời điểm: hỏi việc xảy ra khi nào (ví dụ: sáng nay, tối qua lúc 9h, "
        "03/12/2026 08:30)."
    ),
    ("occurred_at", "invalid_datetime"): (
        "Chưa hiểu thời điểm: ghi như 03/12/2026 08:30, hoặc sáng nay, tối qua lúc 9h."
    ),
    ("occurred_at", "in_future"): "Thời điểm đang ở tương lai: hỏi lại người gọi.",
    ("location.address", "required"): (
        "Chưa có địa điểm: hỏi tên đường, số nhà hoặc vị trí gần đó, và chọn xã/phường."
    ),
    ("location.address", "too_short"): "Địa điểm quá ngắn: hỏi thêm tên đường hoặc mốc gần đó.",
    ("location.address", "too_long"): "Địa điểm quá dài: chỉ ghi đường, số nhà, mốc gần đó.",
    ("submitter.name", "required"): "Chưa có tên người gọi: hỏi họ tên (có thể ghi tên gọi).",
    ("submitter.name", "too_long"): "Tên quá dài: chỉ ghi họ tên.",
    ("submitter.contact", "required"): "Chưa có số điện thoại để báo lại kết quả.",
    ("submitter.phone", "invalid_phone"): (
        "Số điện thoại không hợp lệ: đọc lại từng số với người gọi (ví dụ 0905 123 456)."
    ),
    ("consent", "consent_required"): (
        "Chưa có đồng ý: đọc câu xin phép xử lý thông tin cá nhân và đánh dấu khi người gọi đồng ý."
    ),
    ("in_reply_to", "invalid_tracking_code"): (
        "Mã hồ sơ sai (kiểm tra lại từng số): mã có 10 chữ số, ví dụ 123 456 7890."
    ),
}

CONSENT_SCRIPT = (
    "Để xử lý phản ánh, Tổng đài ghi nhận họ tên, số điện thoại và nội dung anh/chị cung "
    "cấp theo quy định về bảo vệ dữ liệu cá nhân. Anh/chị có đồng ý không?"
)

STATUS_NAMES: Final[Mapping[str, str]] = {
    Status.RECEIVED: "Đã tiếp nhận",
    Status.NEEDS_INFO: "Cần bổ sung thông tin",
    Status.TRIAGE: "Đang phân loại",
    Status.ASSIGNED: "Đã chuyển cơ quan xử lý",
    Status.IN_PROGRESS: "Đang xử lý",
    Status.RESOLVED: "Đã có kết quả",
    Status.PUBLISHED: "Đã công khai kết quả",
    Status.REDIRECTED: "Chuyển tiếp công dân (khiếu nại, tố cáo)",
    Status.DUPLICATE: "Trùng hồ sơ khác",
}

#: Why an agent should call the citizen back, by case event.
CALLBACK_REASONS: Final[Mapping[str, str]] = {
    "needs_info": "Cơ quan cần người gọi bổ sung thông tin",
    "published": "Đã có kết quả xử lý: báo lại cho người gọi",
    "redirected": "Không phải phản ánh, kiến nghị: hướng dẫn người gọi nơi tiếp nhận",
}

DIGIT_WORDS: Final = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

DRAFT_SAVED = "Đã lưu nháp."
SUBMIT_UNAVAILABLE = (
    "Hệ thống chưa xác nhận được phản ánh (máy chủ tin nhắn chưa trả lời). Nháp vẫn được giữ: "
    "bấm «Gửi phản ánh» lại sau vài giây, không sửa nội dung trước khi gửi lại. Chưa đọc mã "
    "cho người gọi."
)
SUBMIT_CONFLICT = (
    "Phản ánh này đã được gửi đi trước khi sửa, có thể đã tới hệ thống. Nội dung đã gửi được "
    "khôi phục bên dưới: bấm «Gửi phản ánh» để lấy mã; điều cần sửa hoặc bổ sung, ghi vào "
    "một phản ánh mới trong cùng cuộc gọi."
)
NOT_FOUND = "Không tìm thấy cuộc gọi này."
CALLBACK_DONE = "Đã đánh dấu đã gọi lại."
PARENT_NOT_FOUND = "Không tìm thấy hồ sơ {code} để gắn vào."


def agent_hint(field: str, code: str, fallback: str, **values: object) -> str:
    """What the agent should do about one finding of the core's rules."""
    template = AGENT_HINTS.get((field, code))
    if template is None:
        return fallback
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return fallback


def read_back(code: str) -> list[list[str]]:
    """A tracking code as the agent reads it aloud: groups of three digits, in words."""
    groups = [code[i : i + 3] for i in range(0, len(code), 3)]
    return [[DIGIT_WORDS[int(d)] for d in group] for group in groups]
