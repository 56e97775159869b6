"""Every Vietnamese text the web intake shows citizens, in one place (the content rules'
texts are the core's: pakn.intake.messages)."""

from __future__ import annotations

from typing import Final

# Pages
CONSENT_TEXT: Final = (
    "Tôi đồng ý để cơ quan nhà nước xử lý thông tin cá nhân của tôi nhằm tiếp nhận, xử lý và"
    " trả lời phản ánh này (Luật Bảo vệ dữ liệu cá nhân 2025)."
)
EMERGENCY_NOTICE: Final = (
    "Trường hợp khẩn cấp (cháy nổ, tai nạn, dây điện đứt rơi xuống đường, cây đổ đè người…),"
    " vui lòng gọi ngay: 113 (Công an), 114 (Cứu hỏa, cứu nạn), 115 (Cấp cứu)."
)
RECEIVED: Final = "Đã tiếp nhận phản ánh, kiến nghị của bạn."
BROKER_UNAVAILABLE: Final = (
    "Hệ thống đang bận, phản ánh của bạn chưa được ghi nhận. Vui lòng gửi lại sau ít phút;"
    " bạn sẽ nhận được đúng mã hồ sơ, không bị trùng."
)
RATE_LIMITED: Final = "Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau {seconds} giây."
CONFLICT: Final = (
    "Yêu cầu này trùng mã gửi (Idempotency-Key) với một phản ánh khác có nội dung khác."
    " Vui lòng tải lại trang và gửi lại."
)
BODY_TOO_LARGE: Final = "Dữ liệu gửi lên vượt quá {maximum_mb} MB. Vui lòng bớt tệp đính kèm."
BAD_REQUEST: Final = "Dữ liệu gửi lên không đọc được. Vui lòng kiểm tra lại."
CASE_NOT_FOUND: Final = "Không tìm thấy hồ sơ có mã này. Vui lòng kiểm tra lại mã."
ERRORS_HEADING: Final = "Phản ánh chưa gửi được. Vui lòng sửa {count} mục sau:"

STATUS_LABELS: Final[dict[str, str]] = {
    "received": "Đã tiếp nhận, đang phân loại",
    "needs_info": "Cần bổ sung thông tin",
    "triage": "Đang phân loại",
    "assigned": "Đã chuyển cơ quan xử lý",
    "in_progress": "Đang xử lý",
    "resolved": "Đã xử lý",
    "published": "Đã công khai kết quả",
    "redirected": "Chuyển kênh khiếu nại, tố cáo",
    "duplicate": "Trùng với hồ sơ đã gửi",
}
