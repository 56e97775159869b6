"""The Vietnamese texts of the content and attachment rules, the same for every channel.

Each says what is wrong *and* how to fix it, in the polite register of public services; a
channel that cannot ask back at once (e-mail) sends the same words in its reply."""

from __future__ import annotations

from typing import Final

#: What each checked field is called, for a channel that lists what is missing (e-mail).
FIELD_LABELS: Final[dict[str, str]] = {
    "content": "Nội dung phản ánh",
    "title": "Tiêu đề",
    "occurred_at": "Thời gian xảy ra",
    "location.address": "Địa điểm",
    "location.commune": "Xã, phường",
    "submitter.name": "Họ và tên",
    "submitter.phone": "Số điện thoại",
    "submitter.email": "Thư điện tử",
    "submitter.contact": "Thông tin liên hệ",
    "submitter.address": "Địa chỉ liên hệ",
    "consent": "Đồng ý xử lý dữ liệu cá nhân",
    "attachments": "Tệp đính kèm",
    "in_reply_to": "Mã hồ sơ bổ sung",
    "location.lat": "Vĩ độ",
    "location.lon": "Kinh độ",
}

#: Messages by (code, field); the field-less entry is the fallback for the code.
MESSAGES: Final[dict[tuple[str, str | None], str]] = {
    ("required", "content"): "Vui lòng mô tả sự việc bạn muốn phản ánh, kiến nghị.",
    ("required", "occurred_at"): "Vui lòng cho biết sự việc xảy ra vào lúc nào (ngày và giờ).",
    ("required", "location.address"): (
        "Vui lòng cho biết sự việc xảy ra ở đâu (số nhà, tên đường, xã/phường)."
    ),
    ("required", "submitter.name"): "Vui lòng cho biết họ và tên của bạn.",
    ("required", "submitter.contact"): (
        "Vui lòng để lại số điện thoại hoặc thư điện tử để cơ quan xử lý liên hệ và trả lời bạn."
    ),
    ("required", None): "Vui lòng điền mục này.",
    ("consent_required", None): (
        "Vui lòng đồng ý cho phép xử lý dữ liệu cá nhân để chúng tôi có thể tiếp nhận và trả lời"
        " phản ánh của bạn."
    ),
    ("missing_diacritics", None): (
        "Vui lòng viết bằng tiếng Việt có dấu (ví dụ: “đường bị ngập nước” thay vì"
        " “duong bi ngap nuoc”) để nội dung được hiểu đúng và chuyển đúng cơ quan."
    ),
    ("not_vietnamese", None): (
        "Vui lòng viết nội dung bằng tiếng Việt có dấu. Please write your report in Vietnamese."
    ),
    ("too_short", "content"): (
        "Nội dung quá ngắn ({length} ký tự). Vui lòng mô tả rõ sự việc, ít nhất {minimum} ký tự:"
        " chuyện gì xảy ra, ở đâu, từ khi nào."
    ),
    ("too_short", "location.address"): (
        "Địa điểm chưa đủ rõ. Vui lòng ghi số nhà, tên đường hoặc địa danh và xã/phường."
    ),
    ("too_short", None): "Mục này quá ngắn, vui lòng ghi rõ hơn (ít nhất {minimum} ký tự).",
    ("too_long", None): (
        "Mục này dài {length} ký tự, vượt giới hạn {maximum} ký tự. Vui lòng rút gọn hoặc gửi"
        " phần còn lại dưới dạng tệp PDF đính kèm."
    ),
    ("invalid_phone", None): (
        "Số điện thoại chưa đúng. Vui lòng nhập số điện thoại Việt Nam, ví dụ 0912 345 678"
        " hoặc +84 912 345 678."
    ),
    ("invalid_email", None): (
        "Địa chỉ thư điện tử chưa đúng. Vui lòng kiểm tra lại, ví dụ: ten@gmail.com."
    ),
    ("invalid_datetime", None): (
        "Thời gian chưa đúng định dạng. Vui lòng chọn ngày và giờ, ví dụ 28/11/2026 08:30."
    ),
    ("in_future", None): "Thời gian xảy ra không thể ở tương lai. Vui lòng kiểm tra lại.",
    ("too_old", None): (
        "Sự việc đã xảy ra quá {maximum_days} ngày. Vui lòng liên hệ tổng đài 1900 1023 để được"
        " hướng dẫn."
    ),
    ("invalid_tracking_code", None): (
        "Mã hồ sơ không đúng. Mã gồm 10 chữ số, ví dụ 123 456 7890; vui lòng kiểm tra lại."
    ),
    ("invalid_coordinates", None): "Toạ độ không hợp lệ.",
    ("file_too_large", None): (
        "Tệp “{filename}” lớn hơn {maximum_mb} MB. Vui lòng chọn ảnh nhỏ hơn hoặc giảm chất"
        " lượng ảnh rồi gửi lại."
    ),
    ("files_too_large", None): (
        "Tổng dung lượng các tệp vượt {maximum_mb} MB. Vui lòng bớt tệp hoặc chọn ảnh nhỏ hơn."
    ),
    ("file_type", None): (
        "Tệp “{filename}” không phải ảnh JPEG, PNG, WebP, HEIC hoặc tệp PDF. Vui lòng chọn"
        " đúng loại tệp."
    ),
    ("too_many_files", None): "Bạn chỉ được gửi tối đa {maximum} tệp. Vui lòng bớt tệp.",
    ("invalid_characters", None): (
        "Mục này có ký tự lỗi (thường do sao chép từ một ứng dụng khác). Vui lòng gõ lại phần"
        " bị lỗi rồi gửi lại."
    ),
    ("invalid", None): "Giá trị chưa hợp lệ, vui lòng kiểm tra lại.",
}


def message_for(code: str, field: str | None, **values: object) -> str:
    """The Vietnamese message for an error code on a field, with its numbers filled in."""
    template = (
        MESSAGES.get((code, field)) or MESSAGES.get((code, None)) or MESSAGES[("invalid", None)]
    )
    return template.format(**values) if values else template
