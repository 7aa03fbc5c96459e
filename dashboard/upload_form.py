"""The file form of the pages that take a spreadsheet (the registry import, the paper forms):
a drop zone, the chosen file's name, and the check, run and template buttons, with ids made
from the page's prefix (`<prefix>-upload`, `<prefix>-check` …), so both pages look and behave
alike and their tests find the same parts."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from dash import Dash, Input, Output, dcc, html

from dashboard.components import bilingual


class UploadIds:
    def __init__(self, prefix: str) -> None:
        self.upload = f"{prefix}-upload"
        self.file_name = f"{prefix}-file-name"
        self.check = f"{prefix}-check"
        self.run = f"{prefix}-run"
        self.template = f"{prefix}-template"
        self.template_download = f"{prefix}-template-download"


def upload_form(
    ids: UploadIds, accept: str, max_bytes: int, choose: tuple[str, str], run: tuple[str, str]
) -> list[Any]:
    """`choose`: what the drop zone says; `run`: the run button's words (vi, en)."""
    return [
        dcc.Upload(
            html.Div(bilingual(*choose)),
            id=ids.upload,
            accept=accept,
            max_size=max_bytes,
            className="upload",
        ),
        html.Div(id=ids.file_name, className="file-name"),
        html.Div(
            [
                html.Button(bilingual("Kiểm tra", "Check"), id=ids.check, className="button"),
                html.Button(bilingual(*run), id=ids.run, className="button primary"),
                html.Button(
                    bilingual("Tải tệp mẫu", "Download the template"),
                    id=ids.template,
                    className="button",
                ),
                dcc.Download(id=ids.template_download),
            ],
            className="links",
        ),
    ]


def show_file_name(app: Dash, ids: UploadIds) -> None:
    @app.callback(Output(ids.file_name, "children"), Input(ids.upload, "filename"))
    def chosen(filename: str | None) -> str:
        return f"Tệp đã chọn / chosen file: {filename}" if filename else ""


def decode(contents: str) -> bytes:
    """dcc.Upload's `data:…;base64,…` as the file's bytes."""
    _, _, encoded = contents.partition(",")
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError("Không đọc được tệp tải lên / the upload could not be read") from None
