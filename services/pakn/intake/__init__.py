"""The intake every channel shares: the content rules (validation), the attachment checks
(uploads), their Vietnamese texts (messages), tracking-code reservations (reservations), one
metric family (metrics), and the one call that accepts a report (path.IntakePath)."""

from pakn.intake.path import Accepted, IntakePath, IntakeUnavailable, SubmissionRejected
from pakn.intake.reservations import IdempotencyConflict
from pakn.intake.uploads import Upload, UploadBatch, check_upload
from pakn.intake.validation import (
    STRICT,
    Checked,
    FieldError,
    IntakePolicy,
    Report,
    check_report,
    validate_report,
)

__all__ = [
    "STRICT",
    "Accepted",
    "Checked",
    "FieldError",
    "IdempotencyConflict",
    "IntakePath",
    "IntakePolicy",
    "IntakeUnavailable",
    "Report",
    "SubmissionRejected",
    "Upload",
    "UploadBatch",
    "check_report",
    "check_upload",
    "validate_report",
]
