"""The shape of the tree: the layer rules of docs/architecture.md hold, and modules stay small.

The rules themselves are import-linter contracts in pyproject.toml; this test runs them, and checks
that the page a newcomer reads lists the same layers as the contracts that are enforced.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hailong", "device", "server", "dashboard", "system", "devtools", "bench")
MAX_LINES = 400

# Modules that stay longer than MAX_LINES because they do one job that needs it.
LONG_ON_PURPOSE = {
    "hailong/protocol.py": "the wire contract in one module, as docs/protocol.md is one page",
    "server/storage/models.py": "the schema: the tables and the API shapes that inherit from them",
    "device/unit.py": "the unit's one state machine, from a press to the outbox and the screen",
    "bench/ingest.py": "one benchmark: its scenarios, each beside its baseline",
    "bench/reports.py": "one benchmark: its scenarios, each beside its baseline",
}


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["importlinter"]["contracts"])


def test_the_import_rules_hold() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("contract", _contracts(), ids=lambda c: str(c["id"]))
def test_the_architecture_page_shows_the_enforced_rules(contract: dict[str, object]) -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    if contract["type"] != "layers":
        said = " ".join(page.split()).lower()
        assert str(contract["name"]).lower() in said, f"the page does not say: {contract['name']}"
        return
    block = re.search(rf"```text layers:{contract['id']}\n(.*?)```", page, re.S)
    assert block, f"docs/architecture.md has no ```text layers:{contract['id']} block"
    shown = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [line for line in shown if line] == contract["layers"]


def test_the_architecture_page_names_files_that_exist() -> None:
    """Paths on the page are from the repository's root, or from server/ inside its sections."""
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([\w/]+\.(?:py|md|toml))", page))
    missing = [
        p for p in sorted(named) if not (ROOT / p).exists() and not (ROOT / "server" / p).exists()
    ]
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def _modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_every_package_says_what_it_owns() -> None:
    silent = [
        str(path.relative_to(ROOT))
        for path in _modules()
        if path.name == "__init__.py" and not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert not silent, f"packages without a docstring: {silent}"


def test_modules_stay_small() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in _modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    unexplained = {name: n for name, n in long.items() if name not in LONG_ON_PURPOSE}
    assert not unexplained, f"over {MAX_LINES} lines: {unexplained}; split them or say why"
    stale = sorted(set(LONG_ON_PURPOSE) - set(long))
    assert not stale, f"no longer long, drop them from LONG_ON_PURPOSE: {stale}"
