"""Uploads are recognised by their bytes; names are never trusted; GPS is read for routing."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from pakn.intake.uploads import check_upload, gps_location, safe_filename, sniff


def jpeg_with_gps(lat: float = 12.2388, lon: float = 109.1967) -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()

    def dms(value: float) -> tuple[float, float, float]:
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
        return (float(degrees), float(minutes), seconds)

    exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG")
    return out.getvalue()


def test_types_come_from_the_bytes() -> None:
    assert sniff(jpeg_with_gps()) == "image/jpeg"
    assert sniff(png()) == "image/png"
    assert sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n") == "application/pdf"
    assert sniff(b"MZ\x90\x00 this is a windows program") is None
    assert sniff(b"<html><script>alert(1)</script>") is None


def test_a_spoofed_file_is_refused_whatever_its_name() -> None:
    assert check_upload("anh-hien-truong.jpg", b"#!/bin/sh\nrm -rf /\n", 1) is None


def test_names_cannot_traverse_or_lie_about_type() -> None:
    assert safe_filename("../../etc/passwd.jpg", "image/png", 1) == "passwd.png"
    assert safe_filename("C:\\Users\\an\\Ảnh ngập.JPG", "image/jpeg", 1) == "Ảnh ngập.jpg"
    assert safe_filename("<script>.jpg", "image/jpeg", 2) == "script.jpg"
    assert safe_filename(None, "application/pdf", 3) == "tep-3.pdf"


def test_photo_location_is_kept_for_routing() -> None:
    location = gps_location(jpeg_with_gps(), "image/jpeg")
    assert location is not None
    assert location == pytest.approx((12.2388, 109.1967), abs=1e-4)
    upload = check_upload("IMG_0001.jpg", jpeg_with_gps(), 1)
    assert upload is not None and upload.lat == pytest.approx(12.2388, abs=1e-4)
