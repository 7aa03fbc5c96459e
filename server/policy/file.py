"""Reading a policy file: the TOML an agency writes, declared as pydantic models, and the message
a person gets when it is wrong.

Unknown keys are errors (`extra="forbid"`), because a misspelt key that was silently ignored
would change scores without anyone noticing. Each model says what a key must hold (type, bounds,
an example); `_explain` turns pydantic's errors into one line per mistake that names the table,
the key and what to write, e.g. "policy.toml: [misuse] burst_count must be an integer ≥ 2, not
'five'". The models then build the frozen values of server/policy/rules.py.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from hailong.protocol import ID_RE
from server.policy.alert_tables import ALERT_TABLES, AlertTable, AnyAlert
from server.policy.office_hours import OfficeHours, checked_spans, spans
from server.policy.privacy import viewer_min_officers
from server.policy.rules import (
    ALERT_KINDS,
    ChannelRules,
    ClassRule,
    MisuseRules,
    Policy,
    PolicyError,
    number_text,
)
from server.policy.table import Table
from server.storage import flags
from server.storage.schedule import parse_days, weekday_set

DEFAULT_FILE = "policy-default.toml"
BUILT_IN = "built-in default"
_MISUSE = MisuseRules()
_CHANNELS = ChannelRules()


def _flag_list(value: Any) -> Any:
    """A list of server/storage/flags.py's names, or the error saying which are unknown."""
    unknown = [f for f in value if f not in flags.NAMES] if isinstance(value, list) else []
    if not isinstance(value, list) or unknown:
        named = f" ({', '.join(map(repr, unknown))} unknown)" if unknown else ""
        raise ValueError(
            f"must be a list of flags from {list(flags.NAMES)}, not {_shown(value)}{named}"
        )
    return value


class _Misuse(Table):
    """`[misuse]`; a key left out keeps `MisuseRules`' own default."""

    cooldown_s: float = Field(_MISUSE.cooldown_s, ge=0)
    burst_count: int = Field(_MISUSE.burst_count, ge=2)
    burst_window_s: float = Field(_MISUSE.burst_window_s, gt=0)
    require_service: bool = _MISUSE.require_service
    count: list[str] = Field(default_factory=lambda: list(_MISUSE.count))

    _known_flags = field_validator("count", mode="before")(lambda cls, value: _flag_list(value))

    def rules(self) -> MisuseRules:
        return MisuseRules(
            cooldown_s=self.cooldown_s,
            burst_count=self.burst_count,
            burst_window_s=self.burst_window_s,
            require_service=self.require_service,
            count=tuple(f for f in flags.NAMES if f in self.count),
        )


class _Channels(Table):
    """`[channels]`; left out (a policy file older than 2026-12-vi-du-3), the default list."""

    officer_excluded: list[str] = Field(default_factory=lambda: list(_CHANNELS.officer_excluded))
    _known_flags = field_validator("officer_excluded", mode="before")(
        lambda cls, value: _flag_list(value)
    )

    def rules(self) -> ChannelRules:
        return ChannelRules(tuple(f for f in flags.NAMES if f in self.officer_excluded))


class _ClassRule(Table):
    """One `[[classification]]` rule: its class and the conditions, any of them left out."""

    code: str = Field(min_length=1, pattern=ID_RE.pattern, examples=["good"])
    label_vi: str = Field(min_length=1, examples=["Hoàn thành tốt nhiệm vụ"])
    label_en: str = Field(min_length=1, examples=["Good completion of duties"])
    wilson_low_min: float | None = Field(None, ge=0, le=100)
    wilson_high_max: float | None = Field(None, ge=0, le=100)
    satisfied_pct_min: float | None = Field(None, ge=0, le=100)
    happy_index_min: float | None = Field(None, ge=0, le=100)
    unsatisfied_pct_max: float | None = Field(None, ge=0, le=100)
    ratings_min: int | None = Field(None, ge=1)

    def rule(self) -> ClassRule:
        return ClassRule(**self.model_dump())


class _OfficeHours(Table):
    """`[office_hours]` in Vietnam time: weekdays as a rota writes them, spans HH:MM-HH:MM."""

    days: str = Field("T2 T3 T4 T5 T6", min_length=1, examples=["T2 T3 T4 T5 T6"])
    hours: list[str] = Field(default_factory=lambda: ["07:30-11:30", "13:30-17:00"])
    saturday_hours: list[str] = []
    _days = field_validator("days")(lambda cls, value: parse_days(value))
    _spans = field_validator("hours", "saturday_hours")(lambda cls, value: checked_spans(value))

    def value(self) -> OfficeHours:
        days, saturday = weekday_set(parse_days(self.days)), spans(self.saturday_hours)
        return OfficeHours(days, spans(self.hours), saturday)


class _PolicyFile(Table):
    """The whole file, in the order docs/policy.md gives its keys."""

    version: str = Field(min_length=1, examples=["2026-12-vi-du-3"])
    name: str | None = Field(None, min_length=1, examples=["Chính sách mẫu"])
    description: str | None = Field(None, min_length=1, examples=["Ví dụ chính sách địa phương"])
    min_ratings: int = Field(30, ge=1)
    misuse: _Misuse = _Misuse()
    channels: _Channels = _Channels()
    classification: list[_ClassRule] = []
    alerts: list[AnyAlert] = []
    office_hours: _OfficeHours = _OfficeHours()

    @model_validator(mode="after")
    def _one_class_each(self) -> _PolicyFile:
        """Codes and ids unique, and exactly one catch-all class, last."""
        if not self.classification:
            raise ValueError(
                f"[[classification]] rules are missing; copy them from {DEFAULT_FILE} and edit "
                "them, ending with a catch-all (a rule with only code and labels)"
            )
        rules = [r.rule() for r in self.classification]
        for number, rule in enumerate(rules, 1):
            if rule.code in (r.code for r in rules[: number - 1]):
                raise ValueError(
                    f"[[classification]] {rule.code!r} code is used by an earlier rule; give "
                    "each class its own code"
                )
            if (problem := rule.contradiction()) is not None:
                raise ValueError(f"[[classification]] {rule.code!r} {problem}")
            if rule.is_catch_all and number < len(rules):
                raise ValueError(
                    f"[[classification]] {rule.code!r} has no conditions, so it matches "
                    "everyone and the rules after it never apply; move it last"
                )
        if not rules[-1].is_catch_all:
            raise ValueError(
                f"the last [[classification]] rule {rules[-1].code!r} has conditions; end with "
                "a catch-all rule (only code and labels), so every officer with enough ratings "
                "gets a class"
            )
        ids = [a.id for a in self.alerts]
        for number, alert_id in enumerate(ids):
            if alert_id in ids[:number]:
                raise ValueError(
                    f"[[alerts]] {alert_id!r} id is used by an earlier alert; give each alert "
                    "its own id"
                )
        return self

    def policy(self, source: str) -> Policy:
        return Policy(
            version=self.version,
            name=self.name,
            description=self.description,
            min_ratings=self.min_ratings,
            misuse=self.misuse.rules(),
            classification=tuple(r.rule() for r in self.classification),
            alerts=tuple(a.rule() for a in self.alerts),
            source=source,
            office_hours=self.office_hours.value(),
            channels=self.channels.rules(),
        )


def parse_policy(text: str, source: str) -> Policy:
    """A policy from TOML text; `source` names it in errors and is kept with the policy."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML ({exc})") from None
    n = viewer_min_officers(data.pop("privacy", {}), source)  # [privacy]: read on its own
    try:
        return replace(_PolicyFile.model_validate(data).policy(source), viewer_min_officers=n)
    except ValidationError as exc:
        raise PolicyError(
            "\n".join(f"{source}: {_explain(error, data)}" for error in exc.errors())
        ) from None


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or for None the shipped default (policy-default.toml beside us)."""
    if path is None:
        text = resources.files(__package__).joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
        return parse_policy(text, BUILT_IN)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{path}: no such policy file; check the path") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8 text; save the policy file as UTF-8") from None
    except OSError as exc:
        raise PolicyError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_policy(text, str(path))


# --- what a person is told ------------------------------------------------------------------


def _shown(value: Any) -> str:
    """A value as the file had it: TOML's true and false, the rest as Python writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _explain(error: ErrorDetails, data: dict[str, Any]) -> str:
    """One pydantic error as "<table> <key> <what is wrong and what to write>"."""
    loc, kind, value = error["loc"], error["type"], error.get("input")
    message = error["msg"].removeprefix("Value error, ")
    if not loc:
        return message  # a rule across tables, worded in full by _PolicyFile
    if kind in ("model_type", "model_attributes_type"):
        return f"{_where(loc, data).strip()} must be a table, not {_shown(value)}"
    if kind == "list_type" and len(loc) == 1:
        return f"{loc[0]} must be written as [[{loc[0]}]] tables, not {_shown(value)}"
    if kind == "union_tag_not_found":
        return f'{_where(loc, data)}kind is required, e.g. kind = "{ALERT_KINDS[0]}"'
    if kind == "union_tag_invalid":
        given = _shown(value.get("kind") if isinstance(value, dict) else value)
        return f"{_where(loc, data)}kind must be one of {', '.join(ALERT_KINDS)}, not {given}"
    table, key = loc[:-1], str(loc[-1])
    model = _model(table)
    if kind == "extra_forbidden":
        return _unknown(table, key, data, model)
    where = _where(table, data, named=key not in ("code", "id"))
    field = model.model_fields[key]
    if kind == "missing":
        example = field.examples[0] if field.examples else None
        shown = f'"{example}"' if isinstance(example, str) else example
        return f"{where}{key} is required, e.g. {key} = {shown}"
    if kind == "value_error":
        return f"{where}{key} {message}"
    if kind == "string_pattern_mismatch":
        example = field.examples[0] if field.examples else ""
        return (
            f"{where}{key} must be 1 to 64 of A-Z a-z 0-9 . _ - such as {example!r}, not {value!r}"
        )
    return f"{where}{key} must be {_wanted(field)}, not {_shown(value)}"


def _model(table: tuple[int | str, ...]) -> type[Table]:
    """The model of the table at `table`: the last name in it, or the file itself."""
    names = [part for part in table if isinstance(part, str)]
    models: dict[str, type[Table]] = {
        "misuse": _Misuse,
        "channels": _Channels,
        "classification": _ClassRule,
    }
    models.update(office_hours=_OfficeHours, **ALERT_TABLES)
    return models[names[-1]] if names else _PolicyFile


def _where(table: tuple[int | str, ...], data: dict[str, Any], named: bool = True) -> str:
    """How a message names a table: "[misuse] ", or a rule by its code (id) once that is valid,
    by its number otherwise: "[[classification]] 'good' ", "[[alerts]] #2 "."""
    if not table:
        return ""
    if len(table) == 1:
        return f"[{table[0]}] "
    section, index = str(table[0]), int(table[1])
    item = data[section][index] if isinstance(data[section][index], dict) else {}
    name = item.get("code" if section == "classification" else "id")
    if named and isinstance(name, str) and ID_RE.match(name.strip()):
        return f"[[{section}]] {name.strip()!r} "
    return f"[[{section}]] #{index + 1} "


def _unknown(
    table: tuple[int | str, ...], key: str, data: dict[str, Any], model: type[Table]
) -> str:
    """An unknown key: the setting of another alert kind, or a likely misspelling."""
    if model in ALERT_TABLES.values():
        own = [k for k in model.model_fields if k not in AlertTable.model_fields]
        if any(key in m.model_fields for m in ALERT_TABLES.values()):
            return (
                f"{_where(table, data)}{key} is not a setting of kind {table[-1]} (its settings: "
                f"{', '.join(own)})"
            )
        known = list(dict.fromkeys(k for m in ALERT_TABLES.values() for k in m.model_fields))
    else:
        known = list(model.model_fields)
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}"
    return f"{_where(table, data, named=False)}{key} is not a setting here ({hint})"


def _wanted(field: FieldInfo) -> str:
    """What a key must hold, from its declaration: "an integer ≥ 2", "a number > 0 and ≤ 100"."""
    kinds = getattr(field.annotation, "__args__", (field.annotation,))
    if bool in kinds:
        return "true or false"
    if str in kinds:
        return f'a non-empty string such as "{field.examples[0] if field.examples else ""}"'
    signs = {"gt": ">", "ge": "≥", "le": "≤"}
    bounds = [
        f"{signs[k]} {number_text(getattr(m, k), 'en')}"
        for m in field.metadata
        for k in signs
        if hasattr(m, k)
    ]
    return f"an integer {bounds[0]}" if int in kinds else f"a number {' and '.join(bounds)}"
