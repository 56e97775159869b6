"""Pure: what the citizen wrote, apart from quoted history, signatures and phone footers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pakn.extract import find_phones

# "On Tue, 2 Dec 2026 at 10:15, An <an@x.vn> wrote:" and the Vietnamese Gmail/Outlook forms
# ("Vào Th 4, 2 thg 12, 2026 vào lúc 10:15 Nguyễn Văn An <an@x.vn> đã viết:"), which clients
# wrap over two lines.
_ATTRIBUTION = re.compile(
    r"^(?:on\s.+\swrote|vào\s.+\sđã\sviết|le\s.+\sa\sécrit|am\s.+\sschrieb)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ORIGINAL = re.compile(
    r"^-{2,}\s*(?:original message|thư gốc|tin nhắn gốc|thư trả lời)\s*-{2,}\s*$", re.IGNORECASE
)
_FORWARD = re.compile(
    r"^(?:-{2,}\s*(?:forwarded message|thư đã chuyển tiếp|tin nhắn đã chuyển tiếp|"
    r"thư chuyển tiếp)\s*-{2,}|begin forwarded message\s*:)\s*$",
    re.IGNORECASE,
)
# Outlook quotes by a header block instead of ">": From/Sent/To/Subject, in English or
# Vietnamese.
_HEADER_FROM = re.compile(r"^\*?(?:from|từ|người gửi)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\*?(?:sent|date|to|subject|cc|đã gửi|ngày|ngày gửi|gửi|đến|tới|chủ đề|tiêu đề)\s*:",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(
    r"^\*?(?:from|sent|date|to|cc|subject|từ|người gửi|đã gửi|ngày|ngày gửi|gửi|đến|tới|"
    r"chủ đề|tiêu đề)\s*:",
    re.IGNORECASE,
)
_SIGNATURE_SEPARATOR = re.compile(r"^--\s?$")
# Footers phones and apps add; never the citizen's words.
_DEVICE_FOOTER = re.compile(
    r"^(?:sent from my \S.*|sent from (?:mail|outlook|yahoo mail)\b.*|get outlook for \S.*|"
    r"gửi từ .*(?:iphone|ipad|điện thoại|samsung|android|thư cho windows|mail|outlook).*|"
    r"được gửi từ .*|sent with .*|gửi bằng .*)$",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^(?:trân trọng(?: cảm ơn)?|xin trân trọng cảm ơn|trân trọng kính chào|xin cảm ơn|"
    r"cảm ơn(?: nhiều)?|kính thư|thân ái|thân|best regards|kind regards|regards|thanks|"
    r"thank you)\s*[,.!]*\s*$",
    re.IGNORECASE,
)
#: A closing formula followed by at most this many short lines: those lines are a signature.
MAX_SIGNATURE_LINES = 7
MAX_SIGNATURE_LINE = 80

_PHONE_LABEL = re.compile(
    r"(?<![^\W\d_])(?:sđt|sdt|đt|dt|đtdđ|dđ|di động|điện thoại|dien thoai|tel|phone|mobile|"
    r"mob|zalo|liên hệ|lien he)\s*[:.]?\s*",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_]*$")


@dataclass(frozen=True)
class Reply:
    content: str
    signature: str | None
    #: Whether quoted history (of this thread or another) was removed.
    quoted: bool
    forwarded: bool


def _is_attribution(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    if _ATTRIBUTION.match(line):
        return True
    return index + 1 < len(lines) and bool(_ATTRIBUTION.match(f"{line} {lines[index + 1].strip()}"))


def _is_header_block(lines: list[str], index: int) -> bool:
    if not _HEADER_FROM.match(lines[index].strip()):
        return False
    following = [line.strip() for line in lines[index + 1 : index + 5]]
    return sum(1 for line in following if _HEADER_NEXT.match(line)) >= 2


def _drop_forward_headers(lines: list[str]) -> list[str]:
    """The forwarded message's own header block (who, when, to whom) is not content."""
    index = 0
    while index < len(lines) and (not lines[index].strip() or _HEADER_LINE.match(lines[index])):
        index += 1
    return lines[index:]


def _signature_split(lines: list[str]) -> tuple[list[str], list[str]]:
    for index in range(len(lines) - 1, -1, -1):
        if _SIGNATURE_SEPARATOR.match(lines[index]):
            body = lines[:index]
            # HTML mail may carry the separator twice (Gmail's prefix and the signature block).
            while body and (not body[-1].strip() or _SIGNATURE_SEPARATOR.match(body[-1])):
                body.pop()
            return body, lines[index + 1 :]
    kept = [line for line in lines if not _DEVICE_FOOTER.match(line.strip())]
    for index in range(len(kept) - 1, -1, -1):
        if _CLOSING.match(kept[index].strip()):
            tail = [line for line in kept[index + 1 :] if line.strip()]
            if 0 < len(tail) <= MAX_SIGNATURE_LINES and all(
                len(line) <= MAX_SIGNATURE_LINE for line in tail
            ):
                return kept[: index + 1], kept[index + 1 :]
            break
    return kept, []


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def split_reply(text: str) -> Reply:
    """Separate what the sender wrote from history, forwarded headers and the signature.

    Quoted history (``>`` lines, "… wrote:", Outlook's From/Sent block, "Original Message") is
    cut. A forwarded message is kept without its header block: the citizen sent it on
    because it says something.
    """
    lines = text.split("\n")
    kept: list[str] = []
    quoted = forwarded = False
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if _FORWARD.match(stripped):
            forwarded = True
            rest = _drop_forward_headers(lines[index + 1 :])
            lines = lines[: index + 1] + rest
            index += 1
            continue
        if stripped.startswith(">"):
            quoted = True
            index += 1
            continue
        if (
            _ORIGINAL.match(stripped)
            or _is_attribution(lines, index)
            or _is_header_block(lines, index)
        ):
            quoted = True
            break
        kept.append(line)
        index += 1
    body, signature = _signature_split(kept)
    signature_text = _tidy(signature) or None
    return Reply(_tidy(body), signature_text, quoted, forwarded)


#: A paragraph this short that holds a phone number is a contact block, not a story.
MAX_CONTACT_LINES = 3
MAX_CONTACT_LINE = 80
#: How far after "ĐT:" the number may start.
LABEL_WINDOW = 30


def find_phone(signature: str | None, body: str) -> str | None:
    """The sender's phone (E.164): from the signature, else labelled as such in the body,
    else standing in a short contact paragraph ("Lê Văn Tám - 0905 123 456").

    A number anywhere else in the text may be a shop's or a neighbour's.
    """
    if signature:
        match = find_phones(signature)
        if match:
            return match[0].e164
    for label in _PHONE_LABEL.finditer(body):
        window = body[label.end() : label.end() + LABEL_WINDOW]
        for phone in find_phones(window):
            if not window[: phone.start].strip():
                return phone.e164
    for paragraph in reversed(re.split(r"\n\s*\n", body)):
        lines = [line for line in paragraph.split("\n") if line.strip()]
        if 0 < len(lines) <= MAX_CONTACT_LINES and all(
            len(line) <= MAX_CONTACT_LINE for line in lines
        ):
            phones = find_phones(paragraph)
            if phones:
                return phones[0].e164
    return None


def name_from_signature(signature: str | None) -> str | None:
    """The first signature line when it reads like a person's name (2–5 capitalised words)."""
    if not signature:
        return None
    for line in signature.split("\n"):
        words = line.strip().strip(",.").split()
        if not words:
            continue
        if 2 <= len(words) <= 5 and all(
            _NAME_WORD.match(word) and word[0].isupper() for word in words
        ):
            return " ".join(words)
        return None
    return None
