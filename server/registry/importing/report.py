"""What an import answers: per sheet the ids created, updated and unchanged, and every error by
sheet, row and column in Vietnamese and English. The API returns it as it is; the dashboard's
import page shows it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hailong.errors import HailongError

SHEET_IDS = ("units", "fields", "counters", "officers", "devices", "rota")


class RowError(BaseModel):
    """One thing wrong in the file. `row` is the spreadsheet's row number (1 is the Vietnamese
    header, 2 the column ids, data from 3); 0 means the sheet or file as a whole."""

    sheet: str
    row: int
    column: str = Field(description="the column id ('' for the whole row or sheet)")
    message_vi: str
    message_en: str


class SheetResult(BaseModel):
    """The ids of one sheet's rows by what the import does with them; rota rows are named
    `counter_id/officer_id/from`."""

    created: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
        }


class ImportReport(BaseModel):
    """`written`: the changes are stored. With any error nothing is, and the lists are empty;
    a dry run lists what an import would do and writes nothing."""

    file_name: str
    dry_run: bool
    written: bool = False
    sheets: dict[str, SheetResult] = Field(
        default_factory=lambda: {sheet: SheetResult() for sheet in SHEET_IDS}
    )
    errors: list[RowError] = Field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        return {sheet: result.counts() for sheet, result in self.sheets.items()}

    def changes(self) -> int:
        return sum(len(r.created) + len(r.updated) for r in self.sheets.values())


class UnreadableFile(HailongError):
    """The upload is neither an XLSX workbook nor a zip of CSV files, or cannot be opened."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en


class FileTooLarge(UnreadableFile):
    """Larger than MAX_BYTES: a registry file is a few hundred kilobytes at most."""
