"""Every row of an upload checked against the stored registry before anything is written: its
cells, the ids it refers to (in the same file or already stored), duplicates, and what it would
do (create, update, or nothing). An error in one row does not stop the others being checked; a
row that refers to a row with an error is not checked further (it is `blocked`), since what it
refers to is not known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlmodel import SQLModel

from server.registry.importing import sheets
from server.registry.importing.cells import READERS, CellError, text
from server.registry.importing.reading import Row, SheetRows, Upload
from server.registry.importing.report import RowError
from server.registry.importing.stored import Stored
from server.registry.signin_methods import UnitSignIn
from server.storage.models import CounterCreate, OfficerCreate, ServiceFieldCreate
from server.storage.schedule import RotaCreate

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
# What an empty cell, or a column the sheet leaves out on a new row, means.
EMPTY: dict[str, Any] = {
    "province": None,
    "title": None,
    "active": True,
    "field_ids": [],
    "signin": "none",
}
_WHAT = {
    "units": ("đơn vị", "unit"),
    "fields": ("lĩnh vực", "field"),
    "counters": ("quầy", "counter"),
    "officers": ("cán bộ", "officer"),
}
_MODELS: dict[str, type[SQLModel]] = {
    "units": UnitSignIn,
    "fields": ServiceFieldCreate,
    "counters": CounterCreate,
    "officers": OfficerCreate,
}
_VI = {
    "must not contain control characters": "không được chứa ký tự điều khiển (tab, xuống dòng)",
    "must not be empty": "không được để trống",
    "must not be before from": "đến ngày không được trước từ ngày",
    "must be after start": "giờ kết thúc phải sau giờ bắt đầu (ca kết thúc trong ngày)",
    "must be a day between": "ngày phải nằm trong khoảng năm hệ thống lưu được",
}
_ALIASES = {"from_day": "from", "to_day": "to"}


@dataclass
class Change:
    """One valid row and what writing it does; a rota row's status is known only once the rota
    rules have seen it (server/registry/importing/apply.py)."""

    sheet: str
    key: str
    row: int
    status: str | None
    target: Any  # the row's values as stored (a dict), or a RotaCreate


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def rota_key(data: RotaCreate) -> str:
    return f"{data.counter_id}/{data.officer_id}/{data.from_day.isoformat()}"


def make_plan(upload: Upload, stored: Stored, tick: Callable[[], None]) -> Plan:
    """`tick` is called once per row checked, for the import's progress."""
    planner = _Planner(stored, Plan(errors=list(upload.errors)), tick)
    for sheet_id in sheets.SHEETS:
        if sheet_id in upload.sheets:
            planner.sheet(upload.sheets[sheet_id])
    return planner.plan


class _Planner:
    def __init__(self, stored: Stored, plan: Plan, tick: Callable[[], None]) -> None:
        self.stored = stored
        self.plan = plan
        self.tick = tick
        # ids defined in the file: True when the row is valid, False when it is not
        self.in_file: dict[str, dict[str, bool]] = {s: {} for s in sheets.SHEETS}
        self.officer_active = {k: o.active for k, o in stored.officers.items()}
        self.new_devices: dict[str, str] = {}  # counter -> the device this file adds to it

    def error(self, sheet: str, row: int, column: str, vi: str, en: str) -> None:
        self.plan.errors.append(
            RowError(sheet=sheet, row=row, column=column, message_vi=vi, message_en=en)
        )

    def sheet(self, rows: SheetRows) -> None:
        sheet = rows.sheet
        seen: dict[str, int] = {}
        for row in rows.rows:
            self.tick()
            before = len(self.plan.errors)
            values = self.cells(rows, row)
            key = self.key(sheet, row, values)
            if key is not None and key in seen:
                self.error(
                    sheet.id,
                    row.number,
                    sheet.key[0],
                    f"trùng với hàng {seen[key]}: mỗi {key!r} chỉ ghi một hàng",
                    f"the same as row {seen[key]}: give {key!r} one row only",
                )
                continue
            if key is not None:
                seen[key] = row.number
            change = None if values is None else self.check(sheet.id, row, values)
            valid = change is not None and len(self.plan.errors) == before
            if key is not None:
                self.in_file[sheet.id][key] = valid
            if valid and change is not None:
                self.plan.changes.append(change)

    def cells(self, rows: SheetRows, row: Row) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        ok = True
        for column_id, raw in row.values.items():
            column = rows.sheet.column(column_id)
            assert column is not None  # the reader keeps only the sheet's columns
            try:
                value = READERS[column.kind](raw)
            except CellError as exc:
                self.error(rows.sheet.id, row.number, column_id, exc.message_vi, exc.message_en)
                ok = False
                continue
            if column.required and value in (None, []):
                self.error(
                    rows.sheet.id,
                    row.number,
                    column_id,
                    f"ô bắt buộc ({column.header_vi}) đang trống",
                    f"required ({column_id}): the cell is empty",
                )
                ok = False
            values[column_id] = value
        return values if ok else None

    def key(self, sheet: sheets.Sheet, row: Row, values: dict[str, Any] | None) -> str | None:
        if sheet.key == ("id",):
            return text(row.values.get("id"))
        if values is None:
            return None
        return "/".join(
            v.isoformat() if isinstance(v := values[c], date) else str(v) for c in sheet.key
        )

    def refer(self, sheet: str, row: int, column: str, to: str, key: str) -> bool:
        """True when `key` is a valid row of this file or stored; else False, with an error
        unless the row that defines it has one already."""
        defined = self.in_file[to].get(key)
        if defined or (defined is None and key in getattr(self.stored, to)):
            return True
        if defined is None:
            vi, en = _WHAT[to]
            self.error(
                sheet,
                row,
                column,
                f"không có {vi} {key!r}: thêm vào sheet {to} hoặc tạo trước",
                f"unknown {en} {key!r}: add it to the {to} sheet or register it first",
            )
        return False

    def check(self, sheet: str, row: Row, values: dict[str, Any]) -> Change | None:
        if sheet == "devices":
            return self.device(row, values)
        if sheet == "rota":
            return self.rota(row, values)
        refs_ok = True
        if "unit_id" in values:
            refs_ok = self.refer(sheet, row.number, "unit_id", "units", values["unit_id"])
        for field_id in values.get("field_ids", ()):
            refs_ok = self.refer(sheet, row.number, "field_ids", "fields", field_id) and refs_ok
        key = values["id"]
        before = self.stored.values(sheet, key)
        present = {k: EMPTY.get(k) if v is None else v for k, v in values.items()}
        merged = {**EMPTY, **(before or {}), **present}
        try:
            target = _MODELS[sheet].model_validate(merged).model_dump()
        except ValidationError as exc:
            self.model_errors(sheet, row.number, exc)
            return None
        if not refs_ok:
            return None
        if sheet == "counters":
            target["field_ids"] = sorted(target["field_ids"])
        if sheet == "officers":
            target["active"] = merged["active"]
            self.officer_active[key] = merged["active"]
        status = CREATED if before is None else UNCHANGED if before == target else UPDATED
        return Change(sheet, key, row.number, status, target)

    def device(self, row: Row, values: dict[str, Any]) -> Change | None:
        key, counter_id = values["id"], values["counter_id"]
        found = self.stored.devices.get(key)
        if found is not None and found.revoked_at is not None:
            self.error(
                "devices",
                row.number,
                "id",
                f"thiết bị {key!r} đã bị thu hồi: xóa hàng này hoặc dùng mã thiết bị mới",
                f"device {key!r} was revoked: remove this row or use a new device id",
            )
            return None
        if found is not None and found.counter_id != counter_id:
            self.error(
                "devices",
                row.number,
                "counter_id",
                f"thiết bị {key!r} thuộc quầy {found.counter_id!r}: không chuyển được quầy; "
                "thu hồi và đăng ký thiết bị mới",
                f"device {key!r} belongs to counter {found.counter_id!r}: it cannot move; revoke "
                "it and register a new device",
            )
            return None
        if found is not None:
            return Change("devices", key, row.number, UNCHANGED, values)
        if not self.refer("devices", row.number, "counter_id", "counters", counter_id):
            return None
        other = self.stored.active_devices.get(counter_id) or self.new_devices.get(counter_id)
        if other is not None:
            self.error(
                "devices",
                row.number,
                "counter_id",
                f"quầy {counter_id!r} đã có thiết bị {other!r}: mỗi quầy một thiết bị; thu hồi "
                "hoặc thay thiết bị cũ trước",
                f"counter {counter_id!r} already has device {other!r}: one device per counter; "
                "revoke or replace the old one first",
            )
            return None
        self.new_devices[counter_id] = key
        return Change("devices", key, row.number, CREATED, values)

    def rota(self, row: Row, values: dict[str, Any]) -> Change | None:
        counter_ok = self.refer("rota", row.number, "counter_id", "counters", values["counter_id"])
        officer_id = values["officer_id"]
        officer_ok = self.refer("rota", row.number, "officer_id", "officers", officer_id)
        if officer_ok and not self.officer_active.get(officer_id, True):
            self.error(
                "rota",
                row.number,
                "officer_id",
                f"cán bộ {officer_id!r} không còn làm việc: không xếp lịch trực được",
                f"officer {officer_id!r} is inactive and cannot be put on a rota",
            )
            return None
        try:
            data = RotaCreate.model_validate({k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            self.model_errors("rota", row.number, exc)
            return None
        if not (counter_ok and officer_ok):
            return None
        return Change("rota", rota_key(data), row.number, None, data)

    def model_errors(self, sheet: str, row: int, exc: ValidationError) -> None:
        for found in exc.errors():
            message = str(found["msg"]).removeprefix("Value error, ")
            column = (
                _ALIASES.get(str(found["loc"][0]), str(found["loc"][0])) if found["loc"] else ""
            )
            if not column and ":" in message:
                column, message = (part.strip() for part in message.split(":", 1))
            if found["type"] == "string_too_long":
                vi = f"dài quá {found.get('ctx', {}).get('max_length')} ký tự"
            else:
                vi = next((v for k, v in _VI.items() if k in message), f"không hợp lệ: {message}")
            self.error(sheet, row, column, vi, message)
