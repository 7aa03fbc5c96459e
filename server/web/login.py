"""The browser's way in: a login form that sets the token cookie, and a guard for /dashboard.

The dashboard is a WSGI app mounted inside the server, so the guard is plain ASGI around it:
the same users and tokens as the API, no second login system. The guard hands the user's Access
on in the ASGI scope under ACCESS_KEY (a2wsgi passes the scope as environ["asgi.scope"]), where
no request header can reach, and the dashboard scopes every figure by it.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.access import auth
from server.access.auth import AuthError, user_from_token
from server.access.roles import ACCESS_KEY, Access, Forbidden
from server.storage.models import User
from server.web.api.deps import TOKEN_COOKIE, NowDep, SessionDep, SettingsDep, client_address

router = APIRouter()
LOGIN_PATH = "/login"
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>Hài Lòng – Đăng nhập</title><style>
body{{font-family:system-ui,sans-serif;background:#f3f6f9;display:flex;justify-content:center;
align-items:center;min-height:100vh;margin:0}}
form{{background:#fff;padding:2rem 2.5rem;border-radius:10px;box-shadow:0 2px 12px #0002;
width:300px}}
h1{{margin:0 0 .2rem;color:#0b5394}} p.sub{{margin:0 0 1.2rem;color:#666}}
label{{display:block;margin:.8rem 0 .2rem}} input{{width:100%;padding:.5rem;box-sizing:border-box}}
button{{margin-top:1.2rem;width:100%;padding:.6rem;background:#0b5394;color:#fff;border:0;
border-radius:6px;font-size:1rem}} .err{{color:#b00020}}</style></head><body>
<form method="post" action="/login"><h1>Hài Lòng</h1>
<p class="sub">Đăng nhập · Sign in</p>{error}
<input type="hidden" name="next" value="{next}">
<label for="username">Tên đăng nhập · Username</label>
<input id="username" name="username" autocomplete="username" required>
<label for="password">Mật khẩu · Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Đăng nhập</button></form></body></html>"""


NOT_YOURS = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Hài Lòng</title></head><body style="font-family:system-ui,sans-serif;margin:2rem">
<p>Tài khoản này không được xem số liệu nào trên bảng điều khiển; hãy liên hệ quản trị viên.</p>
<p>This login may see no figures on the dashboard ({reason}).</p>
<form method="post" action="/logout"><button type="submit">Đăng xuất · Log out</button></form>
</body></html>"""

# A link that logs out would let any other site end a user's session with an <img>: a GET only
# offers the button, and the POST it sends passes the same-origin rule (server/web/security.py).
LOGOUT_PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Hài Lòng</title></head><body style="font-family:system-ui,sans-serif;margin:2rem">
<form method="post" action="/logout"><button type="submit">Đăng xuất · Log out</button></form>
<p><a href="/dashboard/">Quay lại · Back</a></p>
</body></html>"""


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/dashboard/"


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(next: str = "/dashboard/") -> HTMLResponse:
    return HTMLResponse(PAGE.format(error="", next=html.escape(_safe_next(next))))


@router.post("/login", include_in_schema=False)
def login_submit(
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    now: NowDep,
    username: str = Form(),
    password: str = Form(),
    next: str = Form("/dashboard/"),
) -> Response:
    """The API's login, rate limit and audit, answered as the form again with the reason."""
    try:
        user = auth.login(
            session,
            username,
            password,
            client=client_address(request),
            now=now,
            secret_key=settings.secret_key,
        )
    except AuthError as exc:
        error = f'<p class="err">{html.escape(str(exc))}</p>'
        page = PAGE.format(error=error, next=html.escape(_safe_next(next)))
        if isinstance(exc, auth.TooManyLogins):
            headers = {"Retry-After": str(exc.retry_after_s)}
            return HTMLResponse(page, status_code=429, headers=headers)
        return HTMLResponse(page, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        TOKEN_COOKIE,
        auth.issue_token(user, settings.secret_key, settings.token_minutes),
        max_age=settings.token_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
    )
    return response


@router.get("/logout", response_class=HTMLResponse, include_in_schema=False)
def logout_page() -> HTMLResponse:
    return HTMLResponse(LOGOUT_PAGE)


@router.post("/logout", include_in_schema=False)
def logout(session: SessionDep, settings: SettingsDep, request: Request) -> Response:
    """End the cookie's login on the server too, so a copy of the token is refused from now."""
    token = request.cookies.get(TOKEN_COOKIE)
    if token:
        auth.logout(session, token, settings.secret_key, client=client_address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(TOKEN_COOKIE)
    return response


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    return RedirectResponse("/dashboard/", status_code=307)


class LoginRequired:
    """Let a request through to the wrapped app only with a valid token cookie of a login that
    may see some figures, and tell the app who it is (ACCESS_KEY)."""

    def __init__(self, app: ASGIApp, engine: Engine, secret: str, home: str) -> None:
        self.app = app
        self.home = home
        self.engine = engine
        self.secret = secret

    def _user(self, scope: Scope) -> User | None:
        headers = dict(scope.get("headers") or [])
        cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
        morsel = cookie.get(TOKEN_COOKIE)
        if morsel is None:
            return None
        with Session(self.engine) as session:
            try:
                return user_from_token(session, morsel.value, self.secret)
            except AuthError:
                return None

    def _admit(self, scope: Scope) -> Access | Response:
        """The user's Access; else to the login form without a valid token, or a 403 page for
        an unknown role or a scoped role without its unit or officer, which would see nothing."""
        user = self._user(scope)
        if user is None:
            return RedirectResponse(f"/login?next={quote(self.home)}", status_code=303)
        access = Access.of(user)
        try:
            access.unit_scope(None)
            access.officer_scope(None)
        except Forbidden as exc:
            return HTMLResponse(NOT_YOURS.format(reason=html.escape(str(exc))), status_code=403)
        return access

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            admitted = self._admit(scope)
            if isinstance(admitted, Response):
                await admitted(scope, receive, send)
                return
            scope = {**scope, ACCESS_KEY: admitted}
        await self.app(scope, receive, send)
