"""Vietnamese texts the core's HTTP layer shows people: errors no handler phrased itself."""

from __future__ import annotations

#: By status: what aiohttp would otherwise answer in English ("404: Not Found").
HTTP_ERRORS: dict[int, str] = {
    400: "Yêu cầu không hợp lệ: dữ liệu gửi lên không đọc được.",
    401: "Cần đăng nhập để thực hiện thao tác này.",
    403: "Bạn không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy trang hoặc tài nguyên được yêu cầu.",
    405: "Phương thức này không được hỗ trợ ở địa chỉ này.",
    406: "Không có định dạng trả lời phù hợp với yêu cầu.",
    408: "Yêu cầu gửi lên quá chậm; vui lòng thử lại.",
    411: "Yêu cầu thiếu độ dài nội dung (Content-Length).",
    413: "Dữ liệu gửi lên quá lớn.",
    414: "Địa chỉ (URL) quá dài.",
    415: "Kiểu dữ liệu gửi lên không được hỗ trợ.",
    422: "Dữ liệu gửi lên chưa hợp lệ.",
    429: "Bạn gửi quá nhiều yêu cầu; vui lòng thử lại sau ít phút.",
    431: "Phần đầu (header) của yêu cầu quá lớn.",
    500: "Hệ thống gặp lỗi khi xử lý yêu cầu. Chúng tôi đã ghi nhận; vui lòng thử lại sau.",
    502: "Hệ thống tạm thời không kết nối được; vui lòng thử lại sau.",
    503: "Hệ thống tạm thời quá tải hoặc đang bảo trì; vui lòng thử lại sau.",
}
HTTP_ERROR_OTHER = "Không thực hiện được yêu cầu (mã lỗi {status})."
#: Title of the plain error page a browser gets.
ERROR_PAGE_TITLE = "Lỗi {status}"
ERROR_PAGE_HOME = "Về trang chủ"
ERROR_REFERENCE = "Mã tham chiếu lỗi: {reference}"
