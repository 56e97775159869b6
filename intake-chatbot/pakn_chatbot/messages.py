"""Every Vietnamese text the chatbot sends citizens, in one place."""

from __future__ import annotations

from typing import Final

BOT_NAME: Final = "Trợ lý PAKN Khánh Hòa"

GREETING: Final = (
    f"Xin chào, tôi là {BOT_NAME}, trợ lý tự động tiếp nhận phản ánh, kiến nghị của tỉnh Khánh Hòa."
    " Bạn cứ kể sự việc bằng lời của mình: chuyện gì xảy ra, ở đâu, khi nào — tôi sẽ hỏi thêm"
    " những gì còn thiếu. Gõ “tra cứu” kèm mã hồ sơ để xem tình trạng, “hủy” để dừng."
)

# --- asking for what is missing -----------------------------------------------------------

ASK: Final[dict[str, str]] = {
    "content": "Bạn vui lòng mô tả sự việc muốn phản ánh: chuyện gì đang xảy ra?",
    "place": (
        "Sự việc xảy ra ở đâu ạ? Xin ghi số nhà, tên đường hoặc địa danh và xã/phường"
        " (ví dụ: 120 Trần Phú, phường Nha Trang)."
    ),
    "time": (
        "Sự việc xảy ra khi nào ạ? Bạn có thể trả lời như “sáng nay”, “tối qua lúc 9 giờ”"
        " hoặc “8 giờ ngày 25/11”."
    ),
    "name": "Xin cho biết họ và tên của bạn để cơ quan xử lý tiện liên hệ.",
    "phone": (
        "Xin để lại số điện thoại để cơ quan xử lý liên hệ và trả lời bạn (ví dụ 0912 345 678)."
    ),
}
#: The second time a slot is asked: what went wrong, then how to answer.
REASK: Final[dict[str, str]] = {
    "content": (
        "Xin lỗi, tôi chưa hiểu rõ sự việc. Bạn vui lòng kể cụ thể hơn, ít nhất một câu:"
        " chuyện gì xảy ra, ảnh hưởng thế nào?"
    ),
    "place": (
        "Xin lỗi, tôi chưa xác định được địa điểm. Bạn vui lòng ghi rõ số nhà, tên đường"
        " hoặc thôn/tổ, và xã/phường."
    ),
    "time": (
        "Xin lỗi, tôi chưa hiểu thời gian. Bạn vui lòng ghi ngày và giờ, ví dụ “25/11 lúc 8 giờ”"
        " hoặc “chiều hôm qua”."
    ),
    "name": "Xin lỗi, bạn vui lòng ghi họ và tên đầy đủ (ví dụ: Nguyễn Văn An).",
    "phone": (
        "Số điện thoại chưa đúng. Vui lòng nhập số điện thoại Việt Nam, ví dụ 0912 345 678"
        " hoặc +84 912 345 678."
    ),
}
MISSING_DIACRITICS: Final = (
    "Cảm ơn bạn. Để phản ánh được hiểu đúng và chuyển đúng cơ quan, bạn vui lòng viết lại"
    " nội dung bằng tiếng Việt có dấu (ví dụ: “đường bị ngập nước” thay vì"
    " “duong bi ngap nuoc”) nhé."
)
IN_FUTURE: Final = (
    "Thời gian xảy ra không thể ở tương lai. Bạn vui lòng cho biết lại sự việc xảy ra khi nào."
)
NOTED: Final = "Tôi đã ghi nhận: {items}."
SLOT_LABELS: Final[dict[str, str]] = {
    "content": "nội dung",
    "place": "địa điểm",
    "time": "thời gian",
    "name": "họ tên",
    "phone": "số điện thoại",
}

# --- consent and confirmation -------------------------------------------------------------

CONSENT_VERSION: Final = "2026-01"
CONSENT: Final = (
    "Để tiếp nhận và trả lời phản ánh, cơ quan nhà nước cần xử lý họ tên và số điện thoại của"
    " bạn theo Luật Bảo vệ dữ liệu cá nhân (Luật 91/2025/QH15). Thông tin chỉ dùng để xử lý"
    " phản ánh và không công khai. Bạn có đồng ý không? (trả lời “đồng ý” hoặc “không”)"
)
CONSENT_REFUSED: Final = (
    "Không có sự đồng ý thì tôi chưa thể gửi phản ánh. Nếu đổi ý, bạn trả lời “đồng ý”;"
    " hoặc gõ “hủy” để dừng. Bạn cũng có thể gọi tổng đài 1900 1023."
)
CONSENT_THANKS: Final = "Cảm ơn bạn đã đồng ý."
SUMMARY: Final = (
    "Xin kiểm tra lại phản ánh của bạn:\n"
    "• Nội dung: {content}\n"
    "• Địa điểm: {place}\n"
    "• Thời gian: {time}\n"
    "• Họ tên: {name}\n"
    "• Số điện thoại: {phone}\n"
    "{extra}"
    "Trả lời “gửi” để gửi đi, “sửa địa điểm” (hoặc nội dung, thời gian, họ tên, số điện thoại)"
    " để sửa một mục, hoặc “hủy” để dừng."
)
SUMMARY_PHOTOS: Final = "• Ảnh đính kèm: {count}\n"
SUMMARY_CONFIDENTIAL: Final = "• Giữ bí mật thông tin người phản ánh: có\n"
ASK_CORRECTION: Final = (
    "Bạn muốn sửa mục nào: nội dung, địa điểm, thời gian, họ tên hay số điện thoại?"
)
CORRECTED: Final = "Đã sửa {item}."

SUBMITTED: Final = (
    "Phản ánh của bạn đã được tiếp nhận. Mã hồ sơ: {code}. Xin giữ mã này để tra cứu"
    " (gõ “tra cứu {code}”) hoặc xem tại {url}. Tôi sẽ nhắn cho bạn khi có tiến triển."
)
SUBMIT_UNAVAILABLE: Final = (
    "Xin lỗi, hệ thống đang bận nên chưa gửi được. Phản ánh của bạn vẫn được giữ nguyên;"
    " bạn vui lòng trả lời “gửi” lại sau ít phút."
)
SUBMIT_INVALID: Final = "Phản ánh còn thiếu hoặc chưa đúng: {problems}"

# --- commands -----------------------------------------------------------------------------

CANCELLED: Final = (
    "Đã hủy phản ánh đang soạn; thông tin bạn vừa cung cấp đã được xóa. Khi cần, bạn cứ nhắn"
    " lại cho tôi."
)
NOTHING_TO_CANCEL: Final = "Hiện không có phản ánh nào đang soạn. Bạn cần tôi giúp gì ạ?"
CONFIDENTIAL: Final = (
    "Đã ghi nhận: thông tin cá nhân của bạn sẽ được giữ bí mật; phản ánh và kết quả trả lời"
    " sẽ không được công khai."
)
PHOTO_RECEIVED: Final = "Đã nhận {count} ảnh."
PHOTO_REJECTED: Final = "Không nhận được tệp “{filename}”: {reason}"
PHOTO_LIMIT: Final = "Mỗi phản ánh chỉ kèm tối đa {maximum} ảnh; ảnh thêm không được nhận."
PHOTO_TOO_LARGE: Final = "ảnh lớn hơn {maximum_mb} MB."
PHOTO_TYPE: Final = "chỉ nhận ảnh JPEG, PNG, WebP, HEIC hoặc tệp PDF."
PHOTO_UNREACHABLE: Final = "không tải được ảnh, bạn vui lòng gửi lại."

LOOKUP_ASK: Final = "Bạn vui lòng gửi mã hồ sơ gồm 10 chữ số, ví dụ: tra cứu 123 456 7890."
LOOKUP_INVALID: Final = (
    "Mã hồ sơ không đúng. Mã gồm 10 chữ số, ví dụ 123 456 7890; vui lòng kiểm tra lại."
)
LOOKUP_NOT_FOUND: Final = "Không tìm thấy hồ sơ {code}. Vui lòng kiểm tra lại mã."
STATUS: Final = "Hồ sơ {code}: {status}."
STATUS_AGENCY: Final = " Cơ quan xử lý: {agency}."
STATUS_DUE: Final = " Hạn xử lý: {due}."
STATUS_OVERDUE: Final = " Hồ sơ đã quá hạn."
STATUS_ESCALATION: Final = " Đã chuyển lên cấp trên: {reason}."
STATUS_RESULT: Final = " Kết quả: {result}"
STATUS_LABELS: Final[dict[str, str]] = {
    "received": "đã tiếp nhận, đang phân loại",
    "needs_info": "cần bổ sung thông tin",
    "triage": "đang được cán bộ phân loại",
    "assigned": "đã chuyển cơ quan xử lý",
    "in_progress": "đang xử lý",
    "resolved": "đã có kết quả, đang chờ công bố",
    "published": "đã có kết quả",
    "redirected": "được hướng dẫn chuyển sang kênh tiếp công dân",
    "duplicate": "trùng với một phản ánh đã gửi",
}
RESUME: Final = "Chúng ta tiếp tục phản ánh đang soạn nhé."
EXPIRED: Final = (
    "Cuộc trò chuyện trước đã tạm dừng quá lâu nên phản ánh chưa gửi đã được xóa để bảo vệ"
    " thông tin của bạn. Khi cần, bạn cứ nhắn lại từ đầu."
)
AFTER_SUBMIT: Final = (
    "Bạn có muốn phản ánh thêm việc khác không? Cứ kể cho tôi; hoặc gõ “tra cứu” kèm mã hồ sơ."
)

# --- telling the citizen what happened --------------------------------------------------

UPDATES: Final[dict[str, str]] = {
    "assigned": "Hồ sơ {code} đã được chuyển đến {agency} để xử lý. Hạn xử lý: {due}.",
    "needs_info": (
        "Hồ sơ {code} cần bổ sung thông tin: {question} Bạn vui lòng gọi tổng đài 1900 1023"
        " hoặc gửi phần bổ sung trên cổng {portal} kèm mã hồ sơ này."
    ),
    "escalated": "Hồ sơ {code} đã quá hạn và được báo cáo lên {agency} để chỉ đạo xử lý.",
    "published": "Hồ sơ {code} đã có kết quả trả lời: {result} Xem chi tiết tại {url}.",
}
UPDATE_NO_DETAIL: Final = "(xem chi tiết khi tra cứu)"

# --- emergencies --------------------------------------------------------------------------

EMERGENCY_HEADER: Final = "⚠️ KHẨN CẤP"
EMERGENCY_FALLBACK: Final = (
    "Nếu có nguy hiểm đến tính mạng, xin gọi ngay: 114 (cháy, nổ, cứu nạn), 115 (cấp cứu),"
    " 113 (công an)."
)

# --- the widget's rate limit ----------------------------------------------------------------

RATE_LIMITED: Final = (
    "Bạn đang gửi tin nhắn hơi nhanh. Để bảo vệ hệ thống, tôi tạm chưa nhận tin nhắn này —"
    " vui lòng chờ {seconds} giây rồi gửi lại. Những gì bạn đã gửi trước đó vẫn được giữ nguyên."
)
