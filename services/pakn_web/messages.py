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
IDEMPOTENCY_KEY_INVALID: Final = (
    "Mã gửi (Idempotency-Key) không hợp lệ: tối đa 512 ký tự ASCII in được."
)
OPEN311_UNREADABLE: Final = (
    "Không đọc được yêu cầu: dữ liệu phải là biểu mẫu (form) hợp lệ theo GeoReport v2."
)
OPEN311_UNKNOWN_SERVICE: Final = (
    "Không có dịch vụ (service_code) này. Xem danh sách ở services.json."
)
OPEN311_INVALID_ID: Final = (
    "Mã hồ sơ (service_request_id) không hợp lệ: mã gồm 10 chữ số, chữ số cuối để kiểm tra."
)
OPEN311_BAD_DATE: Final = "{name} phải là thời điểm theo W3C, ví dụ 2026-01-01T00:00:00+07:00."
OPEN311_DATE_NEEDS_ZONE: Final = "{name} cần có múi giờ, ví dụ 2026-01-01T00:00:00+07:00."
OPEN311_END_BEFORE_START: Final = "end_date phải sau start_date."
OPEN311_SPAN_TOO_LONG: Final = "Khoảng từ start_date đến end_date không được quá 90 ngày."
OPEN311_BAD_STATUS: Final = "status chỉ nhận open hoặc closed (cách nhau bởi dấu phẩy)."
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

#: What happens next, for the citizen, at every status (the tracking page and the sent page).
NEXT_STEPS: Final[dict[str, str]] = {
    "received": (
        "Hệ thống đang đọc phản ánh để chuyển đến cơ quan có thẩm quyền, thường chỉ trong"
        " vài giây. Tải lại trang để thấy cơ quan xử lý và hạn trả lời."
    ),
    "needs_info": (
        "Phản ánh còn thiếu thông tin để xử lý. Vui lòng gửi bổ sung qua biểu mẫu, ghi mã hồ sơ"
        " này ở ô “Bổ sung cho hồ sơ”; thời hạn xử lý tạm dừng cho đến khi nhận được bổ sung."
    ),
    "triage": (
        "Cán bộ điều phối đang xem phản ánh để chọn đúng cơ quan xử lý (thường trong ngày làm"
        " việc). Thời hạn xử lý vẫn tính từ lúc tiếp nhận, không bị kéo dài vì bước này."
    ),
    "assigned": (
        "Cơ quan xử lý đã nhận hồ sơ và phải trả lời trước hạn ghi dưới đây. Nếu cơ quan không"
        " đúng thẩm quyền, hồ sơ được chuyển lại để phân loại, hạn không thay đổi."
    ),
    "in_progress": (
        "Cơ quan đang xử lý. Khi có kết quả, kết quả được ghi ở trang này và công khai tại"
        " trang Kết quả xử lý."
    ),
    "resolved": "Cơ quan đã xử lý xong; kết quả sẽ được công khai sau khi được duyệt.",
    "published": (
        "Kết quả đã được công khai. Nếu vấn đề chưa được giải quyết, bạn có thể gửi phản ánh"
        " bổ sung, ghi mã hồ sơ này."
    ),
    "redirected": (
        "Nội dung này là khiếu nại hoặc tố cáo, không thuộc phản ánh, kiến nghị theo quy định."
        " Vui lòng gửi đơn hoặc đến trực tiếp nơi tiếp nhận ghi dưới đây."
    ),
    "duplicate": (
        "Phản ánh này trùng với một hồ sơ đã gửi; hồ sơ đó được xử lý thay cho hồ sơ này."
        " Theo dõi tiến độ ở hồ sơ được nêu."
    ),
}
HOW_TOLD: Final = (
    "Theo dõi bằng mã hồ sơ tại trang Tra cứu hồ sơ, hoặc gọi tổng đài 1900 1023 và đọc mã."
    " Cơ quan xử lý có thể liên hệ bạn theo số điện thoại hoặc thư điện tử bạn đã để lại nếu"
    " cần thêm thông tin. Kết quả được công khai tại trang Kết quả xử lý (trừ hồ sơ bạn yêu"
    " cầu giữ bí mật)."
)
#: The case's history as the public sees it: what happened, never who or why in private.
TIMELINE_LABELS: Final[dict[str, str]] = {
    "received": "Tiếp nhận phản ánh",
    "needs_info": "Đề nghị bổ sung thông tin",
    "triage": "Chờ cán bộ phân loại",
    "assigned": "Giao cơ quan xử lý",
    "reassigned": "Chuyển cơ quan xử lý",
    "redirected": "Hướng dẫn chuyển sang kênh khiếu nại, tố cáo",
    "duplicate": "Xác định trùng với hồ sơ đã gửi",
    "escalated": "Báo cáo Ủy ban nhân dân tỉnh do quá hạn",
    "in_progress": "Cơ quan bắt đầu xử lý",
    "returned": "Cơ quan trả lại để phân loại lại",
    "extended": "Gia hạn xử lý",
    "resolved": "Cơ quan đã xử lý xong",
    "published": "Công khai kết quả",
    "reopened": "Mở lại hồ sơ theo ý kiến người dân",
    "followup": "Người dân gửi bổ sung",
}
UNVERIFIED: Final = "(chưa xác minh — vui lòng gọi hỏi trước khi đến)"
RATE_LIMITED_TITLE: Final = "Bạn gửi hơi nhanh"
RATE_LIMITED_PAGE: Final = (
    "Để bảo vệ hệ thống, mỗi người chỉ được gửi một số yêu cầu trong một khoảng thời gian."
    " Vui lòng chờ {wait} rồi thử lại. Những gì bạn đã gửi thành công vẫn được giữ nguyên."
)
WAIT_SECONDS: Final = "{n} giây"
WAIT_MINUTES: Final = "khoảng {n} phút"
LOCATE_BUTTON: Final = "Dùng vị trí hiện tại của tôi"

# --- published results (/ket-qua) and the citizen's feedback ------------------------------
RESULTS_BAD_DATE = (
    "Ngày chưa đúng định dạng. Vui lòng nhập theo dạng ngày/tháng/năm, ví dụ 01/11/2026."
)
FEEDBACK_CONTACT_REQUIRED = (
    "Vui lòng nhập số điện thoại hoặc thư điện tử bạn đã để lại khi gửi phản ánh."
)
FEEDBACK_CONTACT_MISMATCH = (
    "Số điện thoại hoặc thư điện tử không khớp với thông tin đã gửi cùng phản ánh này."
)
FEEDBACK_RATING_INVALID = "Vui lòng chấm điểm từ 1 đến 5."
FEEDBACK_SOLVED_REQUIRED = "Vui lòng cho biết vấn đề đã được giải quyết hay chưa."
FEEDBACK_NOT_OPEN = "Hồ sơ chưa có kết quả để đánh giá."
FEEDBACK_COMMENT_TOO_LONG = "Ý kiến dài quá {maximum} ký tự. Vui lòng rút gọn."
FEEDBACK_THANKS = "Cảm ơn bạn đã đánh giá kết quả xử lý."
FEEDBACK_REOPENS = (
    "Cảm ơn bạn. Hồ sơ sẽ được mở lại và chuyển lại cơ quan xử lý, với thời hạn xử lý mới."
)
FEEDBACK_TOO_LATE = (
    "Cảm ơn bạn. Đã quá {days} ngày kể từ khi công khai kết quả nên hồ sơ không được mở lại;"
    " bạn có thể gửi phản ánh mới."
)
FEEDBACK_DEFAULT_COMMENT = "Người dân đánh giá kết quả xử lý."
# --- public scoreboard (/thong-ke) -----------------------------------------------------------

SCOREBOARD_TITLE: Final = "Thống kê giải quyết phản ánh, kiến nghị"
SCOREBOARD_PERIOD: Final = "12 tháng gần nhất: từ {start} đến {end}"
SCOREBOARD_NOTE: Final = (
    "Chỉ tính các phản ánh, kiến nghị đã có kết quả công khai, theo ngày tiếp nhận. Đúng hạn:"
    " kết quả được duyệt trước hạn giải quyết. Thời gian trả lời tính bằng ngày làm việc"
    " (không tính ngày nghỉ, ngày lễ, Tết và thời gian chờ người dân bổ sung)."
)
SCOREBOARD_BY_AGENCY: Final = "Theo cơ quan giải quyết"
SCOREBOARD_BY_FIELD: Final = "Theo lĩnh vực"
SCOREBOARD_AGENCY: Final = "Cơ quan"
SCOREBOARD_FIELD: Final = "Lĩnh vực"
SCOREBOARD_RECEIVED: Final = "Số phản ánh đã công khai kết quả"
SCOREBOARD_ON_TIME: Final = "Tỉ lệ đúng hạn"
SCOREBOARD_MEDIAN: Final = "Thời gian trả lời (trung vị, ngày làm việc)"
SCOREBOARD_EMPTY: Final = "Chưa có kết quả nào được công khai trong 12 tháng qua."
SCOREBOARD_NONE: Final = "Chưa xác định"
