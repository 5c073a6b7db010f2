"""Pictures of codes: what a phone's scanner (zxing-cpp) reads in them, and their bounds."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
import zxingcpp
from PIL import Image

from anthias_edge.services import qr_images

URL = "http://192.168.1.20:8080/q/QR0123456789ABCDEF"


def read(png: bytes) -> list[tuple[str, zxingcpp.BarcodeFormat]]:
    """What zxing-cpp finds in a PNG: (text, format) of each code."""
    image = Image.open(io.BytesIO(png))
    image.load()
    return [(r.text, r.format) for r in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("level", qr_images.ERROR_CORRECTION)
@pytest.mark.parametrize(("size", "border"), [(2, 4), (3, 1), (10, 4), (40, 10)])
def test_every_qr_png_within_bounds_reads_back_as_its_url(level: str, size: int, border: int):
    png = qr_images.qr_png(URL, size=size, border=border, error_correction=level)

    assert read(png) == [(URL, zxingcpp.BarcodeFormat.QRCode)]
    width, height = Image.open(io.BytesIO(png)).size
    modules = len(qr_images.qr_matrix(URL, border=border, error_correction=level))
    assert (width, height) == (modules * size, modules * size)


def test_a_module_is_exactly_black_or_white_and_the_quiet_zone_is_white():
    png = qr_images.qr_png(URL, size=5, border=4)
    image = Image.open(io.BytesIO(png)).convert("L")

    assert {value for _count, value in image.getcolors()} == {0, 255}
    assert {image.getpixel((x, y)) for x in range(20) for y in range(20)} == {255}
    assert image.getpixel((20, 20)) == 0  # the finder pattern's corner


def test_the_png_is_a_valid_one_bit_greyscale_file():
    png = qr_images.qr_png(URL, size=2)
    length, kind = struct.unpack(">I4s", png[8:16])
    header = png[16:16 + length]

    assert png[:8] == b"\x89PNG\r\n\x1a\n" and kind == b"IHDR"
    assert header[8:10] == b"\x01\x00"  # bit depth 1, colour type 0
    assert zlib.crc32(png[12:16 + length]) == struct.unpack(">I", png[16 + length:20 + length])[0]


def test_the_qr_svg_is_drawn_as_the_png_is():
    svg = qr_images.qr_svg(URL, size=4, border=2).decode()
    modules = len(qr_images.qr_matrix(URL, border=2))

    assert f'width="{modules * 4}" height="{modules * 4}"' in svg
    assert f'viewBox="0 0 {modules} {modules}"' in svg
    assert f"<title>{URL}</title>" in svg and 'fill="#000"' in svg


def test_text_outside_ascii_and_markup_is_escaped_in_the_svg():
    svg = qr_images.qr_svg('https://x.test/q/<b>&"é"').decode()

    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg


def test_a_barcode_png_reads_back_as_code_128_of_the_code():
    png = qr_images.barcode_png("BC0123456789AB")

    assert read(png) == [("BC0123456789AB", zxingcpp.BarcodeFormat.Code128)]


def test_the_barcode_svg_carries_the_code_in_letters():
    svg = qr_images.barcode_svg("BCFFFFFFFFFFFF").decode()

    assert svg.count("<text") == 1 and ">BCFFFFFFFFFFFF</text>" in svg


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"size": 0}, "size"), ({"size": 41}, "size"), ({"size": -1}, "size"),
    ({"border": 11}, "border"), ({"border": -1}, "border"),
    ({"error_correction": "Z"}, "error_correction")])
def test_options_out_of_bounds_are_refused_before_drawing(kwargs: dict, message: str):
    for draw in (qr_images.qr_png, qr_images.qr_svg):
        with pytest.raises(ValueError, match=message):
            draw(URL, **kwargs)


def test_the_etag_changes_with_every_argument_and_only_with_them():
    base = dict(size=10, border=4, error_correction="M")
    tag = qr_images.etag("qr.png", URL, **base)

    assert tag == qr_images.etag("qr.png", URL, **base)
    assert tag.startswith('"') and tag.endswith('"')
    others = {qr_images.etag("qr.svg", URL, **base), qr_images.etag("qr.png", URL + "x", **base),
              qr_images.etag("qr.png", URL, **{**base, "size": 11}),
              qr_images.etag("qr.png", URL, **{**base, "border": 3}),
              qr_images.etag("qr.png", URL, **{**base, "error_correction": "H"})}
    assert tag not in others and len(others) == 5
