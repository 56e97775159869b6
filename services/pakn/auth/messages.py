"""The Vietnamese texts staff see: on the login page, in API errors and from `pakn user`."""

from __future__ import annotations

# --- logging in and out ---------------------------------------------------------------------

#: One answer for an unknown user, a wrong password and a disabled account alike.
INVALID_CREDENTIALS = "Tên đăng nhập hoặc mật khẩu không đúng."
MISSING_CREDENTIALS = "Vui lòng nhập tên đăng nhập và mật khẩu."
THROTTLED = (
    "Đăng nhập sai quá nhiều lần. Vì an toàn, vui lòng thử lại sau {minutes} phút "
    "hoặc liên hệ quản trị viên."
)
UNAUTHENTICATED = "Bạn cần đăng nhập để tiếp tục."
FORBIDDEN = "Tài khoản của bạn không có quyền thực hiện thao tác này."
CSRF_FAILED = "Yêu cầu không hợp lệ hoặc trang đã quá cũ. Vui lòng tải lại trang rồi thử lại."
LOGIN_FORM_EXPIRED = "Trang đăng nhập đã hết hạn. Vui lòng nhập lại tên đăng nhập và mật khẩu."
CROSS_SITE = "Yêu cầu gửi từ trang web khác nên không được chấp nhận."
BAD_REQUEST = "Yêu cầu không đúng định dạng."
JSON_REQUIRED = "Yêu cầu phải gửi dữ liệu dạng JSON (Content-Type: application/json)."
LOGGED_OUT = "Bạn đã đăng xuất."

# --- the login page -------------------------------------------------------------------------

PAGE_TITLE = "Đăng nhập"
PAGE_HEADING = "Đăng nhập dành cho cán bộ"
PAGE_INTRO = (
    "Dành cho điện thoại viên tổng đài, cán bộ vận hành hệ thống và cán bộ các cơ quan, "
    "đơn vị tiếp nhận, xử lý phản ánh, kiến nghị."
)
ORG_NAME = "Ủy ban nhân dân tỉnh Khánh Hòa"
SYSTEM_NAME = "Hệ thống tiếp nhận phản ánh, kiến nghị"
USERNAME_LABEL = "Tên đăng nhập"
PASSWORD_LABEL = "Mật khẩu"
SUBMIT_LABEL = "Đăng nhập"
ERROR_HEADING = "Chưa đăng nhập được"
FORGOT_PASSWORD = "Quên mật khẩu? Vui lòng liên hệ quản trị viên của cơ quan, đơn vị bạn."
LOGGED_IN_AS = "Bạn đang đăng nhập với tài khoản {name} ({role})."
CONTINUE_LABEL = "Tiếp tục làm việc"
LOGOUT_LABEL = "Đăng xuất"

# --- accounts -------------------------------------------------------------------------------

ROLE_NAMES = {
    "admin": "quản trị hệ thống",
    "operator": "cán bộ vận hành",
    "hotline_agent": "điện thoại viên tổng đài",
    "agency_staff": "cán bộ cơ quan, đơn vị",
    "agency_leader": "lãnh đạo cơ quan, đơn vị",
    "agency_admin": "quản trị viên cơ quan, đơn vị",
}

USERNAME_INVALID = (
    "Tên đăng nhập dài từ 3 đến 64 ký tự, chỉ gồm chữ cái không dấu, chữ số và các dấu "
    "chấm, gạch ngang, gạch dưới; bắt đầu và kết thúc bằng chữ cái hoặc chữ số."
)
USERNAME_TAKEN = "Tên đăng nhập {username} đã có người dùng."
DISPLAY_NAME_INVALID = "Họ và tên hiển thị phải có từ 1 đến 100 ký tự."
USER_NOT_FOUND = "Không có tài khoản {username}."
ROLE_INVALID = "Vai trò {role} không hợp lệ. Các vai trò: {roles}."
AGENCY_REQUIRED = "Tài khoản của cơ quan, đơn vị phải ghi rõ mã cơ quan (--agency)."
AGENCY_NOT_ALLOWED = "Chỉ tài khoản của cơ quan, đơn vị mới gắn với một cơ quan."
AGENCY_UNKNOWN = "Mã cơ quan {agency} không có trong danh sách cơ quan của tỉnh."
PASSWORD_TOO_SHORT = "Mật khẩu phải có ít nhất {minimum} ký tự."
PASSWORD_TOO_LONG = "Mật khẩu dài quá {maximum} ký tự."
NOT_YOUR_ACCOUNTS = "Bạn không có quyền quản lý tài khoản này."
NOT_YOURSELF = "Bạn không thể tự vô hiệu hóa hoặc đổi vai trò tài khoản của chính mình."

# --- `pakn user` ----------------------------------------------------------------------------

CLI_USER_ADDED = "Đã tạo tài khoản {username} ({role}{agency})."
CLI_USER_DISABLED = (
    "Đã vô hiệu hóa tài khoản {username}; mọi phiên đăng nhập của tài khoản đã kết thúc."
)
CLI_USER_ENABLED = "Đã kích hoạt lại tài khoản {username}."
CLI_USER_UNLOCKED = "Đã mở khóa đăng nhập cho tài khoản {username} ({failures} lần sai được xóa)."
CLI_PASSWORD_CHANGED = (
    "Đã đổi mật khẩu của {username}; mọi phiên đăng nhập của tài khoản đã kết thúc."
)
CLI_PASSWORD_PROMPT = "Mật khẩu: "
CLI_PASSWORD_AGAIN = "Nhập lại mật khẩu: "
CLI_LIST_HEADER = ("TÊN ĐĂNG NHẬP", "VAI TRÒ", "CƠ QUAN", "TRẠNG THÁI", "HỌ VÀ TÊN")
CLI_ACTIVE = "hoạt động"
CLI_INACTIVE = "vô hiệu hóa"
CLI_NO_PASSWORD = "Không đọc được mật khẩu từ đầu vào chuẩn (stdin)."
CLI_NO_USERS = "Chưa có tài khoản nào."
CLI_STORE_UNAVAILABLE = "Không kết nối được cơ sở dữ liệu: {reason}"
CLI_AGENCIES_UNREADABLE = "Không đọc được danh sách cơ quan trong {path}:\n{problems}"
