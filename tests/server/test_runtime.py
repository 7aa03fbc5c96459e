"""One runtime per process: the policy file parsed once, the chain key read once, and the
HAILONG_* variables read by the settings alone."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server import policy as shipped_policy
from server.runtime import Runtime
from server.settings import Settings
from system.web import create_app

SHIPPED = Path(shipped_policy.__file__).parent / shipped_policy.DEFAULT_FILE
ROOT = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path) -> Settings:
    policy = tmp_path / "policy.toml"
    shutil.copy(SHIPPED, policy)
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'hailong.db'}",
        secret_key="k" * 40,
        data_dir=tmp_path,
        policy_file=policy,
    )


def _take_away_the_files(settings: Settings) -> None:
    """Whatever read them again from now on would fail."""
    assert settings.policy_file is not None
    settings.policy_file.unlink()
    (settings.data_dir / "chain.key").rename(settings.data_dir / "chain.key.elsewhere")


def test_an_ingest_process_reads_its_policy_and_key_once(tmp_path: Path) -> None:
    runtime = Runtime.open(_settings(tmp_path))
    _take_away_the_files(runtime.settings)
    rules = runtime.ingest_rules
    assert rules.misuse == runtime.policy.misuse
    assert rules.chain_key == runtime.chain_key
    with runtime.running():
        pass


def test_the_server_and_its_dashboard_read_the_policy_and_key_once(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path), ingest=False)
    _take_away_the_files(app.state.settings)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/login").status_code == 200


def test_a_console_commands_database_is_in_its_data_dir_unless_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HAILONG_DATABASE_URL", raising=False)
    folder = tmp_path / "data"
    assert Settings.for_data_dir(folder).database_url == f"sqlite:///{folder.resolve()}/hailong.db"
    monkeypatch.setenv("HAILONG_DATABASE_URL", "postgresql+psycopg://x@db.example/hailong")
    named = Settings.for_data_dir(folder)
    assert named.database_url == "postgresql+psycopg://x@db.example/hailong"
    assert named.data_dir == folder


def test_no_module_reads_a_hailong_variable_but_the_settings() -> None:
    read = re.compile(r"(environ|getenv)\b[^\n]{0,20}[\"']HAILONG_")
    for package in ("hailong", "device", "server", "dashboard", "system"):
        for path in (ROOT / package).rglob("*.py"):
            assert not read.search(path.read_text(encoding="utf-8")), path


def test_a_server_process_makes_its_data_folder_private(tmp_path: Path) -> None:
    """`hailong server` and `hailong ingest` under systemd, not only `up`: the folder holds the
    chain key and the secrets."""
    settings = _settings(tmp_path)
    settings.data_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    settings.data_dir.chmod(0o755)
    runtime = Runtime.open(settings)
    assert settings.data_dir.stat().st_mode & 0o777 == 0o700
    runtime.engine.dispose()
