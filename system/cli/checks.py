"""`hailong rollups` and `hailong verify`: recount and prove what the server stored."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import DBAPIError

from server.integrity import anchors, proof
from server.reporting import recount
from system.cli import console


def rollups(args: argparse.Namespace) -> int:
    def progress(done: int, total: int, month: object) -> None:
        print(f"  {done}/{total} months ({month:%Y-%m})", file=sys.stderr, flush=True)

    runtime = console.runtime(args)
    policy = runtime.policy  # a bad file: a clear PolicyError
    counted, apart = policy.misuse.count, policy.channels.officer_excluded
    with console.database_errors():
        if args.action == "rebuild":
            total = recount.rebuild(runtime.engine, counted, progress, officer_excluded=apart)
            print(f"rollups rebuilt from {total} ratings")
            return 0
        mismatches = recount.check(runtime.engine, counted, progress, officer_excluded=apart)
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


def verify(args: argparse.Namespace) -> int:
    runtime = console.runtime(args)
    settings = runtime.settings
    key = runtime.chain_key_as_found()
    policy = runtime.policy  # a bad file: a clear PolicyError
    console.require_database(settings)
    shown = -100

    def ratings(done: int, total: int) -> None:
        nonlocal shown
        percent = 100 * done // max(total, 1)
        if percent >= shown + 5 or (percent >= 100 > shown):
            shown = percent
            print(f"  {done}/{total} ratings", file=sys.stderr, flush=True)

    def months(done: int, total: int, month: object) -> None:
        print(f"  {done}/{total} months of rollups ({month:%Y-%m})", file=sys.stderr, flush=True)

    with console.database_errors(DBAPIError):
        found = proof.prove(
            runtime.database_as_found(),
            key,
            policy.misuse.count,
            anchors.anchor_path(settings),
            officer_excluded=policy.channels.officer_excluded,
            require_anchors=args.require_anchors,
            ratings_progress=ratings,
            months_progress=months,
        )
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
