"""`hailong`: one command, a subcommand per job.

This module is the parser; the commands live by concern in `programs` (server, ingest, up,
demo), `accounts` (user, broker), `tokens` (token, its parser too), `checks` (rollups, verify),
`schema` (migrate) and `report`.
Each is imported only when its command runs, so that a unit installed with only the `device`
extra runs `device` and `fleet` without the server's dependencies.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from hailong.errors import HailongError
from system.cli.tokens import add_parser as token_parser

DEFAULT_DATA_DIR = Path("./hailong-data")


def _data_dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder for the database, broker files, secrets and logs (default ./hailong-data)",
    )


def _stack_args(p: argparse.ArgumentParser) -> None:
    _data_dir_arg(p)
    p.add_argument("--http-port", type=int, default=8000, help="web and API port (default 8000)")
    p.add_argument("--mqtt-port", type=int, default=1883, help="MQTT port (default 1883)")


def _settings_help() -> str:
    try:
        from server.settings import settings_table
    except ImportError:
        return "settings: install the server extra (pip install 'hailong[server]') to list them"
    lines = ["settings (environment variables):"]
    for name, default, text in settings_table():
        lines.append(f"  {name} (default {default!r})\n      {text}")
    return "\n".join(lines)


class _ServerHelp(argparse.RawDescriptionHelpFormatter):
    """Lists the settings only when help is asked for: a unit never imports the server's."""

    def format_help(self) -> str:
        self.add_text(_settings_help())
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hailong", description="Hài Lòng: citizen-satisfaction ratings at service counters."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("device", help="run a counter unit (on the Raspberry Pi)")
    p.add_argument("--config", type=Path, required=True, help="the unit's device.toml")

    p = sub.add_parser(
        "server",
        help="run the collection server, configured from HAILONG_* variables",
        formatter_class=_ServerHelp,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on")
    p.add_argument(
        "--tls-cert",
        type=Path,
        help="serve HTTPS with this certificate (e.g. DATA_DIR/pki/server.crt); with --tls-key",
    )
    p.add_argument("--tls-key", type=Path, help="the certificate's key")

    sub.add_parser(
        "ingest",
        help="store ratings only, no API: one of several processes in a province",
        formatter_class=_ServerHelp,
        description="Receive ratings from the broker and store them, with no HTTP API. Run "
        "several with the same HAILONG_MQTT_SHARED_GROUP and their own HAILONG_MQTT_CLIENT_ID; "
        "run `hailong server` with HAILONG_INGEST=false for the API.",
    )

    p = sub.add_parser("up", help="start Mosquitto and the server together (one commune)")
    _stack_args(p)
    p.add_argument(
        "--bind",
        default="127.0.0.1",
        help="address to serve the dashboard and the units on (default 127.0.0.1: this machine "
        "only; 0.0.0.0: every address). Off 127.0.0.1 the dashboard is HTTPS and the units' "
        "MQTT is TLS only, with the certificate from `hailong pki init`; plain MQTT stays on "
        "127.0.0.1 for the server's own clients",
    )
    p.add_argument(
        "--mqtts-port", type=int, default=8883, help="the units' MQTT over TLS (default 8883)"
    )
    p.add_argument(
        "--public-host",
        help="the name or address units use to reach this server, written into their "
        "device.toml (default: --bind, or the certificate's first name when binding 0.0.0.0)",
    )
    p.add_argument("--tls-ca", type=Path, help="CA certificate (default DATA_DIR/pki/ca.crt)")
    p.add_argument(
        "--tls-cert", type=Path, help="server certificate (default DATA_DIR/pki/server.crt)"
    )
    p.add_argument("--tls-key", type=Path, help="its key (default DATA_DIR/pki/server.key)")

    p = sub.add_parser("demo", help="`up` plus a simulated fleet with 90 days of history")
    _stack_args(p)
    p.add_argument(
        "--days", type=int, default=90, help="days of history to send first (default 90)"
    )
    p.add_argument(
        "--live-every", type=float, default=3.0, help="seconds between live ratings (default 3)"
    )

    p = sub.add_parser(
        "fleet",
        help="run simulated counter units (the real unit code) against a running `up`",
        description="Run COUNT headless units of the real unit code against the `hailong up` "
        "that uses the same --data-dir, pressing RATE ratings per second in all. Units, device "
        "passwords and outboxes are kept under DATA_DIR/sim-fleet/, so the next run resumes "
        "them. Stop with Ctrl-C or SIGTERM.",
    )
    _stack_args(p)
    p.add_argument("--count", type=int, required=True, help="how many units")
    p.add_argument(
        "--rate", type=float, required=True, help="ratings per second, all units together"
    )

    p = sub.add_parser("broker", help="prepare a production Mosquitto for Hài Lòng")
    broker_sub = p.add_subparsers(dest="broker_command", required=True, metavar="ACTION")
    init = broker_sub.add_parser(
        "init", help="write the dynamic-security file with the server's own account"
    )
    init.add_argument("--dynsec-file", type=Path, required=True, help="file to create")
    init.add_argument("--user", default="hailong-server", help="the server's MQTT username")
    init.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the server's MQTT password from standard input",
    )

    p = sub.add_parser("pki", help="certificates for serving the office network over TLS")
    pki_sub = p.add_subparsers(dest="pki_command", required=True, metavar="ACTION")
    pki_init = pki_sub.add_parser(
        "init",
        help="make a local CA (kept if there) and a server certificate in DATA_DIR/pki",
        description="Make DATA_DIR/pki/ca.key (0600) and ca.crt once, then a server "
        "certificate (server.crt, server.key 0600) for the names and addresses units and "
        "browsers use to reach the server. Run it again to change them or renew: the CA is "
        "kept, so units already installed still trust the server.",
    )
    pki_init.add_argument(
        "--name", action="append", default=[], help="a DNS name of the server (repeatable)"
    )
    pki_init.add_argument(
        "--address", action="append", default=[], help="an IP address of the server (repeatable)"
    )
    _data_dir_arg(pki_init)

    p = sub.add_parser("user", help="manage dashboard and API users")
    user_sub = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser("add", help="add a user, or reset an existing user's password")
    add.add_argument("name", help="the login name")
    add.add_argument(
        "--role",
        required=True,
        choices=["admin", "hr", "unit_head", "officer", "viewer"],
        help="admin: registry, devices, users; hr: every unit, read and export; unit_head: "
        "their unit only; officer: their own figures only; viewer: figures without names",
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (so it stays out of shell history)",
    )
    add.add_argument("--unit", help="the unit a unit_head is limited to")
    add.add_argument(
        "--full-name",
        help="the person's name the dashboard's header shows, e.g. \"Nguyễn Thị Lan\" "
        "(default: the login name; kept when a user is reset without it)",
    )
    add.add_argument(
        "--officer",
        help="the officer whose own figures an officer's login sees (the unit is the officer's)",
    )
    _data_dir_arg(add)
    token_parser(sub, _data_dir_arg)

    p = sub.add_parser(
        "rollups",
        help="recount or verify the per-officer/day counts that reports read",
        description="Reports read counts kept per officer, counter and day (and month) in the "
        "same transaction as the ratings. `check` recounts them from the raw ratings and lists "
        "every difference (exit 1 if any); `rebuild` replaces them with the recount. Both work "
        "a month at a time and hold back ingest only for that month's moment. The database is "
        "HAILONG_DATABASE_URL, or DATA_DIR/hailong.db.",
    )
    p.add_argument("action", choices=["check", "rebuild"], help="what to do")
    _data_dir_arg(p)

    p = sub.add_parser(
        "verify",
        help="prove that the ratings, and the counts reports read, are as the server stored them",
        description="Recompute every device's hash chain from the stored ratings with the chain "
        "key, and compare it with the chain heads and the daily anchors in the audit log; "
        "recount every rollup (day, month and year counts the reports read) from those ratings "
        "under the policy in force (HAILONG_POLICY_FILE); compare the chain heads with the "
        "anchors kept outside the database (HAILONG_ANCHOR_FILE, or chain-anchors.jsonl beside "
        "the key). Exit 0 when all holds; otherwise the first problem of each kind is named and "
        "the exit status is 1. Nothing is written. The database is HAILONG_DATABASE_URL, or "
        "DATA_DIR/hailong.db; the key HAILONG_CHAIN_KEY_FILE, or DATA_DIR/chain.key.",
    )
    p.add_argument(
        "--require-anchors",
        action="store_true",
        help="fail when the anchor file is missing or holds no valid anchor (by default a "
        "warning: without it a rollback of a device's newest ratings cannot be seen)",
    )
    _data_dir_arg(p)

    p = sub.add_parser(
        "backup",
        help="write one archive of a running installation (database, accounts, secrets)",
        description="Write a tar.gz (mode 0600) with a consistent copy of the database "
        "(SQLite's online backup, or pg_dump for PostgreSQL), the broker's device accounts "
        "(broker/dynamic-security.json), secrets.json, the MQTT client token, the policy file "
        "(HAILONG_POLICY_FILE) if set, the external anchors and a manifest with the sha256 of "
        "each. The chain key only with --with-key: keep it apart from the backups. Safe while "
        "`hailong up` runs; progress on standard error.",
    )
    p.add_argument("--out", type=Path, required=True, help="the archive to write")
    p.add_argument(
        "--with-key",
        action="store_true",
        help="include the chain key (by default left out: store it in a separate place)",
    )
    p.add_argument(
        "--dynsec-file",
        type=Path,
        help="the broker's dynamic-security file, when Mosquitto keeps its own (`hailong "
        "broker init`); default DATA_DIR/broker/dynamic-security.json, as `hailong up` does",
    )
    _data_dir_arg(p)

    p = sub.add_parser(
        "restore",
        help="restore a `hailong backup` archive into a new, empty data folder",
        description="Check every member against the manifest's sha256, then write them into "
        "DATA_DIR (0700; secrets and database 0600) and the database into DATA_DIR/hailong.db, "
        "or with pg_restore into the empty PostgreSQL database of HAILONG_DATABASE_URL. "
        "Refuses a folder that is not empty and an archive that was altered.",
    )
    p.add_argument("archive", type=Path, help="the archive `hailong backup` wrote")
    p.add_argument(
        "--key",
        type=Path,
        help="the chain key file to restore with, when the archive was made without --with-key",
    )
    _data_dir_arg(p)

    p = sub.add_parser(
        "migrate",
        help="bring the database's schema to this version's (after installing a new version)",
        description="Apply the migrations this version has and the database lacks, printing "
        "each as it is applied. Every server start does the same; this command lets you see "
        "and do it first, after a backup (README, Upgrading). A database written by a newer "
        "version is refused unchanged (exit 2). The database is HAILONG_DATABASE_URL, or "
        "DATA_DIR/hailong.db.",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="list the migrations that would run (revision and title) and change nothing",
    )
    _data_dir_arg(p)

    p = sub.add_parser("report", help="write a printable report")
    report_sub = p.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    monthly = report_sub.add_parser(
        "monthly",
        help="one unit's month as an A4 administrative document (HTML to print, or a PDF)",
        description="The same document as GET /api/v1/reports/units/UNIT/monthly: the officers' "
        "table, charts, reasons and totals, with the policy version (HAILONG_POLICY_FILE). "
        "Audited like every export. The database is HAILONG_DATABASE_URL, or DATA_DIR/hailong.db.",
    )
    monthly.add_argument("--unit", required=True, help="the unit's id")
    monthly.add_argument("--month", required=True, help="the month, e.g. 2026-10")
    monthly.add_argument(
        "--out", type=Path, help="the file to write: a .pdf is a PDF, else HTML (default: stdout)"
    )
    monthly.add_argument(
        "--include-flagged",
        action="store_true",
        help="count ratings flagged as misuse in the figures too",
    )
    _data_dir_arg(monthly)
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.command == "device":
        from device.main import run as run_device

        return run_device(args.config)
    if args.command == "fleet":
        from system import fleet

        return fleet.run(
            args.data_dir, args.count, args.rate, http_port=args.http_port, mqtt_port=args.mqtt_port
        )
    if args.command == "server":
        from system.cli.programs import server

        return server(args)
    if args.command == "ingest":
        from system.cli.programs import ingest

        return ingest(args)
    if args.command in ("up", "demo"):
        from system.cli.programs import stack

        return stack(args)
    if args.command == "broker":
        from system.cli.accounts import broker_init

        return broker_init(args)
    if args.command == "pki":
        from system.cli.accounts import pki_init

        return pki_init(args)
    if args.command == "user":
        from system.cli.accounts import user_add

        return user_add(args)
    if args.command == "token":
        from system.cli.tokens import run as token

        return token(args)
    if args.command == "rollups":
        from system.cli.checks import rollups

        return rollups(args)
    if args.command == "migrate":
        from system.cli.schema import migrate

        return migrate(args)
    if args.command == "verify":
        from system.cli.checks import verify

        return verify(args)
    if args.command == "backup":
        from system.cli.backup import backup

        return backup(args)
    if args.command == "restore":
        from system.cli.backup import restore

        return restore(args)
    from system.cli.report import monthly

    return monthly(args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)
        if args.command in ("demo", "fleet"):
            logging.getLogger("device").setLevel(logging.WARNING)
    try:
        return _run(args)
    except HailongError as exc:
        print(f"hailong: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"hailong: {exc}", file=sys.stderr)
        return 2
