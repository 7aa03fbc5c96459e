"""`hailong`: one command, a subcommand per job.

Imports are lazy so that a unit installed with only the `device` extra runs without server deps.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from hailong.errors import HailongError

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
        "--officer",
        help="the officer whose own figures an officer's login sees (the unit is the officer's)",
    )
    _data_dir_arg(add)

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

    p = sub.add_parser("report", help="write a printable report")
    report_sub = p.add_subparsers(dest="report_command", required=True, metavar="REPORT")
    monthly = report_sub.add_parser(
        "monthly",
        help="one unit's month as an A4 HTML page to print (or print to PDF from a browser)",
        description="The same page as GET /api/v1/reports/units/UNIT/monthly: the officers' "
        "table, charts, reasons and totals, with the policy version (HAILONG_POLICY_FILE). "
        "Audited like every export. The database is HAILONG_DATABASE_URL, or DATA_DIR/hailong.db.",
    )
    monthly.add_argument("--unit", required=True, help="the unit's id")
    monthly.add_argument("--month", required=True, help="the month, e.g. 2026-10")
    monthly.add_argument("--out", type=Path, help="the HTML file to write (default: stdout)")
    monthly.add_argument(
        "--include-flagged",
        action="store_true",
        help="count ratings flagged as misuse in the figures too",
    )
    _data_dir_arg(monthly)
    return parser


def _database_url(data_dir: Path) -> str:
    return (
        os.environ.get("HAILONG_DATABASE_URL") or f"sqlite:///{data_dir.resolve() / 'hailong.db'}"
    )


def _user_add(args: argparse.Namespace) -> int:
    import socket

    from sqlmodel import Session, select

    from server.access import audit
    from server.access.auth import add_user
    from server.storage.db import make_engine, migrate
    from server.storage.models import User

    password = sys.stdin.readline().rstrip("\r\n")
    engine = make_engine(_database_url(args.data_dir))
    migrate(engine)
    with Session(engine) as session:
        known = session.exec(select(User.id).where(User.username == args.name)).first()
        audit.record(  # committed by add_user, with the user
            session,
            audit.CONSOLE,
            "user.reset" if known is not None else "user.create",
            target=args.name,
            client=f"hailong on {socket.gethostname()}",
            detail={"role": args.role, "unit_id": args.unit, "officer_id": args.officer},
        )
        user = add_user(session, args.name, password, args.role, args.unit, args.officer)
    scope = f", unit {user.unit_id}" if user.unit_id else ""
    print(f"user {user.username!r} saved with role {user.role}{scope}")
    return 0


def _rollups(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from server.policy import load_policy
    from server.reporting import rollups
    from server.settings import Settings
    from server.storage.db import make_engine, migrate

    def progress(done: int, total: int, month: object) -> None:
        print(f"  {done}/{total} months ({month:%Y-%m})", file=sys.stderr, flush=True)

    url = _database_url(args.data_dir)
    counted = load_policy(Settings().policy_file).misuse.count  # a bad file: a clear PolicyError
    try:
        engine = make_engine(url)
        migrate(engine)
        if args.action == "rebuild":
            total = rollups.rebuild(engine, counted, progress)
            print(f"rollups rebuilt from {total} ratings")
            return 0
        mismatches = rollups.check(engine, counted, progress)
    except OperationalError as exc:
        raise HailongError(f"cannot use the database: {exc.orig}") from exc
    for m in mismatches[:50]:
        print(m.describe())
    if len(mismatches) > 50:
        print(f"… and {len(mismatches) - 50} more")
    if mismatches:
        print(
            f"{len(mismatches)} rollup row(s) differ from the ratings; "
            "`hailong rollups rebuild` recounts them"
        )
        return 1
    print("rollups match the ratings")
    return 0


def _listed(first: str, problems: list[str], count: int) -> None:
    print(f"{first}: {problems[0]}")
    for problem in problems[1:20]:
        print(f"  {problem}")
    if count > 20:
        print(f"  … and {count - 20} more")


def _verify(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from server.integrity import anchors, chain, proof
    from server.policy import load_policy
    from server.settings import Settings
    from server.storage.db import make_engine

    url = _database_url(args.data_dir)
    settings = Settings(data_dir=args.data_dir)
    key = chain.load_key(chain.key_path(settings))
    counted = load_policy(settings.policy_file).misuse.count  # a bad file: a clear PolicyError
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise HailongError(
            f"no database at {parsed.database}: give --data-dir the folder that holds "
            "hailong.db, or set HAILONG_DATABASE_URL"
        )
    shown = -100

    def ratings(done: int, total: int) -> None:
        nonlocal shown
        percent = 100 * done // max(total, 1)
        if percent >= shown + 5 or (percent >= 100 > shown):
            shown = percent
            print(f"  {done}/{total} ratings", file=sys.stderr, flush=True)

    def months(done: int, total: int, month: object) -> None:
        print(f"  {done}/{total} months of rollups ({month:%Y-%m})", file=sys.stderr, flush=True)

    try:
        found = proof.prove(
            make_engine(url),
            key,
            counted,
            anchors.anchor_path(settings),
            require_anchors=args.require_anchors,
            ratings_progress=ratings,
            months_progress=months,
        )
    except DBAPIError as exc:
        raise HailongError(f"cannot use the database: {exc.orig}") from exc
    report = found.ratings
    if report.ok:
        print(
            f"verified {report.checked} ratings of {report.devices} devices: "
            "no rating was altered, inserted or removed"
        )
    else:
        _listed("first broken link", report.problems, report.problem_count)
    if found.rollup_count:
        _listed("first differing rollup row", found.rollups, found.rollup_count)
    else:
        print(
            f"verified the rollups ({', '.join(found.families)}) of {found.months} months: "
            "every day, month and year row equals a recount of the ratings under the policy in "
            "force; services are recounted from the service table, append-only but not chained"
        )
    outside = found.outside
    if found.heads:
        _listed("external anchors", found.heads, len(found.heads))
    elif outside is not None and outside.lines:
        print(
            f"verified the chain heads against {outside.lines} external anchors in "
            f"{outside.path} (the latest at {outside.latest}): no device's chain went back"
        )
    for warning in found.warnings:
        print(f"warning: {warning}")
    if found.ok:
        return 0
    count = found.problem_count
    print(
        f"{count} problem{'s' if count > 1 else ''}: the ratings and the counts reports read "
        "are not all as the server stored them"
    )
    return 1


def _report_monthly(args: argparse.Namespace) -> int:
    import socket

    from sqlalchemy.exc import OperationalError
    from sqlmodel import Session

    from server.access import audit
    from server.policy import load_policy
    from server.reporting import monthly as monthly_report
    from server.settings import Settings
    from server.storage.db import make_engine, migrate

    month = monthly_report.parse_month(args.month)
    policy = load_policy(Settings().policy_file)
    try:
        engine = make_engine(_database_url(args.data_dir))
        migrate(engine)
        with Session(engine) as session:
            page = monthly_report.export(
                session,
                args.unit,
                month,
                policy,
                actor=audit.CONSOLE,
                role=None,
                client=f"hailong on {socket.gethostname()}",
                include_flagged=args.include_flagged,
            )
            session.commit()
    except OperationalError as exc:
        raise HailongError(f"cannot use the database: {exc.orig}") from exc
    if args.out is None:
        sys.stdout.write(page)
    else:
        args.out.write_text(page, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _broker_init(args: argparse.Namespace) -> int:
    import json

    from server.broker.mosquitto import dynsec_document

    if args.dynsec_file.exists():
        raise HailongError(f"{args.dynsec_file} exists already: it holds the device accounts")
    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 12:
        raise HailongError("give the server's MQTT account a password of 12 characters or more")
    args.dynsec_file.write_text(json.dumps(dynsec_document(args.user, password), indent=1))
    args.dynsec_file.chmod(0o600)
    print(f"wrote {args.dynsec_file}; make it owned by the user Mosquitto runs as")
    return 0


def _server(args: argparse.Namespace) -> int:
    import uvicorn

    from server.web.app import create_app

    uvicorn.run(create_app(), host=args.host, port=args.port)
    return 0


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
        if args.command == "device":
            from device.main import run as run_device

            return run_device(args.config)
        if args.command == "server":
            return _server(args)
        if args.command == "ingest":
            from server import ingest_process
            from server.settings import Settings

            return ingest_process.run(Settings())
        if args.command in ("up", "demo"):
            from system import up

            stack = up.prepare(args.data_dir, args.http_port, args.mqtt_port)
            if args.command == "up":
                return up.run(stack)
            from system.demo import DemoFleet

            return up.run(stack, DemoFleet(days=args.days, live_every=args.live_every).run)
        if args.command == "fleet":
            from system import fleet

            return fleet.run(
                args.data_dir,
                args.count,
                args.rate,
                http_port=args.http_port,
                mqtt_port=args.mqtt_port,
            )
        if args.command == "broker":
            return _broker_init(args)
        if args.command == "user":
            return _user_add(args)
        if args.command == "rollups":
            return _rollups(args)
        if args.command == "report":
            return _report_monthly(args)
        if args.command == "verify":
            return _verify(args)
    except HailongError as exc:
        print(f"hailong: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"hailong: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
