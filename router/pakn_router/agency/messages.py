"""The Vietnamese texts of the agency workspace (pages, errors, history notes, event summaries)."""

from __future__ import annotations

# --- refusals -------------------------------------------------------------------------------
NOT_FOUND = "Không tìm thấy hồ sơ (hoặc hồ sơ không thuộc cơ quan, đơn vị của bạn)."
NOT_LEAD = "Chỉ cơ quan chủ trì xử lý hồ sơ mới thực hiện được thao tác này."
NOT_CO_AGENCY = "Chỉ cơ quan phối hợp mới gửi được ý kiến phối hợp."
WRONG_STATUS = "Hồ sơ đang ở trạng thái «{status}», không thực hiện được thao tác này."
NOT_APPROVER = (
    "Chỉ lãnh đạo cơ quan, đơn vị mới phê duyệt được kết quả "
    "(cơ quan chưa có tài khoản lãnh đạo thì quản trị viên cơ quan phê duyệt)."
)
NO_ANSWER = "Chưa có dự thảo kết quả để phê duyệt."
EXTENSION_PENDING = "Đã có một đề nghị gia hạn đang chờ quyết định."
NO_EXTENSION = "Không có đề nghị gia hạn nào đang chờ quyết định."
CONFIDENTIAL_NOT_PUBLIC = "Hồ sơ bí mật hoặc liên quan bí mật nhà nước không có bản công khai."
NOTHING_TO_EDIT = "Chưa có nội dung nào để sửa."
BAD_REQUEST = "Yêu cầu không hợp lệ."
INVALID_TRACKING_CODE = "Mã hồ sơ không hợp lệ."

REQUIRED = "Vui lòng nhập {what}."
TOO_LONG = "{what} dài quá {max} ký tự."
WORKING_DAYS_INVALID = "Số ngày làm việc gia hạn phải từ 0,5 đến 30."
TOO_MANY_FILES = "Chỉ đính kèm được tối đa {max} tệp."
FILE_TOO_LARGE = "Tệp “{name}” lớn hơn 10 MB."
FILE_TYPE = "Tệp “{name}” không phải ảnh JPEG, PNG, WebP, HEIC hoặc tệp PDF."
APPROVE_INVALID = "Vui lòng chọn đồng ý hoặc không đồng ý gia hạn."

WHAT = {
    "reason": "lý do",
    "text": "nội dung",
    "question": "câu hỏi cho người dân",
    "working_days": "số ngày làm việc gia hạn",
    "public_content": "nội dung công khai",
    "public_answer": "kết quả công khai",
}

# --- history notes and event summaries (public-safe: no personal data) ----------------------
ACCEPTED = "Cơ quan chủ trì đã tiếp nhận và đang xử lý."
RETURNED = "Cơ quan {agency} trả lại hồ sơ (không thuộc thẩm quyền): {reason}"
RETURNED_SUMMARY = "Hồ sơ được chuyển lại để phân loại, giao cơ quan có thẩm quyền."
CONTRIBUTED = "Cơ quan phối hợp {agency} đã gửi ý kiến."
ASKED = "Cơ quan xử lý đề nghị người dân bổ sung thông tin: {question}"
ASKED_SUMMARY = "Cơ quan xử lý cần thêm thông tin từ người gửi; thời hạn xử lý tạm dừng."
RESUMED = "Người dân đã bổ sung thông tin; tiếp tục xử lý."
EXTENSION_REQUESTED = "Đề nghị gia hạn {days} ngày làm việc: {reason}"
EXTENDED = "Gia hạn {days} ngày làm việc: {reason}"
EXTENDED_SUMMARY = "Thời hạn xử lý được gia hạn {days} ngày làm việc."
EXTENSION_REJECTED = "Không đồng ý gia hạn {days} ngày làm việc."
DRAFTED = "Đã có dự thảo kết quả, chờ lãnh đạo phê duyệt."
RESOLVED = "Kết quả xử lý đã được phê duyệt."
PUBLISHED = "Kết quả xử lý đã được công khai."
NOT_PUBLISHED = "Kết quả chỉ gửi cho người phản ánh (hồ sơ bí mật hoặc liên quan bí mật nhà nước)."
PUBLICATION_EDITED = "Sửa bản công khai ({what})."
PUBLICATION_EDITED_AFTER = "Sửa bản công khai sau khi đã công khai ({what})."
FEEDBACK = "Người dân đánh giá kết quả: {rating}; {solved}."
FEEDBACK_SOLVED = "đã được giải quyết"
FEEDBACK_NOT_SOLVED = "chưa được giải quyết"
NO_RATING = "không chấm điểm"
REOPENED = "Người dân cho biết chưa được giải quyết: hồ sơ được mở lại, giao lại {agency}."
REOPENED_SUMMARY = "Hồ sơ được mở lại theo ý kiến của người dân, với thời hạn mới."

# --- pages ----------------------------------------------------------------------------------
QUEUE_TITLE = "Hồ sơ của cơ quan"
CASE_TITLE = "Xử lý hồ sơ {code}"
OVERDUE = "Quá hạn"
DUE_TODAY = "Đến hạn hôm nay"
DONE_NOTICES = {
    "tiep-nhan": "Đã tiếp nhận hồ sơ {code}.",
    "tra-lai": "Đã trả lại hồ sơ {code} để phân loại lại.",
    "phoi-hop": "Đã gửi ý kiến phối hợp cho hồ sơ {code}.",
    "hoi": "Đã gửi câu hỏi cho người dân; thời hạn của hồ sơ {code} tạm dừng.",
    "gia-han": "Đã gửi đề nghị gia hạn hồ sơ {code}.",
    "quyet-dinh-gia-han": "Đã ghi quyết định gia hạn hồ sơ {code}.",
    "du-thao": "Đã lưu dự thảo kết quả hồ sơ {code}.",
    "phe-duyet": "Đã phê duyệt kết quả hồ sơ {code}.",
    "cong-khai": "Đã sửa bản công khai của hồ sơ {code}.",
}
