"""The server's one settings object, read from HAILONG_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-in-production"


class Settings(BaseSettings):
    """Every option documented once; `hailong server --help` and the README list them."""

    model_config = SettingsConfigDict(env_prefix="HAILONG_", extra="ignore")

    environment: Literal["development", "production"] = Field(
        "development", description="`production` refuses the default secret key."
    )
    database_url: str = Field(
        "sqlite:///./hailong-data/hailong.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user:pw@host/db.",
    )
    mqtt_url: str = Field(
        "mqtt://127.0.0.1:1883",
        description="The broker and the server's own account: mqtt://user:password@host:1883.",
    )
    device_mqtt_url: str = Field(
        "",
        description="Broker address written into new devices' configs, as the units reach "
        "it (e.g. mqtts://hailong.example.gov.vn:8883); empty: the server's own broker address.",
    )
    device_mqtt_ca_file: str = Field(
        "",
        description="CA certificate (PEM) written into new devices' configs, which the units "
        "check the mqtts:// broker against (e.g. <data_dir>/pki/ca.crt from `hailong pki "
        "init`); empty: the units trust the system's CAs.",
    )
    mqtt_client_id: str = Field(
        "server",
        description="This process's part of its MQTT client ids, unique among the processes "
        "sharing a data_dir (e.g. ingest-1): the ids are hailong-<token>-<this>, the token a "
        "random secret made once in <data_dir>/mqtt-client-token, so no other account can "
        "guess them.",
    )
    mqtt_shared_group: str = Field(
        "",
        description="Join this MQTT shared subscription group ($share/<group>/…) to split "
        "ingest between several server processes; empty for one process.",
    )
    ingest: bool = Field(
        True,
        description="`false`: `hailong server` serves only the API and dashboard, and "
        "`hailong ingest` processes (same shared group) store the ratings.",
    )
    secret_key: str = Field(
        DEFAULT_SECRET,
        description="Signs login tokens and keys the lookup tags of officers' PINs and cards; "
        "keep it secret. Changing it logs everyone out, and officers' PINs and cards must be "
        "set again.",
    )
    token_minutes: int = Field(12 * 60, description="How long a login token stays valid.")
    ingest_batch_size: int = Field(
        500, description="Ingest commits a batch after this many messages…"
    )
    ingest_batch_ms: int = Field(
        50, description="…or after this many milliseconds, whichever comes first."
    )
    ingest_device_rate: float = Field(
        50.0,
        gt=0,
        description="Messages a second one device may send (after a burst of "
        "HAILONG_INGEST_DEVICE_BURST) before the rest wait in the ingest's spool, stored in "
        "turn with other such devices', so that one flooding unit does not delay the others.",
    )
    ingest_device_burst: int = Field(
        500, ge=1, description="How many messages one device may send at once at full speed."
    )
    rejected_per_device: int = Field(
        1000,
        ge=1,
        description="Rejected messages kept per device; beyond it that device's oldest are "
        "deleted and counted (GET /api/v1/rejected/dropped).",
    )
    rejected_max_age_days: int = Field(
        90,
        ge=1,
        description="Rejected messages older than this are deleted, hourly, and counted.",
    )
    max_rating_age_days: int = Field(
        400,
        description="Older, with no live-Status estimate: dated by receipt, flagged time_unknown.",
    )
    future_tolerance_s: int = Field(
        300,
        description="Further ahead, with no live-Status estimate: dated by receipt, time_unknown.",
    )
    policy_file: Path | None = Field(
        None,
        description="The evaluation policy (TOML, versioned): minimum ratings, misuse rules, "
        "classification, alerts. Empty: the shipped default, a local example (docs/policy.md).",
    )
    alert_webhook_url: str = Field(
        "",
        description="POST each new alert as JSON to this URL (e.g. a chat bot or the province's "
        "monitoring); empty: alerts are only shown in the dashboard and API.",
    )
    chain_key_file: Path | None = Field(
        None,
        description="The secret (32 random bytes, hex) that keys the ratings' hash chain; kept "
        "outside the database, mode 0600. Empty: <data_dir>/chain.key, made at first start. "
        "Every server and ingest process needs the same file. Back it up: without it no chain "
        "can be verified.",
    )
    anchor_file: Path | None = Field(
        None,
        description="The chain heads of each daily anchor and of every clean stop, one MACed "
        "JSON line each, appended to this file outside the database (mode 0600), for `hailong "
        "verify` to catch ratings removed with their chain heads rolled back. Empty: beside "
        "the chain key, named after it (<data_dir>/chain-anchors.jsonl). Keep a copy off the "
        "database host.",
    )
    anchor_webhook_url: str = Field(
        "",
        description="Also POST each of those anchor lines as JSON to this URL (another host "
        "that keeps them); a failed POST is logged and tried again at the next anchor. Empty: "
        "the file only.",
    )
    public_url: str = Field(
        "",
        description="The address citizens' phones open rating links at (e.g. "
        "https://hailong.example.gov.vn), printed on QR cards and sent with each served "
        "ticket. Empty: the address the request came to.",
    )
    rating_link_days: int = Field(
        7, ge=1, description="How long a served ticket's rating link takes a rating."
    )
    card_ratings_per_address: int = Field(
        3,
        ge=1,
        description="Ratings one address may give through one counter's printed QR card in a "
        "day (Vietnam time); more are refused politely.",
    )
    signin_max_failures: int = Field(
        5, ge=1, description="Wrong PINs or cards in a row that lock a unit's sign-in."
    )
    signin_lock_s: int = Field(60, ge=1, description="How long a unit's sign-in stays locked.")
    data_dir: Path = Field(
        Path("./hailong-data"),
        description="Where `hailong up` keeps files, and every server process its MQTT client "
        "token (mqtt-client-token).",
    )

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "HAILONG_SECRET_KEY is still the default: set a long random value in production"
            )
        return self

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Settings:
        """A console command's: `--data-dir` names the folder, and the database is the one in it
        (hailong.db) unless HAILONG_DATABASE_URL names another."""
        settings = cls(data_dir=data_dir)
        if settings.database_url and "database_url" in settings.model_fields_set:
            return settings
        url = f"sqlite:///{data_dir.resolve() / 'hailong.db'}"
        return settings.model_copy(update={"database_url": url})


def settings_table() -> list[tuple[str, str, str]]:
    """(variable, default, help) for every option: the one source of --help and the README."""
    prefix = Settings.model_config.get("env_prefix", "")
    return [
        (f"{prefix}{name}".upper(), str(field.default), field.description or "")
        for name, field in Settings.model_fields.items()
    ]
