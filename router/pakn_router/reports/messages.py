"""The Vietnamese texts of the reports: the page, the charts and the spreadsheets."""

from __future__ import annotations

from pakn_router.monitor.messages import CHANNEL_NAMES as CHANNEL_NAMES
from pakn_router.monitor.messages import ORG_NAME as ORG_NAME
from pakn_router.monitor.messages import STATUS_NAMES as STATUS_NAMES

TITLE = "Báo cáo tiếp nhận và xử lý phản ánh, kiến nghị"
PERIOD = "Từ ngày {start} đến ngày {end}"
SCOPE_ALL = "Toàn tỉnh (tất cả cơ quan)"
SCOPE_AGENCY = "Cơ quan: {name}"
MADE_AT = "Lập lúc {when}"
WITHOUT_FACTS = (
    "{count} hồ sơ lưu trước khi có số liệu báo cáo đang được bổ sung: hiện chỉ được tính "
    "vào số tiếp nhận. Xem lại báo cáo sau ít phút."
)
FROM = "Từ ngày"
TO = "Đến ngày"
AGENCY = "Cơ quan"
ALL_AGENCIES = "Tất cả cơ quan"
SHOW = "Xem báo cáo"
PRINT_HINT = "In trang này (Ctrl+P) để có bản A4."
PRESETS_LABEL = "Kỳ báo cáo"
PRESETS = {
    "week": "Tuần này",
    "month": "Tháng này",
    "last_month": "Tháng trước",
    "quarter": "Quý này",
    "year": "Năm nay",
}
DOWNLOADS = "Tải về"
DOWNLOAD_CSV = "Bảng tổng hợp (CSV)"
DOWNLOAD_XLSX = "Bảng tổng hợp (Excel)"
CASE_LIST = "danh sách hồ sơ"
BAD_DATE = "Ngày không hợp lệ: hãy nhập theo dạng ngày/tháng/năm hoặc năm-tháng-ngày."
BAD_PERIOD = "Kỳ báo cáo không hợp lệ: ngày bắt đầu phải trước ngày kết thúc, tối đa 10 năm."
BAD_FIGURE = "Chỉ tiêu hoặc nhóm không hợp lệ."
OTHER_AGENCY = "Tài khoản của cơ quan chỉ xem được báo cáo của cơ quan mình."

SUMMARY_HEADING = "Tổng hợp"
BY_CHANNEL = "Theo kênh tiếp nhận"
BY_FIELD = "Theo lĩnh vực"
BY_AGENCY = "Theo cơ quan chủ trì"
BY_COMMUNE = "Theo xã, phường"
TREND = "Số phản ánh tiếp nhận theo {step}"
TREND_STEP = {"day": "ngày", "week": "tuần", "month": "tháng"}
ON_TIME_CHART = "Tỉ lệ giải quyết đúng hạn theo cơ quan"
RATINGS = "Đánh giá của người dân"
HANDLING = "Thời gian giải quyết (ngày làm việc)"
MEDIAN = "Trung vị"
P90 = "90% hồ sơ trong vòng"
AVERAGE_STARS = "Điểm trung bình"
SOLVED = "Người dân xác nhận đã được giải quyết"
STARS = "{n} sao"
NO_DATA = "Không có hồ sơ trong kỳ."
NONE_KEY = "Chưa xác định"
TOTAL = "Tổng cộng"
CODE = "Mã"
RATE = "Tỉ lệ đúng hạn"
SHARE_PUBLISHED = "Tỉ lệ công khai kết quả"
CHART_TABLE_NOTE = "Số liệu của biểu đồ ở bảng bên dưới."
VALUE = "Giá trị"
FIGURE = "Chỉ tiêu"
PERIOD_START = "Bắt đầu"

#: Every counted figure (pakn.reporting.FIGURES) as the Department names it.
FIGURE_NAMES = {
    "received": "Tiếp nhận",
    "resolved": "Đã giải quyết",
    "on_time": "Đúng hạn",
    "late": "Trễ hạn",
    "open": "Đang xử lý",
    "overdue": "Quá hạn (đang xử lý)",
    "escalated": "Chuyển UBND tỉnh",
    "returned": "Bị trả lại",
    "reopened": "Mở lại",
    "published": "Đã công khai",
    "redirected": "Chuyển tiếp công dân",
    "duplicate": "Trùng lặp",
    "rated": "Có đánh giá",
    "solved": "Xác nhận đã giải quyết",
}
DIMENSION_NAMES = {
    "channel": "Kênh",
    "field": "Lĩnh vực",
    "agency": "Cơ quan",
    "commune": "Xã, phường",
}
#: The columns of a case list (pakn.reporting.CASE_LIST_FIELDS).
CASE_COLUMNS = {
    "tracking_code": "Mã hồ sơ",
    "received_at": "Tiếp nhận lúc",
    "channel": "Kênh",
    "field": "Lĩnh vực",
    "category": "Nhóm việc",
    "lead_agency": "Cơ quan chủ trì",
    "location.commune": "Xã, phường",
    "status": "Trạng thái",
    "due_at": "Hạn giải quyết",
    "overdue": "Quá hạn",
    "rep_resolved_at": "Giải quyết lúc",
    "rep_days": "Số ngày làm việc",
    "rep_on_time": "Đúng hạn",
    "rep_rating": "Điểm đánh giá",
}
YES = "Có"
NO = "Không"
SHEETS = {
    "summary": "Tổng hợp",
    "agency": "Theo cơ quan",
    "field": "Theo lĩnh vực",
    "channel": "Theo kênh",
    "commune": "Theo xã phường",
    "trend": "Xu hướng",
    "cases": "Danh sách hồ sơ",
}
