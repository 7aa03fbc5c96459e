"""`hailong verify`: everything the reports read, proved in one consistent read of the database.

Three proofs, in this order: the hash chain proves every rating as the server stored it
(server/integrity/verify.py); a recount of every rollup family from those ratings, under the policy
in force (its misuse flags decide the `flagged` columns), proves the day, month and year counts the
API, dashboard and exports read (server/storage/rollups.py); and the external anchors prove that
no device's chain was cut back to an older head (server/integrity/anchors.py). The services family
is recounted from the service table, which is append-only but not chained: it is proved to match
that table, not that the table is as the queue system posted it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from server.integrity import anchors
from server.integrity.encoding import Progress
from server.integrity.verify import MAX_LISTED, VerifyReport, snapshot, verify_in
from server.reporting import recount
from server.storage.rollups import FAMILIES


@dataclass
class Proof:
    ratings: VerifyReport = field(default_factory=VerifyReport)
    months: int = 0
    families: tuple[str, ...] = ()
    rollups: list[str] = field(default_factory=list)  # the first MAX_LISTED
    rollup_count: int = 0
    outside: anchors.ExternalAnchors | None = None
    heads: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.ratings.ok and not self.rollup_count and not self.heads

    @property
    def problem_count(self) -> int:
        return self.ratings.problem_count + self.rollup_count + len(self.heads)


def prove(
    engine: Engine,
    key: bytes,
    counted: Collection[str],
    anchor_file: Path,
    *,
    require_anchors: bool = False,
    ratings_progress: Progress | None = None,
    months_progress: recount.Progress | None = None,
    officer_excluded: Collection[str] = recount.OFFICER_EXCLUDED,
) -> Proof:
    """The anchor file is read before the snapshot is taken: every head it holds was committed
    before it was written, so the snapshot holds it too, however busy ingest is."""
    proof = Proof(families=tuple(f.name for f in FAMILIES))
    outside = anchors.read(anchor_file, key)
    proof.outside = outside
    proof.heads += outside.problems
    proof.warnings += outside.unreadable
    if not outside.lines:
        missing = (
            f"no anchor file at {anchor_file}"
            if not outside.exists
            else f"no valid anchor in {anchor_file}"
        )
        text = (
            f"{missing}: nothing proves that no device's newest ratings were removed with its "
            "chain head put back (HAILONG_ANCHOR_FILE names the file)"
        )
        (proof.heads if require_anchors else proof.warnings).append(text)
    with snapshot(engine) as conn:
        verify_in(conn, key, proof.ratings, ratings_progress)
        try:
            proof.months, mismatches = recount.check_snapshot(
                conn, counted, months_progress, officer_excluded=officer_excluded
            )
        except (TypeError, ValueError) as exc:
            mismatches = []
            proof.rollup_count = 1
            proof.rollups.append(
                f"the rollups cannot be recounted ({exc}): a rating holds a value the server "
                "never stores"
            )
        proof.rollup_count += len(mismatches)
        proof.rollups += [m.describe() for m in mismatches[:MAX_LISTED]]
        proof.heads += anchors.check_heads(conn, outside)
    return proof
