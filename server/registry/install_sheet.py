"""What goes in a unit's bundle besides its device.toml: the printed install sheet, the QR code
for its label, and the zip that carries them. Pure: no database, no broker, tested on their own.

The sheet is one self-contained HTML page (the QR inline, no fonts or scripts from anywhere) so
it opens and prints the same on an office PC with no network.
"""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import segno
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from server.timeutil import VN_TZ, vn_text

DEVICE_TOML = "device.toml"
SHEET = "huong-dan-lap-dat.html"
QR_PNG = "ma-thiet-bi.png"
UNIT_INDEX = "danh-sach-thiet-bi.html"
QR_SCALE = 8  # pixels per module: about 2.5 cm wide for a short id at 300 dpi label printers
QR_BORDER = 4  # the quiet zone the QR standard asks for, in modules


@dataclass(frozen=True)
class BundleFacts:
    """What the sheet tells the person installing the unit."""

    device_id: str
    counter_id: str
    counter_name: str
    unit_id: str
    unit_name: str
    broker: str  # host:port, as in the device.toml
    tls: bool
    issued_at: datetime


def qr_code(device_id: str) -> segno.QRCode:
    """The label's QR code: the device id and nothing else, so any phone reader shows it."""
    return segno.make_qr(device_id, error="m")


def qr_png(device_id: str) -> bytes:
    buffer = io.BytesIO()
    qr_code(device_id).save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return buffer.getvalue()


def qr_size(device_id: str) -> int:
    """The PNG's width and height in pixels."""
    width, _ = qr_code(device_id).symbol_size(scale=QR_SCALE, border=QR_BORDER)
    return int(width)


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("server.registry", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def install_sheet(facts: BundleFacts, png: bytes) -> str:
    """The one-page install sheet (A4) with the QR code inline."""
    return (
        _environment()
        .get_template(SHEET)
        .render(
            f=facts,
            issued=vn_text(facts.issued_at),
            qr=base64.b64encode(png).decode(),
            files=(DEVICE_TOML, SHEET, QR_PNG),
        )
    )


def unit_index(unit_id: str, unit_name: str, devices: Sequence[BundleFacts], at: datetime) -> str:
    """The unit bundle's first page: which folder is which counter's unit."""
    return (
        _environment()
        .get_template(UNIT_INDEX)
        .render(unit_id=unit_id, unit_name=unit_name, devices=devices, issued=vn_text(at))
    )


def device_files(facts: BundleFacts, toml: str) -> dict[str, bytes]:
    """The three files of one device's bundle, by name."""
    png = qr_png(facts.device_id)
    return {
        DEVICE_TOML: toml.encode(),
        SHEET: install_sheet(facts, png).encode(),
        QR_PNG: png,
    }


def zip_files(files: Mapping[str, bytes], at: datetime) -> bytes:
    """A zip of `files` (name -> content, '/' for folders), each dated `at` in Vietnam time."""
    stamp = at.astimezone(VN_TZ).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16  # device.toml holds a password: owner only
            archive.writestr(info, content)
    return buffer.getvalue()
