"""Pure: an HTML mail body as plain text, without the quoted history clients append."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose text is never content.
_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "svg"})
_BLOCK = frozenset(
    {
        "p",
        "div",
        "br",
        "tr",
        "li",
        "ul",
        "ol",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "pre",
        "section",
        "article",
        "header",
        "footer",
        "address",
    }
)
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr"})
#: Where a client puts the message being answered or forwarded. Gmail: div.gmail_quote and
#: blockquote; Apple Mail and Thunderbird: blockquote type=cite, div.moz-cite-prefix;
#: Outlook: everything from div#divRplyFwdMsg (or #appendonsend) on.
_QUOTE_CLASSES = frozenset({"gmail_quote", "moz-cite-prefix", "yahoo_quoted", "gmail_extra"})
_QUOTE_IDS = frozenset({"divrplyfwdmsg", "appendonsend", "yahoo_quoted"})
_SIGNATURE_CLASSES = frozenset({"gmail_signature", "moz-signature"})
_SIGNATURE_IDS = frozenset({"signature", "ms-outlook-mobile-signature"})
_BLANKS = re.compile(r"\n[ \t\u00a0]*(?:\n[ \t\u00a0]*)+")
_SPACES = re.compile(r"[ \t\u00a0\r\f\v]+")

#: Marks the signature in the text, so the text-level rules find it like an RFC 3676 "-- ".
SIGNATURE_MARK = "\n-- \n"


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._stack: list[tuple[str, str]] = []  # (tag, role: "" | "skip" | "quote" | "sig")
        self.stopped = False
        self.quoted = False

    def _role(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        values = {name: (value or "") for name, value in attrs}
        classes = set(values.get("class", "").lower().split())
        ident = values.get("id", "").lower()
        if tag in _SKIP:
            return "skip"
        if tag == "blockquote" or classes & _QUOTE_CLASSES:
            return "quote"
        if classes & _SIGNATURE_CLASSES or ident in _SIGNATURE_IDS:
            return "sig"
        return ""

    def _hidden(self) -> bool:
        return any(role in ("skip", "quote") for _, role in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        ident = next((v or "" for k, v in attrs if k == "id"), "").lower()
        if ident in _QUOTE_IDS:
            # Outlook does not nest the history: everything after this point is history.
            self.stopped = self.quoted = True
            return
        if tag in _BLOCK and not self._hidden():
            self.parts.append("\n")
        if tag in _VOID:
            return
        role = self._role(tag, attrs)
        if role == "quote":
            self.quoted = True
        if role == "sig" and not self._hidden():
            self.parts.append(SIGNATURE_MARK)
        self._stack.append((tag, role))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.stopped and tag in _BLOCK and not self._hidden():
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.stopped:
            return
        # Pop to the matching tag: mail HTML is rarely well-formed.
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                break
        if tag in _BLOCK and not self._hidden():
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.stopped and not self._hidden():
            self.parts.append(_SPACES.sub(" ", data))


def html_to_text(html: str) -> tuple[str, bool]:
    """The visible text of ``html`` with paragraphs kept, and whether history was cut off."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip(" \t\u00a0") if line != "-- " else line for line in text.split("\n")]
    text = _BLANKS.sub("\n\n", "\n".join(lines)).strip("\n")
    return text, parser.quoted
