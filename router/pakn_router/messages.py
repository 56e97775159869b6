"""The Vietnamese notes the router writes into a case's history, which operators and
agencies read (the monitor's own texts are monitor/messages.py)."""

from __future__ import annotations

from typing import Final

PARENT_NOT_FOUND: Final = "không tìm thấy hồ sơ {code}"
FOLLOWUP_ADDED: Final = "bổ sung: {code}"
LOW_CONFIDENCE: Final = "độ tin cậy thấp, chờ cán bộ phân loại"
MISSING_INFORMATION: Final = "thiếu thông tin ({missing})"
DUPLICATE_OF: Final = "trùng với hồ sơ {code}"
ESCALATED: Final = "báo cáo {to}: quá hạn, nhiều cơ quan phối hợp"
