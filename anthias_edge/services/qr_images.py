"""Pictures of a code: QR codes (``qrcode``) and Code 128 barcodes (``python-barcode``).

Both libraries only decide the modules (the dark and light squares or bars); we draw them,
as SVG text and as a 1-bit PNG written with ``zlib``, so no imaging library (Pillow) is
needed on a device. Output depends only on the arguments, so callers may cache it forever
under ``etag(...)``.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence
from html import escape

# Bump when the drawing changes: it is part of every ETag, so caches let go of old pictures.
GENERATOR_VERSION = "1"
ERROR_CORRECTION = ("L", "M", "Q", "H")
MIN_SIZE, MAX_SIZE = 1, 40  # pixels per module
MIN_BORDER, MAX_BORDER = 0, 10  # modules of quiet zone (a QR code wants 4, Code 128 wants 10)
DEFAULT_SIZE, DEFAULT_BORDER, DEFAULT_EC = 10, 4, "M"
BARCODE_HEIGHT_MODULES = 50
BARCODE_TEXT_MODULES = 14  # room under the bars for the code in letters (SVG only)

Matrix = Sequence[Sequence[bool]]


def check_options(size: int, border: int, error_correction: str = DEFAULT_EC) -> None:
    """Raise ValueError for options out of bounds (callers check them first, with messages)."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE}")
    if not MIN_BORDER <= border <= MAX_BORDER:
        raise ValueError(f"border must be between {MIN_BORDER} and {MAX_BORDER}")
    if error_correction not in ERROR_CORRECTION:
        raise ValueError(f"error_correction must be one of {', '.join(ERROR_CORRECTION)}")


def qr_matrix(data: str, *, border: int = DEFAULT_BORDER,
              error_correction: str = DEFAULT_EC) -> list[list[bool]]:
    """The QR code's modules, quiet zone included, row by row (True: dark)."""
    import qrcode  # loaded on first use: most requests never draw a code

    levels = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
              "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
    check_options(DEFAULT_SIZE, border, error_correction)
    code = qrcode.QRCode(error_correction=levels[error_correction], box_size=1, border=border)
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def barcode_bars(code: str, *, border: int = MAX_BORDER) -> list[bool]:
    """Code 128 bars of ``code`` (True: dark), ``border`` light modules each side."""
    import barcode  # python-barcode; loaded on first use

    if not MIN_BORDER <= border <= MAX_BORDER:
        raise ValueError(f"border must be between {MIN_BORDER} and {MAX_BORDER}")
    pattern = barcode.get_barcode_class("code128")(code).build()[0]
    return [False] * border + [bit == "1" for bit in pattern] + [False] * border


def qr_svg(data: str, *, size: int = DEFAULT_SIZE, border: int = DEFAULT_BORDER,
           error_correction: str = DEFAULT_EC) -> bytes:
    """An SVG of the QR code of ``data``: ``size`` pixels per module, ``border`` modules round."""
    check_options(size, border, error_correction)
    matrix = qr_matrix(data, border=border, error_correction=error_correction)
    return _svg(matrix, size, size, title=data)


def qr_png(data: str, *, size: int = DEFAULT_SIZE, border: int = DEFAULT_BORDER,
           error_correction: str = DEFAULT_EC) -> bytes:
    """A black-and-white PNG of the QR code of ``data``."""
    check_options(size, border, error_correction)
    return _png(qr_matrix(data, border=border, error_correction=error_correction), size, size)


def barcode_svg(code: str, *, size: int = 2, border: int = MAX_BORDER) -> bytes:
    """An SVG of the Code 128 barcode of ``code``, the code written under the bars."""
    check_options(size, border)
    bars = barcode_bars(code, border=border)
    rows = [bars] * BARCODE_HEIGHT_MODULES
    return _svg(rows, size, size, title=code, caption=code)


def barcode_png(code: str, *, size: int = 2, border: int = MAX_BORDER) -> bytes:
    """A black-and-white PNG of the Code 128 barcode of ``code`` (bars only)."""
    check_options(size, border)
    bars = barcode_bars(code, border=border)
    return _png([bars] * BARCODE_HEIGHT_MODULES, size, size)


def etag(kind: str, data: str, *, size: int, border: int, error_correction: str = "") -> str:
    """A strong ETag for the picture these arguments give (computed without drawing it)."""
    key = "\x00".join([GENERATOR_VERSION, kind, data, str(size), str(border), error_correction])
    return '"' + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + '"'


def _svg(rows: Matrix, module_w: int, module_h: int, *, title: str,
         caption: str | None = None) -> bytes:
    width, height = len(rows[0]), len(rows)
    text_h = BARCODE_TEXT_MODULES if caption else 0
    # One path of horizontal runs: a few hundred bytes instead of a rect per module.
    path = []
    for y, row in enumerate(rows if not caption else rows[:1]):
        x = 0
        while x < width:
            if row[x]:
                start = x
                while x < width and row[x]:
                    x += 1
                run_h = height if caption else 1  # a barcode's bars run the full height
                path.append(f"M{start} {y}h{x - start}v{run_h}h-{x - start}z")
            else:
                x += 1
    total_h = height + text_h
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * module_w}" '
        f'height="{total_h * module_h}" viewBox="0 0 {width} {total_h}" '
        'shape-rendering="crispEdges">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{total_h}" fill="#fff"/>',
        f'<path fill="#000" d="{"".join(path)}"/>',
    ]
    if caption:
        parts.append(f'<text x="{width / 2:g}" y="{height + text_h * 0.75:g}" '
                     f'font-family="monospace" font-size="{text_h * 0.7:g}" '
                     f'text-anchor="middle" fill="#000">{escape(caption)}</text>')
    parts.append("</svg>\n")
    return "".join(parts).encode("utf-8")


def _png(rows: Matrix, module_w: int, module_h: int) -> bytes:
    """A 1-bit greyscale PNG: each module ``module_w`` x ``module_h`` pixels (0 black, 1 white)."""
    width = len(rows[0]) * module_w
    raw = bytearray()
    for row in rows:
        bits = "".join(("0" if dark else "1") * module_w for dark in row)
        bits += "0" * (-len(bits) % 8)  # padding bits of a scanline are ignored
        line = b"\x00" + int(bits, 2).to_bytes(len(bits) // 8, "big")  # filter type 0
        raw += line * module_h
    header = struct.pack(">IIBBBBB", width, len(rows) * module_h, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + _chunk(b"IEND", b""))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
