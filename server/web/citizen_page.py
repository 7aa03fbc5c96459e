"""The citizen's rating page as HTML: small, self-contained and readable by anyone.

Written for an old Android browser and an elderly citizen: no script at all (a low score opens
a second page with the reasons, a plain form post), no web fonts, no images from anywhere (the
faces are inline SVG), one column of large targets (at least 64 px high), high contrast, and
every text in Vietnamese with its English under it. Each level is its colour, its face and its
word, the same colours as the counter unit's (device/layout.py `LEVELS`; a test keeps them
equal). The style is one constant block, allowed by its hash in the page's own policy.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from hailong.protocol import SCALES
from server.channels.web import COMMENT_MAX, SCALE, Invitation, LinkRefused
from server.storage.reasons import REASONS

# The unit's level colours (fill, ink) and the mouth's curve, from device/layout.py LEVELS.
LEVELS: dict[int, tuple[str, str, float]] = {
    1: ("#c62828", "#ffffff", -1.0),
    2: ("#f9a825", "#141414", 0.0),
    3: ("#7cb342", "#141414", 0.6),
    4: ("#1b5e20", "#ffffff", 1.0),
}

STYLE = (
    "body{margin:0;background:#f3f6f9;color:#111;"
    "font-family:Roboto,'Noto Sans','DejaVu Sans',Arial,sans-serif;font-size:18px;"
    "line-height:1.35}"
    ".top{background:#0a203c;color:#fff;padding:14px 16px}"
    ".top p{margin:0 0 4px}.unit{font-size:20px;font-weight:bold}"
    ".en{display:block;font-size:14px;font-weight:normal;opacity:.85}"
    "main{padding:12px 14px 24px;max-width:560px;margin:0 auto}"
    "h1{font-size:22px;margin:8px 0 12px}"
    ".lv{display:block;width:100%;min-height:76px;margin:0 0 12px;padding:8px 12px;"
    "border:3px solid #0003;border-radius:12px;font:inherit;font-size:21px;font-weight:bold;"
    "text-align:left;cursor:pointer}"
    ".lv svg{float:left;margin:0 14px 0 0}"
    ".lv .en{font-size:15px;opacity:1}"
    ".rs{display:block;min-height:64px;margin:0 0 10px;padding:10px 12px 10px 56px;"
    "position:relative;background:#fff;border:2px solid #345;border-radius:10px;"
    "box-sizing:border-box}"
    ".rs input{position:absolute;left:14px;top:18px;width:28px;height:28px;margin:0}"
    "label.c{display:block;margin:14px 0 6px;font-weight:bold}"
    "textarea{display:block;width:100%;box-sizing:border-box;min-height:96px;font:inherit;"
    "padding:8px;border:2px solid #345;border-radius:8px}"
    ".go{display:block;width:100%;min-height:64px;margin:14px 0 0;border:0;border-radius:12px;"
    "font:inherit;font-size:21px;font-weight:bold;background:#1b5e20;color:#fff}"
    ".skip{background:#3c4e68}"
    ".back{display:block;margin:18px 0 0;padding:14px 0;color:#0b5394;font-weight:bold}"
    ".msg{background:#fff;border-radius:12px;padding:18px;border:2px solid #345}"
    ".ok{border-color:#1b5e20}.ok h1{color:#1b5e20}"
    ".err{background:#fdecea;color:#8a1c1c;padding:10px 12px;border-radius:8px}"
) + "".join(f".l{n}{{background:{fill};color:{ink}}}" for n, (fill, ink, _) in LEVELS.items())
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# A browser of CSP level 2 or later ignores 'unsafe-inline' beside a hash; an old one that
# knows no hashes needs it to show the style at all.
POLICY = (
    "default-src 'none'; "
    f"style-src 'unsafe-inline' '{STYLE_HASH}'; "
    "img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {"Content-Security-Policy": POLICY, "Cache-Control": "no-store"}


def _text(vi: str, en: str) -> str:
    return f'{escape(vi)}<span class="en">{escape(en)}</span>'


def _face(smile: float) -> str:
    """A face drawn in the button's ink: corners and middle of the mouth set by `smile`."""
    corner = 21 - 1.5 * smile
    middle = corner + 8 * smile
    return (
        '<svg width="52" height="52" viewBox="0 0 32 32" aria-hidden="true">'
        '<circle cx="16" cy="16" r="14" fill="none" stroke="currentColor" stroke-width="2.4"/>'
        '<circle cx="11" cy="12.5" r="2" fill="currentColor"/>'
        '<circle cx="21" cy="12.5" r="2" fill="currentColor"/>'
        f'<path d="M9 {corner:g} Q16 {middle:g} 23 {corner:g}" fill="none" '
        'stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>'
    )


def _page(title: str, header: str, body: str) -> str:
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"{header}<main>{body}</main></body></html>"
    )


def _header(invite: Invitation) -> str:
    lines = [
        f'<p class="unit">{escape(invite.unit_name)}</p>',
        f"<p>{escape(invite.counter_name)}</p>",
    ]
    if invite.ticket is not None:
        lines.append(
            f"<p>{_text(f'Giao dịch số {invite.ticket}', f'Transaction {invite.ticket}')}</p>"
        )
    if invite.officer_name:
        lines.append(
            "<p>"
            + _text(
                f"Cán bộ phục vụ: {invite.officer_name}",
                f"Serving officer: {invite.officer_name}",
            )
            + "</p>"
        )
    return f'<header class="top">{"".join(lines)}</header>'


def _error(problem: LinkRefused | None) -> str:
    if problem is None:
        return ""
    return f'<p class="err" role="alert">{_text(problem.vi, problem.en)}</p>'


def rating_page(invite: Invitation, problem: LinkRefused | None = None) -> str:
    """The four levels as big buttons of one form; a tap posts the level."""
    scale = SCALES[SCALE]
    buttons = []
    for level in range(1, scale.size + 1):
        _fill, _ink, smile = LEVELS[level]
        buttons.append(
            f'<button class="lv l{level}" type="submit" name="score" value="{level}">'
            f"{_face(smile)}{_text(scale.labels_vi[level - 1], scale.labels_en[level - 1])}"
            "</button>"
        )
    body = (
        f"<h1>{_text('Xin vui lòng đánh giá', 'Please rate our service')}</h1>{_error(problem)}"
        f'<form method="post" action="{escape(invite.token)}">{"".join(buttons)}</form>'
    )
    return _page("Đánh giá mức độ hài lòng", _header(invite), body)


def reasons_page(
    invite: Invitation,
    score: int,
    chosen: tuple[str, ...] = (),
    comment: str | None = None,
    problem: LinkRefused | None = None,
) -> str:
    """After a low score: what to improve (the unit's reasons), an optional comment, Gửi or
    Bỏ qua; the level rides along in a hidden field. Nothing is stored before this is sent."""
    scale = SCALES[SCALE]
    boxes = "".join(
        '<label class="rs"><input type="checkbox" name="reasons" '
        f'value="{escape(r.code)}"{" checked" if r.code in chosen else ""}>'
        f"{_text(r.label_vi, r.label_en)}</label>"
        for r in REASONS
    )
    chose = _text(
        f"Quý khách đã chọn: {scale.labels_vi[score - 1]}",
        f"You chose: {scale.labels_en[score - 1]}",
    )
    body = (
        f"<p>{chose}</p>"
        f"<h1>{_text('Chúng tôi cần cải thiện điều gì?', 'What should we improve?')}</h1>"
        f"{_error(problem)}"
        f'<form method="post" action="{escape(invite.token)}">'
        f'<input type="hidden" name="score" value="{score}">'
        f"{boxes}"
        f'<label class="c" for="comment">'
        f"{_text('Góp ý thêm (không bắt buộc)', 'Comment (optional)')}</label>"
        f'<textarea id="comment" name="comment" maxlength="{COMMENT_MAX}" rows="4">'
        f"{escape(comment or '')}</textarea>"
        f'<button class="go" type="submit" name="step" value="send">{_text("Gửi", "Send")}'
        "</button>"
        f'<button class="go skip" type="submit" name="step" value="skip">'
        f"{_text('Bỏ qua', 'Skip')}</button></form>"
        f'<a class="back" href="{escape(invite.token)}">'
        f"{_text('‹ Chọn lại mức đánh giá', '‹ Choose another level')}</a>"
    )
    return _page("Đánh giá mức độ hài lòng", _header(invite), body)


def thanks_page() -> str:
    body = (
        '<div class="msg ok">'
        f"<h1>{_text('Cảm ơn quý khách!', 'Thank you!')}</h1>"
        "<p>"
        + _text(
            "Ý kiến của quý khách đã được ghi nhận và giúp chúng tôi phục vụ tốt hơn.",
            "Your rating has been recorded and helps us serve you better.",
        )
        + "</p></div>"
    )
    return _page("Cảm ơn quý khách", _plain_header(), body)


def refusal_page(problem: LinkRefused) -> str:
    """An unknown, expired or used link, or a card over its limit: said politely."""
    kind = " ok" if problem.kind == "used" else ""
    body = f'<div class="msg{kind}"><h1>{_text(problem.vi, problem.en)}</h1></div>'
    return _page("Đánh giá mức độ hài lòng", _plain_header(), body)


def _plain_header() -> str:
    return (
        '<header class="top"><p class="unit">'
        f"{_text('Đánh giá mức độ hài lòng', 'Citizen satisfaction rating')}</p></header>"
    )
