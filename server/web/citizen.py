"""The citizen's rating link, `/r/<token>`: GET shows the page, POST (a plain HTML form) takes
the level, asks the reasons after a low one, stores the rating and sends the browser to the
thank-you (`?sent=1`), so a reload does not post twice. No login, no app, no cookie.

No CSRF token either, on purpose: there is no session or cookie a forged cross-site post could
ride on. The only credential is the link's own token, in the path; whoever has it may rate
directly, so a page elsewhere posting it gains nothing it did not already hold.

The pages carry their own Content-Security-Policy (default-src 'none': nothing is loaded from
anywhere, the one style block allowed by its hash), which the server's guard keeps.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.channels import web
from server.channels.web import LinkRefused
from server.ingest.store import IngestRules
from server.web import citizen_page
from server.web.api.deps import NowDep, SessionDep, SettingsDep, client_address

citizen = APIRouter(include_in_schema=False)


def _html(page: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(page, status_code=status, headers=citizen_page.HEADERS)


def _refused(problem: LinkRefused) -> HTMLResponse:
    return _html(citizen_page.refusal_page(problem), problem.status)


@citizen.get("/r/{token}")
def rating_page(
    token: str,
    session: SessionDep,
    now: NowDep,
    sent: Annotated[bool, Query()] = False,
) -> Response:
    try:
        invite = web.invitation(session, token, now)
    except LinkRefused as problem:
        if sent and problem.kind == "used":
            return _html(citizen_page.thanks_page())
        return _refused(problem)
    if sent and invite.card:
        return _html(citizen_page.thanks_page())
    return _html(citizen_page.rating_page(invite))


@citizen.post("/r/{token}")
def rate(
    token: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    score: Annotated[str | None, Form()] = None,
    reasons: Annotated[list[str] | None, Form()] = None,
    comment: Annotated[str | None, Form()] = None,
    step: Annotated[str | None, Form(description="send or skip, from the reasons page")] = None,
) -> Response:
    try:
        invite = web.invitation(session, token, now)
    except LinkRefused as problem:
        return _refused(problem)
    try:
        level = web.parse_score(score)
    except LinkRefused as problem:
        return _html(citizen_page.rating_page(invite, problem), problem.status)
    try:
        answer = web.parse_answer(level, reasons or [], comment)
    except LinkRefused as problem:
        page = citizen_page.reasons_page(invite, level, tuple(reasons or []), comment, problem)
        return _html(page, problem.status)
    if step is None and web.needs_reasons(answer.score):
        return _html(citizen_page.reasons_page(invite, answer.score))
    if step == "skip":
        answer = web.Answer(answer.score)
    rules: IngestRules = request.app.state.ingest_rules
    try:
        web.take_rating(
            session,
            rules,
            token,
            answer,
            address=client_address(request) or "unknown",
            now=now,
            per_address=settings.card_ratings_per_address,
        )
    except LinkRefused as problem:
        return _refused(problem)
    session.commit()
    # relative, so it stays right behind a proxy that serves the server under a path
    return RedirectResponse(f"{token}?sent=1", status_code=303, headers=citizen_page.HEADERS)
