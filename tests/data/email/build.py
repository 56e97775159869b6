"""Writes the synthetic e-mail corpus: one ``NN-name.eml`` and ``NN-name.yaml`` per message.

Run ``python tests/data/email/build.py`` after changing a message; the .eml files are checked
in so a test reads exactly the bytes a mailbox would hold. Every message is made up (see
README.md): the people, addresses and phone numbers are invented; places are real.
"""

from __future__ import annotations

import io
import unicodedata
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
OURS = "pakn@khanhhoa.gov.vn"
#: A tracking code with a valid Damm check digit, used by the reply messages; the tests create
#: the case it names before delivering them.
PARENT_CODE = "1234567894"
#: Another valid code, written in a subject with spaces.
SUBJECT_CODE = "2468013572"

SMTP = policy.SMTP


def _cp1258(text: str) -> bytes:
    """Text as old Windows clients send windows-1258: tones as separate combining marks."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out.append(base + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


def _legacy(text: str, font: str) -> str:
    """Unicode text as a legacy font's bytes show up (tables: pakn_email/data/legacy_fonts.yaml)."""
    path = HERE.parents[2] / "intake-email" / "pakn_email" / "data" / "legacy_fonts.yaml"
    table: dict[str, str] = yaml.safe_load(path.read_text("utf-8"))[font]
    return "".join(table.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def _jpeg() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (120, 90, 60))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n160\n%%EOF\n"
)


def _mail(
    sender: str,
    subject: str,
    text: str | None,
    *,
    html: str | None = None,
    date: str = "Wed, 02 Dec 2026 08:15:00 +0700",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    cte: str | None = None,
) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = f"Đường dây nóng PAKN <{OURS}>"
    message["Subject"] = subject
    message["Date"] = date
    if message_id is not None:
        message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text, cte=cte) if cte else message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html", cte=cte) if cte else message.set_content(
            html, subtype="html"
        )
    return message


def _raw(*lines: str, body: bytes) -> bytes:
    return "\r\n".join(lines).encode("ascii") + b"\r\n\r\n" + body


MESSAGES: list[tuple[str, bytes, dict[str, Any]]] = []


def add(name: str, raw: bytes | EmailMessage, expected: dict[str, Any]) -> None:
    data = raw.as_bytes(policy=SMTP) if isinstance(raw, EmailMessage) else raw
    MESSAGES.append((name, data, expected))


def build() -> None:
    # 1 ------------------------------------------------------------------------------------
    text = (
        "Kính gửi Ban tiếp nhận phản ánh,\n\n"
        "Đèn chiếu sáng trên đường Trần Phú, đoạn trước khách sạn Yasaka (số 18 Trần Phú,"
        " phường Nha Trang) bị tắt từ tối ngày 28/11/2026 đến nay, buổi tối rất tối và nguy"
        " hiểm cho người đi bộ.\n\n"
        "Trân trọng,\n"
        "Nguyễn Thị Mai\n"
        "ĐT: 0905 123 456\n"
    )
    add(
        "01-gmail-utf8-qp",
        _mail(
            "Nguyễn Thị Mai <mai.nguyen.nt@gmail.com>",
            "Đèn đường Trần Phú bị tắt",
            text,
            html="<div dir=ltr>" + text.replace("\n", "<br>") + "</div>",
            message_id="<CAGm3kP1x9@mail.gmail.com>",
            cte="quoted-printable",
        ),
        {
            "description": "Gmail, multipart/alternative, UTF-8 quoted-printable, phone in sig.",
            "content": (
                "Kính gửi Ban tiếp nhận phản ánh,\n\n"
                "Đèn chiếu sáng trên đường Trần Phú, đoạn trước khách sạn Yasaka (số 18 Trần Phú,"
                " phường Nha Trang) bị tắt từ tối ngày 28/11/2026 đến nay, buổi tối rất tối và"
                " nguy hiểm cho người đi bộ.\n\nTrân trọng,"
            ),
            "submitter": {
                "name": "Nguyễn Thị Mai",
                "email": "mai.nguyen.nt@gmail.com",
                "phone": "+84905123456",
            },
            "outcome": "case",
        },
    )
    # 2 ------------------------------------------------------------------------------------
    text = (
        "Chào anh/chị,\n\n"
        "Cống thoát nước trên đường 23 Tháng 10, đoạn gần chợ Phương Sơn (phường Nha Trang),"
        " bị nghẹt rác từ hôm 30/11/2026, mỗi lần mưa nước tràn lên mặt đường ngập đến đầu"
        " gối, xe máy chết máy hàng loạt. Đề nghị nạo vét sớm.\n\n"
        "Trân trọng cảm ơn,\n"
        "Trần Văn Hùng\n"
        "Công ty TNHH Hải Sản Biển Xanh\n"
        "Mobile: +84 914 222 333\n"
    )
    add(
        "02-outlook-utf8-base64",
        _mail(
            "Tran Van Hung <hung.tv@biensxanh.com.vn>",
            "Cống nghẹt gây ngập đường 23/10",
            text,
            html="<html><body><p>"
            + text.replace("\n\n", "</p><p>").replace("\n", "<br>")
            + "</p></body></html>",
            message_id="<SG2PR06MB5311A1@SG2PR06MB5311.apcprd06.prod.outlook.com>",
            cte="base64",
        ),
        {
            "description": "Outlook, base64 UTF-8, display name without diacritics",
            "content": (
                "Chào anh/chị,\n\n"
                "Cống thoát nước trên đường 23 Tháng 10, đoạn gần chợ Phương Sơn (phường Nha"
                " Trang), bị nghẹt rác từ hôm 30/11/2026, mỗi lần mưa nước tràn lên mặt đường"
                " ngập đến đầu gối, xe máy chết máy hàng loạt. Đề nghị nạo vét sớm.\n\n"
                "Trân trọng cảm ơn,"
            ),
            "submitter": {
                "name": "Tran Van Hung",
                "email": "hung.tv@biensxanh.com.vn",
                "phone": "+84914222333",
            },
            "outcome": "case",
        },
    )
    # 3 ------------------------------------------------------------------------------------
    body = (
        "Kính gửi UBND phường,\r\n\r\n"
        "Tôi xin phản ánh việc quán karaoke ở số 45 đường Lê Hồng Phong, phường Nha Trang"
        " hát to đến 1 giờ sáng đêm 29/11/2026, cả khu phố không ngủ được.\r\n\r\n"
        "Lê Văn Tám - điện thoại 0258 3822 111\r\n"
    )
    add(
        "03-windows-1258-combining",
        _raw(
            "From: =?windows-1258?Q?L=EA_V=E3n_Ta=ECm?= <levantam1960@yahoo.com.vn>",
            f"To: {OURS}",
            "Subject: =?windows-1258?Q?Karaoke_ha=ECt_khuya?=",
            "Date: Tue, 01 Dec 2026 07:40:12 +0700",
            "Message-ID: <001a01d9c4b2$3f2e1a70$bd8c4f50$@yahoo.com.vn>",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="windows-1258"',
            "Content-Transfer-Encoding: 8bit",
            "X-Mailer: Microsoft Outlook Express 6.00.2900.5512",
            body=_cp1258(body),
        ),
        {
            "description": "Outlook Express, windows-1258 with tones as combining marks, 8bit",
            "content": (
                "Kính gửi UBND phường,\n\n"
                "Tôi xin phản ánh việc quán karaoke ở số 45 đường Lê Hồng Phong, phường Nha Trang"
                " hát to đến 1 giờ sáng đêm 29/11/2026, cả khu phố không ngủ được.\n\n"
                "Lê Văn Tám - điện thoại 0258 3822 111"
            ),
            "submitter": {
                "name": "Lê Văn Tám",
                "email": "levantam1960@yahoo.com.vn",
                "phone": "+842583822111",
            },
            "outcome": "case",
        },
    )
    # 4 ------------------------------------------------------------------------------------
    body = (
        "Cây xanh trước trường tiểu học Vĩnh Hải (đường 2 Tháng 4, phường Bắc Nha Trang) bị"
        " nghiêng sau mưa bão đêm 01/12/2026, có nguy cơ đổ vào lớp học. Mong được xử lý"
        " khẩn.\n\nPhạm Thu Hà, SĐT 0935 777 888\n"
    )
    add(
        "04-utf8-labelled-latin1",
        _raw(
            "From: Pham Thu Ha <thuha.pham@vnpt.vn>",
            f"To: {OURS}",
            "Subject: Cay nghieng truoc truong hoc",
            "Date: Wed, 02 Dec 2026 06:55:00 +0700",
            "Message-ID: <20261202065500.4411@webmail.vnpt.vn>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=iso-8859-1",
            "Content-Transfer-Encoding: 8bit",
            body=body.encode("utf-8"),
        ),
        {
            "description": "UTF-8 bytes mislabelled iso-8859-1 by an old webmail",
            "content": (
                "Cây xanh trước trường tiểu học Vĩnh Hải (đường 2 Tháng 4, phường Bắc Nha Trang)"
                " bị nghiêng sau mưa bão đêm 01/12/2026, có nguy cơ đổ vào lớp học. Mong được xử"
                " lý khẩn.\n\nPhạm Thu Hà, SĐT 0935 777 888"
            ),
            "submitter": {
                "name": "Pham Thu Ha",
                "email": "thuha.pham@vnpt.vn",
                "phone": "+84935777888",
            },
            "charset_repaired": True,
            "outcome": "case",
        },
    )
    # 5 ------------------------------------------------------------------------------------
    body = (
        "Đường Nguyễn Tất Thành đoạn qua xã Cam Lâm có ổ gà rất lớn trước trạm xăng Suối Tân,"
        " sáng nay 02/12/2026 lúc 6 giờ có hai xe máy ngã. Đề nghị sửa gấp.\n"
    )
    add(
        "05-8bit-no-charset-raw-header",
        _raw(
            "From: khoa.do@fpt.vn",
            f"To: {OURS}",
            "Subject: =?utf-8?q?=E1=BB=94_g=C3=A0_l=E1=BB=9Bn_tr=C3=AAn_Nguy=E1=BB=85n?="
            " =?utf-8?q?_T=E1=BA=A5t_Th=C3=A0nh?=",
            "Date: Wed, 02 Dec 2026 07:05:00 +0700",
            "Message-ID: <a8f3e1c2-5b7d-4e0a-9c1f-2d3b4a5c6e7f@fpt.vn>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain",
            "Content-Transfer-Encoding: 8bit",
            body=body.encode("utf-8"),
        ),
        {
            "description": "8-bit UTF-8 body with no charset at all; bare address, no name",
            "content": body.strip(),
            "submitter": {"name": None, "email": "khoa.do@fpt.vn", "phone": None},
            "charset_repaired": False,
            "problems": [{"field": "submitter.name", "code": "required"}],
            "outcome": "needs_info",
        },
    )
    # 6 ------------------------------------------------------------------------------------
    body = (
        "Hello,\n\nI am a tourist staying at a hotel on Tran Phu street. On 30/11/2026 a taxi"
        " driver at Nha Trang airport (Cam Ranh) charged me 1,500,000 VND for a 35 km ride"
        " and refused to use the meter. Café owners nearby said this happens every day.\n\n"
        "Regards,\nJosé Müller\n+49 151 2345 6789\n"
    )
    add(
        "06-iso-8859-1-genuine",
        _raw(
            "From: =?iso-8859-1?q?Jos=E9_M=FCller?= <jose.mueller@gmx.de>",
            f"To: {OURS}",
            "Subject: Taxi overcharging at the airport",
            "Date: Mon, 30 Nov 2026 21:10:00 +0100",
            "Message-ID: <trinity-4c1e2a@3c-app-gmx-bap41>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=iso-8859-1",
            "Content-Transfer-Encoding: quoted-printable",
            body=body.encode("latin-1").replace(b"\xe9", b"=E9").replace(b"\xfc", b"=FC"),
        ),
        {
            "description": "genuine iso-8859-1 (a tourist writing English): no legacy-font guess",
            "content": (
                "Hello,\n\nI am a tourist staying at a hotel on Tran Phu street. On 30/11/2026 a"
                " taxi driver at Nha Trang airport (Cam Ranh) charged me 1,500,000 VND for a 35"
                " km ride and refused to use the meter. Café owners nearby said this happens"
                " every day.\n\nRegards,"
            ),
            "submitter": {
                "name": "José Müller",
                "email": "jose.mueller@gmx.de",
                "phone": "+4915123456789",
            },
            "legacy_font": None,
            "problems": [{"field": "content", "code": "not_vietnamese"}],
            "outcome": "needs_info",
        },
    )
    # 7 ------------------------------------------------------------------------------------
    tcvn3 = _legacy(
        "Kính gửi Sở Tài nguyên và Môi trường,\n\n"
        "Bãi rác tại thôn Phước Hòa, xã Cam Lâm bốc mùi hôi thối suốt tuần qua"
        " (từ ngày 25/11/2026), nước rỉ rác chảy ra mương thoát nước.\n\n"
        "Hoàng Văn Minh\nĐT: 0977 456 123\n",
        "tcvn3",
    )
    add(
        "07-tcvn3-abc-mojibake",
        _raw(
            "From: Hoang Van Minh <hvminh.camlam@gmail.com>",
            f"To: {OURS}",
            "Subject: Bai rac boc mui",
            "Date: Tue, 01 Dec 2026 14:20:00 +0700",
            "Message-ID: <CAK8q2Lb7@mail.gmail.com>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=windows-1252",
            "Content-Transfer-Encoding: 8bit",
            body=tcvn3.encode("cp1252"),
        ),
        {
            "description": "text typed with a TCVN3 (.VnTime) font, sent as windows-1252",
            "content": (
                "Kính gửi Sở Tài nguyên và Môi trường,\n\n"
                "Bãi rác tại thôn Phước Hòa, xã Cam Lâm bốc mùi hôi thối suốt tuần qua (từ ngày"
                " 25/11/2026), nước rỉ rác chảy ra mương thoát nước.\n\n"
                "Hoàng Văn Minh\nĐT: 0977 456 123"
            ),
            "submitter": {
                "name": "Hoang Van Minh",
                "email": "hvminh.camlam@gmail.com",
                "phone": "+84977456123",
            },
            "legacy_font": "tcvn3",
            "outcome": "case",
        },
    )
    # 8 ------------------------------------------------------------------------------------
    vni = _legacy(
        "Kính gửi UBND phường,\n\n"
        "Nhà số 12 đường Ngô Gia Tự, phường Nha Trang đang xây dựng lấn chiếm vỉa hè từ"
        " ngày 20/11/2026, người đi bộ phải đi xuống lòng đường.\n\n"
        "Võ Thị Lan - ĐT 0868 111 222\n",
        "vni",
    )
    add(
        "08-vni-windows-mojibake",
        _mail(
            "Vo Thi Lan <vothilan82@gmail.com>",
            "Xay dung lan chiem via he",
            vni,
            message_id="<CAJx9vN3@mail.gmail.com>",
            date="Mon, 30 Nov 2026 09:30:00 +0700",
        ),
        {
            "description": "text typed with a VNI-Windows font, pasted into webmail (UTF-8)",
            "content": (
                "Kính gửi UBND phường,\n\n"
                "Nhà số 12 đường Ngô Gia Tự, phường Nha Trang đang xây dựng lấn chiếm vỉa hè từ"
                " ngày 20/11/2026, người đi bộ phải đi xuống lòng đường.\n\n"
                "Võ Thị Lan - ĐT 0868 111 222"
            ),
            "submitter": {
                "name": "Vo Thi Lan",
                "email": "vothilan82@gmail.com",
                "phone": "+84868111222",
            },
            "legacy_font": "vni",
            "outcome": "case",
        },
    )
    # 9 ------------------------------------------------------------------------------------
    html = (
        "<html><head><style>p{margin:0}</style><title>x</title></head><body>"
        '<div style="font-family:Arial">Xin chào,<br><br>'
        "Khu vực chợ Xóm Mới (phường Nha Trang) có nhiều người bán hàng rong chiếm lòng"
        " đường vào sáng sớm, từ 5&nbsp;giờ đến 8&nbsp;giờ hằng ngày, gây ùn tắc &amp; mất"
        " trật tự.<br><br>"
        "Xin cảm ơn!<br>Đặng Quốc Bảo<br>0912 000 111</div>"
        "<script>track()</script></body></html>"
    )
    add(
        "09-html-only-yahoo",
        _mail(
            "Dang Quoc Bao <dqbao@yahoo.com>",
            "Hang rong lan chiem duong cho Xom Moi",
            None,
            html=html,
            message_id="<1849302.3318.1733100000000@mail.yahoo.com>",
        ),
        {
            "description": "HTML-only mail with styles, entities and a script",
            "content": (
                "Xin chào,\n\n"
                "Khu vực chợ Xóm Mới (phường Nha Trang) có nhiều người bán hàng rong chiếm lòng"
                " đường vào sáng sớm, từ 5 giờ đến 8 giờ hằng ngày, gây ùn tắc & mất trật tự."
                "\n\nXin cảm ơn!"
            ),
            "submitter": {
                "name": "Dang Quoc Bao",
                "email": "dqbao@yahoo.com",
                "phone": "+84912000111",
            },
            "html_only": True,
            "problems": [{"field": "occurred_at", "code": "required"}],
            "outcome": "needs_info",
        },
    )
    # 10 -----------------------------------------------------------------------------------
    html = (
        '<div dir="ltr"><div>Kính gửi,</div><div><br></div>'
        "<div>Đường dây điện thoại và cáp internet bị đứt treo lủng lẳng ngang đường Hùng"
        " Vương, trước số 60 (phường Nha Trang) từ chiều 01/12/2026, xe tải đi qua có thể"
        " vướng.</div><div><br></div>"
        '<span class="gmail_signature_prefix">-- </span><br>'
        '<div dir="ltr" class="gmail_signature"><div dir="ltr">Bùi Thanh Tùng<div>'
        "Zalo/ĐT: 0789 654 321</div></div></div></div>"
    )
    add(
        "10-html-only-gmail-signature",
        _mail(
            "=?UTF-8?B?QsO5aSBUaGFuaCBUw7luZw==?= <tung.bui.nt@gmail.com>",
            "Cáp viễn thông bị đứt trên đường Hùng Vương",
            None,
            html=html,
            message_id="<CAH5x0r1@mail.gmail.com>",
        ),
        {
            "description": "HTML-only Gmail with a gmail_signature block; RFC 2047 B From name",
            "content": (
                "Kính gửi,\n\n"
                "Đường dây điện thoại và cáp internet bị đứt treo lủng lẳng ngang đường Hùng"
                " Vương, trước số 60 (phường Nha Trang) từ chiều 01/12/2026, xe tải đi qua có"
                " thể vướng."
            ),
            "submitter": {
                "name": "Bùi Thanh Tùng",
                "email": "tung.bui.nt@gmail.com",
                "phone": "+84789654321",
            },
            "html_only": True,
            "outcome": "case",
        },
    )
    # 11 -----------------------------------------------------------------------------------
    body = (
        'Trường mầm non Hoa Sen ở xã Diên Khánh thu thêm tiền "quỹ lớp" 500.000 đồng mỗi'
        " cháu từ đầu tháng 11/2026 mà không có biên lai. Đề nghị kiểm tra.\n\n"
        "Ngô Thị Hồng\n0903 456 789\n"
    )
    raw = _raw(
        "From: =?UTF-8?Q?Ng=C3=B4_Th=E1=BB=8B_H=E1=BB=93ng?= <ngohong.dk@gmail.com>",
        f"To: {OURS}",
        "Subject: =?UTF-8?B?VGh1IHRp4buBbiBraMO0bmcgYmnDqm4gbGFpIOG7nyB0csaw4budbmcgbeG6p20g?="
        "\r\n =?UTF-8?B?bm9u?=",
        "Date: Thu, 26 Nov 2026 20:00:00 +0700",
        "Message-ID: <CAB7p@mail.gmail.com>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: base64",
        body=__import__("base64").encodebytes(body.encode()),
    )
    add(
        "11-rfc2047-encoded-words",
        raw,
        {
            "description": "RFC 2047 Q name and a B subject folded over two encoded words",
            "subject": "Thu tiền không biên lai ở trường mầm non",
            "content": (
                'Trường mầm non Hoa Sen ở xã Diên Khánh thu thêm tiền "quỹ lớp" 500.000 đồng mỗi'
                " cháu từ đầu tháng 11/2026 mà không có biên lai. Đề nghị kiểm tra.\n\n"
                "Ngô Thị Hồng\n0903 456 789"
            ),
            "submitter": {
                "name": "Ngô Thị Hồng",
                "email": "ngohong.dk@gmail.com",
                "phone": "+84903456789",
            },
            "problems": [{"field": "occurred_at", "code": "required"}],
            "outcome": "needs_info",
        },
    )
    # 12 -----------------------------------------------------------------------------------
    message = _mail(
        "Lý Văn Phúc <lyvanphuc@gmail.com>",
        "Ảnh nước thải xả ra biển",
        "Nước thải màu đen từ cống gần cầu Trần Phú (phường Nha Trang) xả thẳng ra biển sáng"
        " 02/12/2026, mùi rất nặng. Tôi gửi kèm ảnh chụp.\n\nLý Văn Phúc - 0978 321 654\n",
        message_id="<CAF1photo@mail.gmail.com>",
    )
    message.add_attachment(
        _jpeg(), maintype="image", subtype="jpeg", filename="Ảnh cống xả thải.jpg"
    )
    add(
        "12-photo-rfc2231-filename",
        message,
        {
            "description": "a JPEG with a Vietnamese RFC 2231 filename",
            "content": (
                "Nước thải màu đen từ cống gần cầu Trần Phú (phường Nha Trang) xả thẳng ra biển"
                " sáng 02/12/2026, mùi rất nặng. Tôi gửi kèm ảnh chụp.\n\nLý Văn Phúc - 0978 321"
                " 654"
            ),
            "submitter": {
                "name": "Lý Văn Phúc",
                "email": "lyvanphuc@gmail.com",
                "phone": "+84978321654",
            },
            "attachments": [{"filename": "Ảnh cống xả thải.jpg", "content_type": "image/jpeg"}],
            "outcome": "case",
        },
    )
    # 13 -----------------------------------------------------------------------------------
    message = _mail(
        "Công ty CP Du lịch Vịnh Xanh <hanhchinh@vinhxanh.vn>",
        "Đơn kiến nghị về thủ tục cấp phép tàu du lịch",
        "Kính gửi Sở Du lịch tỉnh Khánh Hòa,\n\n"
        "Công ty chúng tôi nộp hồ sơ cấp phép tàu du lịch tại bến Cầu Đá (phường Nam Nha"
        " Trang) từ ngày 15/10/2026 nhưng đến nay chưa có kết quả. Đơn kiến nghị có chữ ký"
        " (bản quét) gửi kèm.\n\n"
        "Trân trọng,\nPhòng Hành chính\nĐiện thoại: 0258 3521 999\n",
        message_id="<5f2a@vinhxanh.vn>",
    )
    message.add_attachment(
        _PDF, maintype="application", subtype="pdf", filename="don-kien-nghi.pdf"
    )
    add(
        "13-scanned-pdf",
        message,
        {
            "description": "a business with a scanned PDF petition",
            "content": (
                "Kính gửi Sở Du lịch tỉnh Khánh Hòa,\n\n"
                "Công ty chúng tôi nộp hồ sơ cấp phép tàu du lịch tại bến Cầu Đá (phường Nam Nha"
                " Trang) từ ngày 15/10/2026 nhưng đến nay chưa có kết quả. Đơn kiến nghị có chữ"
                " ký (bản quét) gửi kèm.\n\nTrân trọng,"
            ),
            "submitter": {
                "name": "Công ty CP Du lịch Vịnh Xanh",
                "email": "hanhchinh@vinhxanh.vn",
                "phone": "+842583521999",
            },
            "attachments": [{"filename": "don-kien-nghi.pdf", "content_type": "application/pdf"}],
            "outcome": "case",
        },
    )
    # 14 -----------------------------------------------------------------------------------
    add(
        "14-iphone-short-no-place",
        _mail(
            "Hà My <hamy.2001@icloud.com>",
            "Mất điện",
            "Khu em mất điện từ tối qua tới giờ chưa có lại, nóng quá ạ\n\nGửi từ iPhone của tôi\n",
            message_id="<8D1F2A3B-4C5D-6E7F-8091-A2B3C4D5E6F7@icloud.com>",
        ),
        {
            "description": "one line from an iPhone: no place, no phone",
            "content": "Khu em mất điện từ tối qua tới giờ chưa có lại, nóng quá ạ",
            "submitter": {"name": "Hà My", "email": "hamy.2001@icloud.com", "phone": None},
            "problems": [{"field": "location.address", "code": "required"}],
            "outcome": "needs_info",
        },
    )
    # 15 -----------------------------------------------------------------------------------
    add(
        "15-no-diacritics",
        _mail(
            "Nguyen Van Long <longnv77@gmail.com>",
            "duong bi ngap",
            "Chao cac anh chi, duong Le Thanh Ton phuong Nha Trang bi ngap nuoc sau moi tran"
            " mua, nuoc khong thoat duoc, xe may di qua bi chet may. Mong som sua chua.\n"
            "SDT 0905 999 000\n",
            message_id="<CANnodiac@mail.gmail.com>",
        ),
        {
            "description": "typed without diacritics",
            "content": (
                "Chao cac anh chi, duong Le Thanh Ton phuong Nha Trang bi ngap nuoc sau moi tran"
                " mua, nuoc khong thoat duoc, xe may di qua bi chet may. Mong som sua chua.\n"
                "SDT 0905 999 000"
            ),
            "submitter": {
                "name": "Nguyen Van Long",
                "email": "longnv77@gmail.com",
                "phone": "+84905999000",
            },
            "problems": [
                {"field": "content", "code": "missing_diacritics"},
                {"field": "occurred_at", "code": "required"},
            ],
            "outcome": "needs_info",
        },
    )
    # 16 -----------------------------------------------------------------------------------
    add(
        "16-vague-no-place-no-phone",
        _mail(
            "Trịnh Công Sơn <trinhcongson.kh@gmail.com>",
            "Phản ánh",
            "Xin chào, tôi muốn phản ánh tình trạng rác thải để bừa bãi gần nhà tôi, lâu rồi"
            " không ai thu gom, ruồi muỗi rất nhiều.\n",
            message_id="<CANvague@mail.gmail.com>",
        ),
        {
            "description": "a real problem but no place and no phone",
            "content": (
                "Xin chào, tôi muốn phản ánh tình trạng rác thải để bừa bãi gần nhà tôi, lâu rồi"
                " không ai thu gom, ruồi muỗi rất nhiều."
            ),
            "submitter": {
                "name": "Trịnh Công Sơn",
                "email": "trinhcongson.kh@gmail.com",
                "phone": None,
            },
            "problems": [
                {"field": "occurred_at", "code": "required"},
                {"field": "location.address", "code": "required"},
            ],
            "outcome": "needs_info",
        },
    )
    # 17 -----------------------------------------------------------------------------------
    ack_id = f"<pakn.{PARENT_CODE}.a1b2c3d4e5f6@khanhhoa.gov.vn>"
    add(
        "17-reply-to-ack-gmail",
        _mail(
            "Hà My <hamy.2001@icloud.com>",
            f"Re: [PAKN {PARENT_CODE[:3]} {PARENT_CODE[3:6]} {PARENT_CODE[6:]}] Đã nhận phản ánh",
            "Dạ em ở số 7 hẻm 15 đường Phước Long, phường Nam Nha Trang, số điện thoại"
            " 0932 111 555 ạ.\n\n"
            "Vào Th 4, 2 thg 12, 2026 vào lúc 09:01 Cổng PAKN Khánh Hòa <pakn@khanhhoa.gov.vn>\n"
            "đã viết:\n"
            "> Phản ánh của bạn đã được tiếp nhận với mã 123 456 7894.\n"
            "> Vui lòng trả lời thư này để bổ sung: địa điểm, số điện thoại.\n",
            message_id="<B2C3D4E5-reply@icloud.com>",
            headers={"In-Reply-To": ack_id, "References": ack_id},
        ),
        {
            "description": "a reply to our acknowledgement (In-Reply-To) with quoted history",
            "content": (
                "Dạ em ở số 7 hẻm 15 đường Phước Long, phường Nam Nha Trang, số điện thoại 0932"
                " 111 555 ạ."
            ),
            "submitter": {
                "name": "Hà My",
                "email": "hamy.2001@icloud.com",
                "phone": "+84932111555",
            },
            "reply_to_code": PARENT_CODE,
            "outcome": "followup",
        },
    )
    # 18 -----------------------------------------------------------------------------------
    add(
        "18-subject-tracking-code",
        _mail(
            "Nguyễn Thị Mai <mai.nguyen.nt@gmail.com>",
            f"Bổ sung ảnh cho hồ sơ {SUBJECT_CODE[:3]} {SUBJECT_CODE[3:6]} {SUBJECT_CODE[6:]}",
            "Tối nay 02/12/2026 đèn vẫn chưa sáng, tôi bổ sung thêm thông tin.\n",
            message_id="<CAGm3kP2y@mail.gmail.com>",
        ),
        {
            "description": "a new mail naming its case by the tracking code in the subject",
            "content": "Tối nay 02/12/2026 đèn vẫn chưa sáng, tôi bổ sung thêm thông tin.",
            "submitter": {
                "name": "Nguyễn Thị Mai",
                "email": "mai.nguyen.nt@gmail.com",
                "phone": None,
            },
            "subject_code": SUBJECT_CODE,
            "outcome": "followup",
        },
    )
    # 19 -----------------------------------------------------------------------------------
    add(
        "19-outlook-reply-header-block",
        _mail(
            "Tran Van Hung <hung.tv@biensxanh.com.vn>",
            "TL: [PAKN 123 456 7894] Đã nhận phản ánh",
            "Cảm ơn quý cơ quan. Chiều nay nước lại ngập, tôi gửi thêm thông tin để xử lý.\n\n"
            "Từ: Cổng PAKN Khánh Hòa <pakn@khanhhoa.gov.vn>\n"
            "Đã gửi: Thứ Tư, 2 tháng 12, 2026 9:01 SA\n"
            "Đến: Tran Van Hung <hung.tv@biensxanh.com.vn>\n"
            "Chủ đề: [PAKN 123 456 7894] Đã nhận phản ánh\n\n"
            "Phản ánh của ông/bà đã được tiếp nhận.\n",
            message_id="<SG2PR06MB5311B2@SG2PR06MB5311.apcprd06.prod.outlook.com>",
            headers={"References": f"<other@x.vn> {ack_id}"},
        ),
        {
            "description": "Outlook reply: history as a From/Sent/To/Subject block; our id in Refs",
            "content": (
                "Cảm ơn quý cơ quan. Chiều nay nước lại ngập, tôi gửi thêm thông tin để xử lý."
            ),
            "submitter": {
                "name": "Tran Van Hung",
                "email": "hung.tv@biensxanh.com.vn",
                "phone": None,
            },
            "reply_to_code": PARENT_CODE,
            "outcome": "followup",
        },
    )
    # 20 -----------------------------------------------------------------------------------
    add(
        "20-auto-reply-out-of-office",
        _mail(
            "Lê Thị Thu <thu.le@sotnmt.khanhhoa.gov.vn>",
            "Trả lời tự động: Đã nhận phản ánh",
            "Tôi đang đi công tác đến hết ngày 05/12/2026, sẽ trả lời khi trở lại.\n",
            message_id="<auto-4411@sotnmt.khanhhoa.gov.vn>",
            headers={"Auto-Submitted": "auto-replied", "In-Reply-To": ack_id},
        ),
        {
            "description": "out-of-office answer to our acknowledgement (Auto-Submitted)",
            "ignore": "auto_reply",
            "outcome": "ignored",
        },
    )
    # 21 -----------------------------------------------------------------------------------
    add(
        "21-exchange-automatic-reply",
        _mail(
            "Vu Duc Anh <anh.vd@congty.vn>",
            "Automatic reply: Đã nhận phản ánh",
            "I am out of the office until Monday.\n",
            message_id="<exch-778@congty.vn>",
            headers={"X-Auto-Response-Suppress": "All", "X-Autoreply": "yes"},
        ),
        {
            "description": "Exchange automatic reply (X-Autoreply)",
            "ignore": "auto_reply",
            "outcome": "ignored",
        },
    )
    # 22 -----------------------------------------------------------------------------------
    dsn = (
        'Content-Type: multipart/report; report-type=delivery-status;\r\n boundary="BOUNDARY42"\r\n'
    )
    body = (
        "--BOUNDARY42\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This is the mail system at host mx.khanhhoa.gov.vn.\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
        "<nobody@example.invalid>: host not found\r\n\r\n"
        "--BOUNDARY42\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.khanhhoa.gov.vn\r\n\r\n"
        "Final-Recipient: rfc822; nobody@example.invalid\r\nAction: failed\r\n"
        "Status: 5.1.2\r\n\r\n"
        "--BOUNDARY42\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {OURS}\r\nSubject: [PAKN 123 456 7894] =?utf-8?q?=C4=90=C3=A3_nh=E1=BA=ADn?=\r\n"
        "\r\n--BOUNDARY42--\r\n"
    )
    add(
        "22-bounce-dsn",
        _raw(
            "Return-Path: <>",
            "From: MAILER-DAEMON@mx.khanhhoa.gov.vn (Mail Delivery System)",
            f"To: {OURS}",
            "Subject: Undelivered Mail Returned to Sender",
            "Date: Wed, 02 Dec 2026 09:02:00 +0700",
            "Message-ID: <20261202020200.ABC@mx.khanhhoa.gov.vn>",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            dsn.rstrip("\r\n"),
            body=body.encode(),
        ),
        {
            "description": "a delivery status notification (DSN) from MAILER-DAEMON",
            "ignore": "bounce",
            "outcome": "ignored",
        },
    )
    # 23 -----------------------------------------------------------------------------------
    add(
        "23-mailing-list",
        _mail(
            "Diễn đàn CNTT Khánh Hòa <cntt-kh@googlegroups.com>",
            "[cntt-kh] Hội thảo chuyển đổi số ngày 10/12",
            "Mời các thành viên tham dự hội thảo chuyển đổi số tại Nha Trang.\n",
            message_id="<list-991@googlegroups.com>",
            headers={
                "List-Id": "<cntt-kh.googlegroups.com>",
                "List-Post": "<mailto:cntt-kh@googlegroups.com>",
                "Precedence": "list",
            },
        ),
        {
            "description": "a mailing list the mailbox is subscribed to",
            "ignore": "mailing_list",
            "outcome": "ignored",
        },
    )
    # 24 -----------------------------------------------------------------------------------
    add(
        "24-newsletter-bulk",
        _mail(
            "Siêu thị Điện máy <khuyenmai@dienmay.example.vn>",
            "Khuyến mãi cuối năm giảm đến 50%",
            "Chương trình khuyến mãi lớn nhất năm tại Nha Trang.\n",
            message_id="<promo-1@dienmay.example.vn>",
            headers={"Precedence": "bulk", "List-Unsubscribe": "<https://dienmay.example.vn/u>"},
        ),
        {
            "description": "a newsletter (Precedence: bulk, List-Unsubscribe)",
            "ignore": "bulk",
            "outcome": "ignored",
        },
    )
    # 25 -----------------------------------------------------------------------------------
    add(
        "25-own-address",
        _mail(
            f"Cổng PAKN Khánh Hòa <{OURS}>",
            "Thư kiểm tra",
            "Thư gửi thử từ hộp thư của cổng.\n",
            message_id="<test-own@khanhhoa.gov.vn>",
        ),
        {
            "description": "mail from the mailbox's own address (a loop)",
            "ignore": "own_address",
            "outcome": "ignored",
        },
    )
    # 26 -----------------------------------------------------------------------------------
    add(
        "26-no-message-id",
        _raw(
            "From: Huynh Tan Phat <htphat@saigonnet.vn>",
            f"To: {OURS}",
            "Subject: =?utf-8?q?V=E1=BB=89a_h=C3=A8_b=E1=BB=8B_v=E1=BB=A1?=",
            "Date: Tue, 01 Dec 2026 16:45:00 +0700",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            body=(
                "Vỉa hè trước số 88 đường Thống Nhất, phường Nha Trang bị vỡ nhiều chỗ từ tuần"
                " trước (khoảng 24/11/2026), người già đi bộ dễ té ngã.\r\n\r\n"
                "Huỳnh Tấn Phát\r\nDĐ: 0913 808 909\r\n"
            ).encode(),
        ),
        {
            "description": "no Message-ID header: a stable id is derived from the message",
            "content": (
                "Vỉa hè trước số 88 đường Thống Nhất, phường Nha Trang bị vỡ nhiều chỗ từ tuần"
                " trước (khoảng 24/11/2026), người già đi bộ dễ té ngã.\n\nHuỳnh Tấn Phát\nDĐ:"
                " 0913 808 909"
            ),
            "submitter": {
                "name": "Huynh Tan Phat",
                "email": "htphat@saigonnet.vn",
                "phone": "+84913808909",
            },
            "message_id_generated": True,
            "outcome": "case",
        },
    )
    # 27 -----------------------------------------------------------------------------------
    add(
        "27-forwarded-chain",
        _mail(
            "Phan Minh Chau <chau.pm@gmail.com>",
            "Fwd: Nhà hàng xả rác ra bãi biển",
            "Tôi chuyển tiếp phản ánh của hàng xóm, nhờ quý cơ quan xử lý.\n\n"
            "---------- Forwarded message ---------\n"
            "From: Ông Tư <ongtu.bien@gmail.com>\n"
            "Date: Tue, 1 Dec 2026 at 19:20\n"
            "Subject: Nhà hàng xả rác ra bãi biển\n"
            "To: Phan Minh Chau <chau.pm@gmail.com>\n\n"
            "Nhà hàng hải sản cạnh bãi tắm Hòn Chồng (phường Bắc Nha Trang) đổ rác và thức ăn"
            " thừa ra bãi biển mỗi tối, tối 30/11/2026 tôi thấy tận mắt.\n\n"
            "Phan Minh Châu - 0988 765 432\n",
            message_id="<CAfwd1@mail.gmail.com>",
        ),
        {
            "description": "a forwarded message: kept, without its header block",
            "content": (
                "Tôi chuyển tiếp phản ánh của hàng xóm, nhờ quý cơ quan xử lý.\n\n"
                "Nhà hàng hải sản cạnh bãi tắm Hòn Chồng (phường Bắc Nha Trang) đổ rác và thức"
                " ăn thừa ra bãi biển mỗi tối, tối 30/11/2026 tôi thấy tận mắt.\n\n"
                "Phan Minh Châu - 0988 765 432"
            ),
            "submitter": {
                "name": "Phan Minh Chau",
                "email": "chau.pm@gmail.com",
                "phone": "+84988765432",
            },
            "outcome": "case",
        },
    )
    # 28 -----------------------------------------------------------------------------------
    add(
        "28-thunderbird-format-flowed",
        _raw(
            "From: =?UTF-8?Q?Ch=C3=A2u_Ng=E1=BB=8Dc_Anh?= <ngocanh@tuoitre.example.vn>",
            f"To: {OURS}",
            "Subject: =?UTF-8?Q?=C4=90=C6=B0=E1=BB=9Dng_t=E1=BB=91i?=",
            "Date: Tue, 01 Dec 2026 22:10:00 +0700",
            "Message-ID: <7c1d2e3f-flow@tuoitre.example.vn>",
            "User-Agent: Mozilla Thunderbird",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8; format=flowed",
            "Content-Transfer-Encoding: 8bit",
            body=(
                "Đoạn đường Phạm Văn Đồng từ Hòn Chồng đến Đồng Đế (phường Bắc Nha Trang) \r\n"
                "có hơn mười cột đèn không sáng từ đêm 27/11/2026, xe chạy tốc độ cao rất \r\n"
                "nguy hiểm.\r\n\r\n-- \r\nChâu Ngọc Anh\r\nTel. 0901 234 567\r\n"
            ).encode(),
        ),
        {
            "description": "Thunderbird format=flowed with an RFC 3676 '-- ' signature",
            "content": (
                "Đoạn đường Phạm Văn Đồng từ Hòn Chồng đến Đồng Đế (phường Bắc Nha Trang) có hơn"
                " mười cột đèn không sáng từ đêm 27/11/2026, xe chạy tốc độ cao rất nguy hiểm."
            ),
            "submitter": {
                "name": "Châu Ngọc Anh",
                "email": "ngocanh@tuoitre.example.vn",
                "phone": "+84901234567",
            },
            "outcome": "case",
        },
    )
    # 29 -----------------------------------------------------------------------------------
    add(
        "29-poison-no-sender",
        _raw(
            f"To: {OURS}",
            "Subject: ???",
            "MIME-Version: 1.0",
            "Content-Type: application/octet-stream",
            "Content-Transfer-Encoding: base64",
            body=b"////AAAA\r\n",
        ),
        {
            "description": "no sender and no text: cannot be read as a report",
            "poison": "no_sender",
            "outcome": "failed",
        },
    )
    # 30 -----------------------------------------------------------------------------------
    add(
        "30-poison-binary-headers",
        b"\x00\x01\x02MZ\x90\x00\x03\x00\x00\x00\x04\x00\r\nFrom\x00: x\r\n\r\n\xff\xfe\x00",
        {
            "description": "a binary file dropped into the mailbox",
            "poison": "binary_headers",
            "outcome": "failed",
        },
    )
    # 31 -----------------------------------------------------------------------------------
    add(
        "31-emergency-live-wire",
        _mail(
            "Đinh Văn Lực <dinhvanluc@gmail.com>",
            "KHẨN: dây điện đứt rơi xuống đường",
            "Khẩn cấp: dây điện trung thế bị đứt rơi xuống đường Lê Thánh Tôn, trước số 30"
            " (phường Nha Trang), đang tóe lửa lúc 20 giờ ngày 02/12/2026. Xin cắt điện gấp!\n\n"
            "Đinh Văn Lực 0938 112 113\n",
            message_id="<CAurgent@mail.gmail.com>",
            date="Wed, 02 Dec 2026 20:05:00 +0700",
        ),
        {
            "description": "an emergency written in capitals in the subject",
            "content": (
                "Khẩn cấp: dây điện trung thế bị đứt rơi xuống đường Lê Thánh Tôn, trước số 30"
                " (phường Nha Trang), đang tóe lửa lúc 20 giờ ngày 02/12/2026. Xin cắt điện gấp!"
                "\n\nĐinh Văn Lực 0938 112 113"
            ),
            "submitter": {
                "name": "Đinh Văn Lực",
                "email": "dinhvanluc@gmail.com",
                "phone": "+84938112113",
            },
            "outcome": "case",
        },
    )
    # 32 -----------------------------------------------------------------------------------
    add(
        "32-reply-to-relative",
        _mail(
            "Con trai <tuan.nguyen.dev@gmail.com>",
            "Phản ánh giúp bố tôi về sổ đỏ",
            "Bố tôi là ông Nguyễn Văn Bảy, ở thôn Đông, xã Ninh Hòa, nộp hồ sơ cấp giấy chứng"
            " nhận quyền sử dụng đất từ tháng 6/2026 ở bộ phận một cửa nhưng đến nay chưa"
            " được trả kết quả, cũng không được hẹn lại.\n\n"
            "Trân trọng,\nNguyễn Văn Bảy\nĐT: 0258 3844 555\n",
            message_id="<CAreplyto@mail.gmail.com>",
            headers={"Reply-To": "Nguyễn Văn Bảy <bay.nv.ninhhoa@yahoo.com>"},
        ),
        {
            "description": "sent by a son, answers go to the father's Reply-To",
            "content": (
                "Bố tôi là ông Nguyễn Văn Bảy, ở thôn Đông, xã Ninh Hòa, nộp hồ sơ cấp giấy"
                " chứng nhận quyền sử dụng đất từ tháng 6/2026 ở bộ phận một cửa nhưng đến nay"
                " chưa được trả kết quả, cũng không được hẹn lại.\n\nTrân trọng,"
            ),
            "submitter": {
                "name": "Con trai",
                "email": "tuan.nguyen.dev@gmail.com",
                "phone": "+842583844555",
            },
            "reply_address": "bay.nv.ninhhoa@yahoo.com",
            "problems": [{"field": "occurred_at", "code": "required"}],
            "outcome": "needs_info",
        },
    )
    # 33 -----------------------------------------------------------------------------------
    inner = _mail(
        "Ban quản lý chung cư <bql.hoangquan@gmail.com>",
        "Thông báo cúp nước",
        "Do đường ống chính bị vỡ, chung cư Hoàng Quân (phường Nam Nha Trang) sẽ cúp nước"
        " từ 01/12/2026 đến khi có thông báo mới.\n",
        message_id="<inner-1@mail.gmail.com>",
    )
    outer = _mail(
        "Mai Xuân Thưởng <thuong.mx@outlook.com>",
        "FW: Thông báo cúp nước",
        "Chung cư chúng tôi bị cúp nước 2 ngày rồi, công ty cấp nước chưa sửa ống. Thông báo"
        " của ban quản lý gửi kèm.\n\nMai Xuân Thưởng\n0355 246 802\n",
        message_id="<PH0PR-fwdattach@outlook.com>",
    )
    outer.add_attachment(inner)
    add(
        "33-forward-as-attachment",
        outer,
        {
            "description": "a message forwarded as an attachment (message/rfc822): text kept",
            "content": (
                "Chung cư chúng tôi bị cúp nước 2 ngày rồi, công ty cấp nước chưa sửa ống. Thông"
                " báo của ban quản lý gửi kèm.\n\nMai Xuân Thưởng\n0355 246 802\n\n"
                "Do đường ống chính bị vỡ, chung cư Hoàng Quân (phường Nam Nha Trang) sẽ cúp nước"
                " từ 01/12/2026 đến khi có thông báo mới."
            ),
            "submitter": {
                "name": "Mai Xuân Thưởng",
                "email": "thuong.mx@outlook.com",
                "phone": "+84355246802",
            },
            "outcome": "case",
        },
    )
    # 34 -----------------------------------------------------------------------------------
    body = (
        "Xe tải chở cát chạy quá tốc độ trên đường tỉnh lộ 8 qua xã Diên Lâm mỗi đêm, làm"
        " rơi cát ra đường, tối 29/11/2026 có người ngã xe.\r\n\r\nTô Văn Định - 0967 135 246\r\n"
    )
    add(
        "34-cp1258-labelled-ascii",
        _raw(
            "From: To Van Dinh <tvdinh@hotmail.com>",
            f"To: {OURS}",
            "Subject: Xe cat chay qua toc do",
            "Date: Sun, 29 Nov 2026 23:30:00 +0700",
            "Message-ID: <BLU0-SMTP-1258@phx.gbl>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=us-ascii",
            "Content-Transfer-Encoding: 8bit",
            body=_cp1258(body),
        ),
        {
            "description": "windows-1258 bytes labelled us-ascii",
            "content": (
                "Xe tải chở cát chạy quá tốc độ trên đường tỉnh lộ 8 qua xã Diên Lâm mỗi đêm,"
                " làm rơi cát ra đường, tối 29/11/2026 có người ngã xe.\n\nTô Văn Định - 0967"
                " 135 246"
            ),
            "submitter": {
                "name": "To Van Dinh",
                "email": "tvdinh@hotmail.com",
                "phone": "+84967135246",
            },
            "charset_repaired": True,
            "outcome": "case",
        },
    )


def main() -> None:
    build()
    for old in HERE.glob("[0-9][0-9]-*"):
        old.unlink()
    for name, data, expected in MESSAGES:
        (HERE / f"{name}.eml").write_bytes(data)
        (HERE / f"{name}.yaml").write_text(
            yaml.safe_dump(expected, allow_unicode=True, sort_keys=False, width=100),
            encoding="utf-8",
        )
    print(f"{len(MESSAGES)} messages written to {HERE}")


if __name__ == "__main__":
    main()
