"""Shared content for the landing page tests: assets and their codes, stored as the app does."""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

from flask import Flask

from anthias_edge.models import Asset, QRContent
from anthias_edge.timeutil import utcnow


def png(width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A real PNG of one colour, so a browser has a picture to draw."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


PNG = png()


def new_qr_code() -> str:
    """A code of the shape the service makes: ``QR`` + 16 upper-case hex."""
    return "QR" + secrets.token_hex(8).upper()


def add_asset(app: Flask, *, tenant_id: str | None = None, name: str = "Lunch menu",
              uri: str | None = None, mimetype: str = "image", file: Path | None = None,
              data: bytes = PNG, **fields: Any) -> Asset:
    """An asset of the device's own tenant (or ``tenant_id``); with no ``uri``, a file in its
    folder holding ``data`` (or a copy of ``file``)."""
    runtime = app.extensions["anthias"]
    with runtime.database.connection_context():
        tenant_id = tenant_id or runtime.local_tenant_id
        asset_id = uuid.uuid4().hex
        if uri is None:
            folder = runtime.media_dir(tenant_id)
            folder.mkdir(parents=True, exist_ok=True)
            suffix = file.suffix if file is not None else ".png"
            target = folder / f"{asset_id}{suffix}"
            if file is not None:
                shutil.copyfile(file, target)
            else:
                target.write_bytes(data)
            uri = str(target)
        return Asset.create(asset_id=asset_id, name=name, uri=uri, mimetype=mimetype,
                            tenant=tenant_id, duration=10, is_enabled=True, **fields)


def add_code(app: Flask, asset: Asset, *, title: str = "Today's lunch",
             description: str = "Soup, bread and a pear.", barcode: str | None = None,
             expires_at: dt.datetime | None = None, is_active: bool = True) -> QRContent:
    """A QR content of ``asset`` in the asset's tenant."""
    with app.extensions["anthias"].database.connection_context():
        return QRContent.create(tenant=asset.tenant, asset=asset.asset_id,
                                qr_code=new_qr_code(), barcode=barcode, title=title,
                                description=description, expires_at=expires_at,
                                is_active=is_active, created_at=utcnow(), updated_at=utcnow())


def scans(app: Flask, qr_code: str) -> tuple[int, dt.datetime | None]:
    """(access_count, last_accessed) of one code, read from the database."""
    with app.extensions["anthias"].database.connection_context():
        row = QRContent.get(QRContent.qr_code == qr_code)
        return row.access_count, row.last_accessed
