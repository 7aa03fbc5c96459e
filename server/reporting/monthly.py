"""The printable monthly report of one unit, in Vietnamese: HTML in the form of an
administrative document (Nghị định 30/2020/NĐ-CP; its letterhead from
server/reporting/letterhead.py) that prints on A4 from any browser and is the source of the PDF
(server/reporting/monthly_pdf.py), with its charts drawn as inline SVG, so it needs no script.

Its figures are those of server/reporting/reports.py (the officers' report and the unit's own row),
so the paper, the API and the spreadsheets agree. Every report made is audited with its policy
version and the SHA-256 of its content, like every other export.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from sqlmodel import Session, select

from hailong.errors import UnknownId
from server.access import audit
from server.policy import Policy
from server.reporting import report_json, reports
from server.reporting.channel_labels import CHANNELS
from server.reporting.letterhead import letterhead, province_phrase
from server.reporting.periods import Period, parse_period
from server.reporting.scoring import NOT_ENOUGH_DATA_VI
from server.reporting.vietnamese import NO_VALUE, number, signed
from server.storage import flags
from server.storage.models import Unit, User
from server.storage.reasons import REASONS
from server.timeutil import VN_TZ

ACTIONS = {"html": "export.monthly.html", "pdf": "export.monthly.pdf"}
SATISFIED_COLOR = "#15803d"
UNRANKED_COLOR = "#94a3b8"
INTERVAL_COLOR = "#0f172a"
GRID_COLOR = "#cbd5e1"


def parse_month(text: str) -> Period:
    """A month written 2026-10; anything else is a ValueError saying so."""
    period = parse_period(text)
    if period.kind != "month":
        raise ValueError(f"{text!r} is not a month; write it as 2026-10")
    return period


@dataclass(frozen=True)
class Monthly:
    """What the monthly report shows: the unit's officers and the unit's own row (every rating
    pressed at its counters, the change against the month before), its days and the policy."""

    unit: Unit
    policy: Policy
    officers: reports.Report
    totals: reports.Report
    days: list[reports.DayRow]

    def content(self) -> dict[str, Any]:
        """The report's figures as JSON, for its SHA-256."""
        return {
            "unit": {"id": self.unit.id, "name": self.unit.name},
            "officers": self.officers.as_dict(),
            "totals": self.totals.as_dict(),
            "days": [{"day": d.day.isoformat(), **_day_dict(d)} for d in self.days],
        }


def _day_dict(day: reports.DayRow) -> dict[str, Any]:
    return report_json.row_dict(reports.Row(day.day.isoformat(), "", "", None, day.figures), None)


def monthly(
    session: Session, unit_id: str, month: Period, policy: Policy, *, include_flagged: bool = False
) -> Monthly:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise UnknownId(f"unit {unit_id!r} does not exist; GET /api/v1/units lists them")
    officers = reports.report(
        session, reports.Query("officer", month, unit_id, include_flagged=include_flagged), policy
    )
    totals = reports.report(
        session, reports.Query("unit", month, unit_id, include_flagged=include_flagged), policy
    )
    days = reports.daily_report(
        session, month.start, month.end, unit_id, include_flagged=include_flagged
    )
    return Monthly(unit, policy, officers, totals, days)


# --- text for the page (numbers: server/reporting/vietnamese.py) ------------------------------


def interval(low: float | None, high: float | None) -> str:
    return NO_VALUE if low is None or high is None else f"{number(low)} – {number(high)}"


def vn_time(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


# --- charts -----------------------------------------------------------------------------------


def _text(x: float, y: float, body: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(body)}</text>'


def officers_chart(rows: Sequence[Mapping[str, Any]]) -> Markup:
    """Horizontal bars of satisfied % per officer with ratings, its 95 % Wilson interval as a
    line across the bar's end; officers below the policy minimum in grey."""
    shown = [r for r in rows if r["ratings"]]
    label_w, bar_w, value_w, row_h, top = 210, 420, 70, 22, 24
    width, height = label_w + bar_w + value_w, top + row_h * len(shown) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="chart" '
        'aria-label="Tỷ lệ hài lòng theo cán bộ">'
    ]
    for pct in (0, 25, 50, 75, 100):
        x = label_w + bar_w * pct / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 6}" '
            f'stroke="{GRID_COLOR}" stroke-width="0.6"/>'
        )
        parts.append(_text(x, top - 10, f"{pct} %", text_anchor="middle", font_size="9"))
    for i, row in enumerate(shown):
        y = top + i * row_h
        share = row["satisfied_pct"] or 0.0
        color = SATISFIED_COLOR if row["ranked"] else UNRANKED_COLOR
        name = row.get("name") or row.get("officer_id") or ""
        parts.append(_text(label_w - 6, y + 14, name[:34], text_anchor="end", font_size="10"))
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{bar_w * share / 100:.1f}" height="13" '
            f'fill="{color}"/>'
        )
        if row["wilson_low"] is not None:
            x1 = label_w + bar_w * row["wilson_low"] / 100
            x2 = label_w + bar_w * row["wilson_high"] / 100
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y + 10.5}" x2="{x2:.1f}" y2="{y + 10.5}" '
                f'stroke="{INTERVAL_COLOR}" stroke-width="1.2"/>'
            )
            for x in (x1, x2):
                parts.append(
                    f'<line x1="{x:.1f}" y1="{y + 6}" x2="{x:.1f}" y2="{y + 15}" '
                    f'stroke="{INTERVAL_COLOR}" stroke-width="1.2"/>'
                )
        parts.append(_text(label_w + bar_w + 6, y + 14, f"{number(share)} %", font_size="10"))
    parts.append("</svg>")
    return Markup("".join(parts))


def days_chart(month: Period, days: Sequence[reports.DayRow]) -> Markup:
    """Satisfied % per day of the month as columns, the day's ratings under its number; days
    without ratings stay empty, never a 0 % column."""
    by_day = {d.day: d.figures for d in days}
    count = month.days
    left, top, plot_h, col_w = 34, 10, 150, 21
    width, height = left + col_w * count + 6, top + plot_h + 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" class="chart" '
        'aria-label="Tỷ lệ hài lòng theo ngày">'
    ]
    for pct in (0, 50, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 6}" y2="{y:.1f}" '
            f'stroke="{GRID_COLOR}" stroke-width="0.6"/>'
        )
        parts.append(_text(left - 4, y + 3, f"{pct} %", text_anchor="end", font_size="9"))
    for i in range(count):
        day = month.start + timedelta(days=i)
        x = left + i * col_w
        fig = by_day.get(day)
        if fig is not None and fig.satisfied_pct is not None:
            h = plot_h * fig.satisfied_pct / 100
            parts.append(
                f'<rect x="{x + 3}" y="{top + plot_h - h:.1f}" width="{col_w - 6}" '
                f'height="{h:.1f}" fill="{SATISFIED_COLOR}"><title>{day:%d/%m}: '
                f"{number(fig.satisfied_pct)} % ({fig.ratings} đánh giá)</title></rect>"
            )
        mid, below = x + col_w / 2, top + plot_h
        parts.append(_text(mid, below + 12, str(day.day), text_anchor="middle", font_size="9"))
        if fig is not None:
            parts.append(
                _text(mid, below + 24, str(fig.ratings), text_anchor="middle",
                      font_size="7", fill="#64748b")
            )  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))


# --- the page ---------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("server.reporting", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=number, signed=signed)
    env.globals.update(interval=interval, NO_VALUE=NO_VALUE)
    return env


def _table_order(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Ranked officers by rank, then the others by name, as the registry lists them."""
    ranked = sorted((r for r in rows if r["ranked"]), key=lambda r: r["rank"])
    return [*ranked, *(r for r in rows if not r["ranked"])]


def _reasons(total: Mapping[str, Any]) -> list[dict[str, Any]]:
    labels = {r.code: (r.label_vi, r.label_en) for r in REASONS}
    return [
        {
            "vi": labels.get(code, (code, code))[0],
            "en": labels.get(code, (code, code))[1],
            "count": total["reason_counts"][code],
            "share": share,
        }
        for code, share in total["reasons"].items()
    ]


def flag_rows(counts: Mapping[str, int], policy: Policy) -> list[dict[str, Any]]:
    """A report row's count per flag, with its labels and whether the policy left those
    ratings out of the scores: what the reviewer needs to see why figures are what they are."""
    return [
        {
            "name": name,
            "vi": flags.BY_NAME[name].label_vi if name in flags.BY_NAME else name,
            "en": flags.BY_NAME[name].label_en if name in flags.BY_NAME else name,
            "count": n,
            "left_out": name in policy.misuse.count,
            "officer_excluded": name in policy.channels.officer_excluded,
        }
        for name, n in counts.items()
    ]


def basis(row: Mapping[str, Any]) -> str | None:
    """The rule behind an officer's suggested class without the class's name, which the cell
    already prints above it."""
    found = row.get("classification")
    if not found:
        return None
    rule: str = found["rule"]
    return rule.removeprefix(f"{found['label_vi']}: ")


@dataclass(frozen=True)
class Run:
    """Which run made a report: its audit event, when, by whom, and its content's digest."""

    run_id: int | None
    generated_at: datetime
    generated_by: str
    sha256: str


def render(m: Monthly, run: Run) -> str:
    officers = m.officers.as_dict()
    totals = m.totals.as_dict()
    (unit_row,) = totals["rows"]
    rows = _table_order(officers["officers"])
    policy = m.policy
    period = m.officers.query.period
    template = _environment().get_template("monthly_report.html")
    return template.render(
        unit=m.unit,
        head=letterhead(m.unit, run.generated_at),
        province=province_phrase(m.unit.province),
        month_words=f"tháng {period.start.month} năm {period.start.year}",
        period=period,
        previous=m.officers.previous,
        include_flagged=m.officers.query.include_flagged,
        policy=policy,
        rules=[(rule.label_vi, rule.text("vi")) for rule in policy.classification],
        run=run,
        generated_at=vn_time(run.generated_at),
        officers=[
            {**row, "flag_rows": flag_rows(row["flags"], policy), "basis": basis(row)}
            for row in rows
        ],
        unit_row=unit_row,
        unit_flags=flag_rows(unit_row["flags"], policy),
        channels=[(c.label_vi, c.label_en, unit_row["channels"].get(c.input, 0)) for c in CHANNELS],
        reasons=_reasons(unit_row),
        not_enough=NOT_ENOUGH_DATA_VI,
        officers_chart=officers_chart(rows),
        days_chart=days_chart(m.officers.query.period, m.days),
    )


def export(
    session: Session,
    unit_id: str,
    month: Period,
    policy: Policy,
    *,
    actor: str,
    role: str | None,
    client: str | None,
    include_flagged: bool = False,
    fmt: str = "html",
) -> str:
    """Build, audit and render one unit's month; the caller commits the audit event. `fmt`
    names what the page leaves as ("html", or "pdf" when it is made into one) in the audit."""
    m = monthly(session, unit_id, month, policy, include_flagged=include_flagged)
    sha256 = report_json.digest(m.content())
    event = audit.record(
        session,
        actor,
        ACTIONS[fmt],
        role=role,
        target=f"unit:{unit_id}",
        client=client,
        detail={
            "unit_id": unit_id,
            "month": month.text,
            "include_flagged": include_flagged,
            "policy_version": policy.version,
            "sha256": sha256,
        },
    )
    session.flush()  # the event's id is the run id printed on the page
    return render(m, Run(event.id, event.at, maker(session, actor), sha256))


def maker(session: Session, actor: str) -> str:
    """Who made the report as the page prints it: the person's full name with their login,
    "Nguyễn Thị Lan (phongnoivu)", or the login alone when the registry has no name for it."""
    user = session.exec(select(User).where(User.username == actor)).first()
    return f"{user.full_name} ({actor})" if user is not None and user.full_name else actor
