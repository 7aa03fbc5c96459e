"""The base of every table of the policy file's schema (server/policy/file.py and
server/policy/alert_tables.py): strict, so a policy is never read other than as written."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Table(BaseModel):
    """One TOML table: unknown keys refused, no type coercion (30.0 is not an integer, "3" not a
    number), text stripped of surrounding spaces."""

    model_config = ConfigDict(
        extra="forbid", strict=True, str_strip_whitespace=True, allow_inf_nan=False
    )
