"""The Vietnamese texts of the routing monitor: pages, buttons, errors and notices."""

from __future__ import annotations

SYSTEM_NAME = "Giám sát điều phối phản ánh, kiến nghị"
ORG_NAME = "Ủy ban nhân dân tỉnh Khánh Hòa"
SKIP_LINK = "Bỏ qua, đến nội dung chính"
NAV_LABEL = "Chức năng"
NAV_AGENCY = "Hồ sơ của cơ quan"
LOGGED_IN_AS = "{name} ({role})"
LOGOUT = "Đăng xuất"
SEARCH_LABEL = "Tìm hồ sơ"
SEARCH_PLACEHOLDER = "Mã hồ sơ, số điện thoại, thư điện tử hoặc nội dung"
SEARCH_BUTTON = "Tìm"
SEARCH_HINT = "Mẹo: nhấn phím / để đến ô tìm kiếm."

# --- page titles ----------------------------------------------------------------------------

DASHBOARD_TITLE = "Tổng quan điều phối"
TRIAGE_TITLE = "Hồ sơ chờ phân loại"
SEARCH_TITLE = "Tìm hồ sơ"
CASE_TITLE = "Hồ sơ {code}"
DEAD_LETTERS_TITLE = "Tin nhắn không xử lý được"
DEAD_LETTER_TITLE = "Tin nhắn lỗi {id}"
DEADLINES_TITLE = "Hạn xử lý theo cơ quan"
PING_PONG_TITLE = "Hồ sơ bị chuyển qua lại"
ERROR_TITLE = "Có lỗi"

NAV = {
    "dashboard": "Tổng quan",
    "triage": "Chờ phân loại",
    "search": "Tìm hồ sơ",
    "deadlines": "Hạn xử lý",
    "ping_pong": "Chuyển qua lại",
    "reports": "Báo cáo",
    "dead_letters": "Tin nhắn lỗi",
}

# --- names of things ------------------------------------------------------------------------

STATUS_NAMES = {
    "received": "Mới tiếp nhận",
    "needs_info": "Chờ bổ sung thông tin",
    "triage": "Chờ phân loại",
    "assigned": "Đã giao cơ quan xử lý",
    "in_progress": "Đang xử lý",
    "resolved": "Đã xử lý xong",
    "published": "Đã công khai kết quả",
    "redirected": "Đã chuyển hướng (khiếu nại, tố cáo)",
    "duplicate": "Trùng với hồ sơ khác",
}
ACTION_NAMES = {
    "received": "Tiếp nhận",
    "needs_info": "Chờ bổ sung thông tin",
    "triage": "Chuyển chờ phân loại",
    "assigned": "Giao cơ quan xử lý",
    "reassigned": "Chuyển cơ quan khác",
    "redirected": "Chuyển hướng",
    "duplicate": "Đánh dấu trùng",
    "escalated": "Báo cáo cấp trên",
    "resolved": "Xử lý xong",
    "published": "Công khai kết quả",
    "note": "Ghi chú",
    "ping_pong": "Cảnh báo chuyển qua lại",
    # The agency workspace's actions (router/pakn_router/agency).
    "in_progress": "Cơ quan tiếp nhận xử lý",
    "returned": "Cơ quan trả lại",
    "contributed": "Ý kiến phối hợp",
    "extension_requested": "Đề nghị gia hạn",
    "extended": "Gia hạn",
    "extension_rejected": "Không đồng ý gia hạn",
    "answer_drafted": "Dự thảo kết quả",
    "not_published": "Không công khai",
    "publication_edited": "Sửa bản công khai",
    "feedback": "Người dân đánh giá",
    "reopened": "Mở lại hồ sơ",
}
PRIORITY_NAMES = {"normal": "Bình thường", "urgent": "Khẩn", "emergency": "Khẩn cấp"}
CHANNEL_NAMES = {
    "web": "Cổng thông tin",
    "app": "Ứng dụng di động",
    "chatbot": "Trợ lý ảo",
    "hotline": "Tổng đài",
    "email": "Thư điện tử",
}
METHOD_NAMES = {"rule": "Hệ thống tự động", "operator": "Cán bộ vận hành"}
DEAD_LETTER_STATUS_NAMES = {
    "new": "Chưa xử lý",
    "replayed": "Đã phát lại",
    "discarded": "Đã loại bỏ",
}
STAGE_NAMES = {
    "parse": "Đọc dữ liệu",
    "broker": "Giao nhận tin nhắn (quá số lần giao)",
}
ROUTER_ACTOR = "Hệ thống"
NONE = "—"
NO_AGENCY = "Chưa có"

# --- labels ---------------------------------------------------------------------------------

TRACKING_CODE = "Mã hồ sơ"
RECEIVED_AT = "Tiếp nhận lúc"
CHANNEL = "Kênh"
STATUS = "Trạng thái"
FIELD = "Lĩnh vực"
CATEGORY = "Loại việc"
PRIORITY = "Mức độ"
LEAD_AGENCY = "Cơ quan chủ trì"
CO_AGENCIES = "Cơ quan phối hợp"
CO_AGENCY_N = "Cơ quan phối hợp {n}"
DUE_AT = "Hạn xử lý"
OVERDUE = "Quá hạn"
DUE_SOON = "Sắp đến hạn"
ON_TIME = "Trong hạn"
PING_PONG = "Chuyển qua lại"
REASSIGNMENTS = "Số lần chuyển cơ quan"
TITLE = "Tiêu đề"
CONTENT = "Nội dung"
SUBMITTER = "Người gửi"
NAME = "Họ và tên"
PHONE = "Số điện thoại"
EMAIL = "Thư điện tử"
ADDRESS = "Địa chỉ"
ORGANIZATION = "Tổ chức"
LOCATION = "Địa điểm"
COMMUNE = "Xã, phường"
LEGACY_AREA = "Khu vực cũ"
CONFIDENTIAL = "Đề nghị giữ bí mật"
ATTACHMENTS = "Tệp đính kèm"
NO_ATTACHMENTS = "Không có tệp đính kèm."
FOLLOWUPS = "Nội dung bổ sung"
NO_FOLLOWUPS = "Chưa có nội dung bổ sung."
HISTORY = "Quá trình xử lý"
HISTORY_AT = "Thời gian"
HISTORY_ACTOR = "Người thực hiện"
HISTORY_ACTION = "Việc"
HISTORY_NOTE = "Ghi chú"
REDIRECT = "Chuyển hướng đến"
DUPLICATE_OF = "Trùng với hồ sơ"
RESULT = "Kết quả xử lý"
EVIDENCE = "Căn cứ của hệ thống"
METHOD = "Cách phân loại"
CONFIDENCE = "Độ tin cậy"
MATCHED = "Cụm từ nhận ra"
NO_MATCHED = "Không nhận ra cụm từ nào."
CANDIDATES = "Các khả năng"
NO_CANDIDATES = "Hệ thống không đưa ra được khả năng nào."
SCORE = "Điểm"
SUGGESTED_REDIRECT = "Có thể là khiếu nại, tố cáo: đề nghị chuyển đến {agency}"
SUGGESTION = "Gợi ý: {field} — {agency}"
WAITING_SINCE = "Chờ từ"
BYTES = "{size} byte"
KILOBYTES = "{size} KB"
MEGABYTES = "{size} MB"

# --- forms ----------------------------------------------------------------------------------

CHOOSE = "— Chọn —"
NO_CO_AGENCY = "— Không có —"
ANY = "Tất cả"
REASON = "Lý do"
REASON_HINT_TRIAGE = "Không bắt buộc khi phân loại hồ sơ chờ."
REASON_HINT_REASSIGN = "Bắt buộc: lý do được lưu vào quá trình xử lý của hồ sơ."
ASSIGN_HEADING = "Phân loại và giao xử lý"
REASSIGN_HEADING = "Chuyển cơ quan xử lý"
ASSIGN_BUTTON = "Giao xử lý"
QUICK_ASSIGN_BUTTON = "Giao xử lý hồ sơ {code}"
REASSIGN_BUTTON = "Chuyển cơ quan"
REDIRECT_HEADING = "Chuyển hướng (khiếu nại, tố cáo)"
REDIRECT_TO = "Chuyển đến"
REDIRECT_BUTTON = "Xác nhận chuyển hướng"
REDIRECT_HINT = (
    "Khiếu nại, tố cáo không thuộc phạm vi phản ánh, kiến nghị; hồ sơ được chuyển đến nơi "
    "có thẩm quyền và người gửi được thông báo lý do."
)
OPEN_CASE = "Xem hồ sơ {code}"
FILTER_STATUS = "Trạng thái"
FILTER_AGENCY = "Cơ quan"
FILTER_BUTTON = "Lọc"
READ_ONLY_NOTICE = "Tài khoản của bạn chỉ được xem; việc phân công do cán bộ vận hành thực hiện."

# --- notices and errors ---------------------------------------------------------------------

ERRORS_HEADING = "Chưa thực hiện được"
FIELD_REQUIRED = "Vui lòng chọn lĩnh vực."
FIELD_UNKNOWN = "Lĩnh vực không hợp lệ."
AGENCY_REQUIRED = "Vui lòng chọn cơ quan chủ trì."
AGENCY_UNKNOWN = "Không có cơ quan mã {code}."
CO_AGENCY_IS_LEAD = "Cơ quan phối hợp không được trùng cơ quan chủ trì."
TOO_MANY_CO_AGENCIES = "Chỉ chọn tối đa {max} cơ quan phối hợp."
CATEGORY_UNKNOWN = "Loại việc không thuộc lĩnh vực đã chọn."
REASON_REQUIRED = "Vui lòng nêu lý do."
REASON_TOO_LONG = "Lý do dài quá {max} ký tự."
NO_CHANGE = "Hồ sơ đã được giao đúng lĩnh vực và các cơ quan này; không có gì thay đổi."
NOT_ASSIGNABLE = "Hồ sơ đang ở trạng thái “{status}” nên không giao, chuyển được."
NOT_REDIRECTABLE = "Hồ sơ đang ở trạng thái “{status}” nên không chuyển hướng được."
REDIRECT_TARGET_REQUIRED = "Vui lòng chọn nơi chuyển đến."
CONFLICT = "Hồ sơ vừa được người khác cập nhật. Vui lòng tải lại trang rồi thử lại."
BAD_REQUEST = "Yêu cầu không đúng định dạng."
CASE_NOT_FOUND = "Không tìm thấy hồ sơ."
INVALID_TRACKING_CODE = "Mã hồ sơ không hợp lệ: sai định dạng hoặc sai chữ số kiểm tra."
ATTACHMENT_NOT_FOUND = "Không tìm thấy tệp đính kèm."
EVENT_PENDING = (
    "Đã lưu. Thông báo cho cơ quan sẽ được gửi ngay khi kết nối máy chủ tin nhắn ổn định."
)
ASSIGNED_OK = "Đã giao hồ sơ {code} cho {agency}."
REASSIGNED_OK = "Đã chuyển hồ sơ {code} sang {agency}."
REDIRECTED_OK = "Đã chuyển hướng hồ sơ {code} đến {agency}."
REASSIGN_NOTE = "Chuyển từ {old} sang {new}. Lý do: {reason}"
REASSIGN_CO_NOTE = "Đổi cơ quan phối hợp hoặc lĩnh vực. Lý do: {reason}"
ASSIGN_NOTE = "Cán bộ vận hành phân loại: {field}, giao {agency}."
PING_PONG_NOTE = "Hồ sơ đã bị chuyển giữa các cơ quan {count} lần."
EMPTY_TRIAGE = "Không có hồ sơ nào chờ phân loại."
EMPTY_SEARCH = "Không tìm thấy hồ sơ nào phù hợp."
EMPTY_PING_PONG = "Không có hồ sơ nào bị chuyển qua lại quá hai lần."
EMPTY_DEADLINES = "Không có hồ sơ nào quá hạn hoặc sắp đến hạn."
EMPTY_DEAD_LETTERS = "Không có tin nhắn lỗi nào."
EMPTY_RECENT = "Chưa có hồ sơ nào."
RESULTS_COUNT = "{count} hồ sơ"
MORE_RESULTS = "Chỉ hiện {limit} hồ sơ đầu tiên; hãy thu hẹp điều kiện tìm."

# --- dashboard ------------------------------------------------------------------------------

RECENT_DECISIONS = "Quyết định gần đây"
COUNT_TRIAGE = "Chờ phân loại"
COUNT_OVERDUE = "Quá hạn"
COUNT_DUE_SOON = "Sắp đến hạn (trong 1 ngày làm việc)"
COUNT_PING_PONG = "Chuyển qua lại"
COUNT_DEAD_LETTERS = "Tin nhắn lỗi chưa xử lý"
LIVE_HEADING = "Cập nhật trực tiếp"
LIVE_EVENT = "{code}: {event} — {agency}"
LIVE_NEW_DEAD_LETTER = "Tin nhắn lỗi mới: {reason}"
LIVE_RELOAD = "Tải lại để xem"
LIVE_LEFT_QUEUE = "Đã được xử lý"

# --- deadlines ------------------------------------------------------------------------------

AGENCY = "Cơ quan"
TOTAL = "Tổng"
DEADLINES_INTRO = (
    "Hồ sơ đang giao hoặc đang xử lý đã quá hạn, hoặc sẽ đến hạn trong một ngày làm việc tới, "
    "tính theo giờ hành chính."
)
AGENCY_DUE_HEADING = "Hồ sơ của {agency}"
TABLE_REGION = "Bảng {name} (có thể cuộn ngang)"

# --- dead letters ---------------------------------------------------------------------------

DEAD_LETTERS_INTRO = (
    "Hệ thống giữ lại ở đây mọi tin nhắn không xử lý được; không tin nào bị tự động xóa. "
    "Khi đã khắc phục nguyên nhân, hãy phát lại; chỉ loại bỏ khi chắc chắn không cần."
)
DL_REASON = "Lý do"
DL_STAGE = "Bước"
DL_ORIGIN = "Nơi gửi ban đầu"
DL_RECEIVED = "Ghi nhận lúc"
DL_DEAD_AT = "Bị loại lúc"
DL_MESSAGE_ID = "Mã tin nhắn"
DL_BODY = "Nội dung gốc"
DL_BODY_BASE64 = "Nội dung gốc (dạng base64, không phải văn bản)"
DL_BODY_STORED_APART = (
    "Nội dung gốc quá lớn ({size} byte) nên được lưu riêng và vẫn phát lại được; "
    "dưới đây là phần đầu."
)
DL_HEADERS = "Thông tin kèm theo"
DL_STATUS = "Tình trạng"
DL_REPLAYED_FROM = "Phát lại từ tin nhắn"
DL_SELECT = "Chọn tin nhắn {id}"
DL_SHOW = "Hiện"
DL_OPEN = "Xem chi tiết tin nhắn {id}"
REPLAY_BUTTON = "Phát lại"
REPLAY_SELECTED = "Phát lại các tin nhắn đã chọn"
DISCARD_HEADING = "Loại bỏ tin nhắn"
DISCARD_BUTTON = "Loại bỏ"
DISCARD_HINT = "Tin nhắn không bị xóa; nó được đánh dấu đã loại bỏ cùng lý do và người thực hiện."
DEAD_LETTER_NOT_FOUND = "Không tìm thấy tin nhắn lỗi."
REPLAYED_OK = "Đã phát lại {count} tin nhắn."
REPLAY_FAILED = "Không phát lại được tin nhắn {id}: {error}"
DISCARDED_OK = "Đã loại bỏ tin nhắn {id}."
ALREADY_DISCARDED = "Tin nhắn này đã bị loại bỏ nên không phát lại được."
NOTHING_SELECTED = "Chưa chọn tin nhắn nào."
NO_ORIGIN = "Không rõ nơi gửi ban đầu của tin nhắn nên không phát lại được."
BROKER_UNAVAILABLE = "Máy chủ tin nhắn chưa xác nhận; vui lòng thử lại sau ít phút."
BROKER_REASON = "Máy chủ tin nhắn loại tin sau nhiều lần giao không thành ({reason})."
REPLAY_SOME_FAILED = "{count} tin nhắn không phát lại được; mở từng tin nhắn để xem lý do."

AGENCY_KINDS = {
    "provincial": "Cơ quan cấp tỉnh",
    "department": "Sở, ban, ngành",
    "police": "Công an",
    "utility": "Đơn vị cấp nước, điện, vệ sinh môi trường",
    "telecom": "Doanh nghiệp viễn thông",
    "commune": "Ủy ban nhân dân xã, phường, đặc khu",
    "reception": "Tiếp công dân",
    "inspectorate": "Thanh tra",
    "other": "Cơ quan, đơn vị khác",
}
BY_FIELD = "— Theo lĩnh vực —"
DEAD_LETTER_FILTER = "Lọc theo tình trạng"
REDIRECT_REASON = "Lý do chuyển hướng (gửi cho người phản ánh)"
COUNTS_HEADING = "Số liệu chính"
SUMMARY = "Thông tin hồ sơ"

# Overdue cases handled by several agencies are escalated (Quy chế phối hợp 2022): the reason
# is shown publicly on the tracking page until the lead agency records another.
ESCALATION_REASON = (
    "Hồ sơ liên quan đến nhiều cơ quan, đã quá thời hạn xử lý mà chưa có kết quả. Cơ quan chủ trì"
    " tổng hợp, báo cáo Ủy ban nhân dân tỉnh xem xét, chỉ đạo."
)

# --- paging, charts, live counters ------------------------------------------------------------

PAGER_LABEL = "Chuyển trang"
PAGE_PREVIOUS = "← Trang trước"
PAGE_NEXT = "Trang sau →"
PAGE_N = "Trang {n}"
AGENCIES_OF_FIELD = "Cơ quan thường xử lý lĩnh vực này"
SHOW_ALL_AGENCIES = "Hiện mọi cơ quan"
TODAY_HEADING = "Hôm nay"
COUNT_RECEIVED_TODAY = "Tiếp nhận hôm nay"
CHART_BY_CHANNEL = "Hồ sơ tiếp nhận hôm nay theo kênh"
CHART_BY_FIELD = "Hồ sơ tiếp nhận hôm nay theo lĩnh vực"
CHART_EMPTY = "Chưa có hồ sơ nào hôm nay."
NO_FIELD = "Chưa phân loại"
LIVE_COUNTERS_NOTE = "Số liệu tự cập nhật khi có hồ sơ mới."
