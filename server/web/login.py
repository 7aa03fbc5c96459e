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
body{{font-family:"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",Arial,sans-serif;background:#f3f6f9;
display:flex;justify-content:center;align-items:center;min-height:100vh;margin:0}}
form{{background:#fff;padding:2rem 2rem;border-radius:10px;box-shadow:0 2px 12px #0002;
width:300px;max-width:calc(100vw - 3rem)}}
h1{{margin:0 0 .2rem;color:#0b5394}} p.sub{{margin:0 0 1.2rem;color:#333}}
.en{{display:block;font-size:.75em;color:#666;font-weight:normal}}
label{{display:block;margin:.8rem 0 .3rem;font-weight:600}}
input{{width:100%;padding:.5rem;box-sizing:border-box;font:inherit}}
button{{margin-top:1.2rem;width:100%;padding:.5rem;background:#0b5394;color:#fff;border:0;
border-radius:6px;font-size:1rem;font-weight:600}} button .en{{color:#dbe5f3}}
.err{{color:#b00020;margin:0 0 .6rem}} .err .en{{color:#b00020}}</style></head><body>
<form method="post" action="/login"><h1>Hài Lòng</h1>
<p class="sub">Đăng nhập<span class="en">Sign in</span></p>{error}
<input type="hidden" name="next" value="{next}">
<label for="username">Tên đăng nhập<span class="en">Username</span></label>
<input id="username" name="username" autocomplete="username" required>
<label for="password">Mật khẩu<span class="en">Password</span></label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Đăng nhập<span class="en">Sign in</span></button></form></body></html>"""

# The API's refusals (server/access/auth.py) are English, for programs; a person at the form
# reads them in Vietnamese first.
WRONG = "Sai tên đăng nhập hoặc mật khẩu. Vui lòng kiểm tra lại."
WHOSE = {"for this user": "với tài khoản này", "from this address": "từ máy này"}


ENDED = (
    '<p class="err" role="status">Phiên đăng nhập đã hết hạn hoặc không còn hiệu lực. '
    'Vui lòng đăng nhập lại.<span class="en">Your login has ended; please log in again.</span></p>'
)


def _vietnamese(exc: AuthError) -> str:
    if isinstance(exc, auth.TooManyLogins):
        whose = WHOSE.get(exc.whose, "")
        return (
            f"Đăng nhập sai quá nhiều lần {whose}. Vui lòng thử lại sau {exc.retry_after_s} giây."
        ).replace("  ", " ")
    return WRONG


def _error(exc: AuthError) -> str:
    """The refusal as the form shows it: Vietnamese, the English below."""
    english = str(exc)
    return (
        f'<p class="err" role="alert">{html.escape(_vietnamese(exc))}'
        f'<span class="en">{html.escape(english[:1].upper() + english[1:])}</span></p>'
    )


NOT_YOURS = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hài Lòng</title></head><body style="font-family:system-ui,sans-serif;margin:2rem">
<p>Tài khoản này chưa được phân quyền xem số liệu nào trên trang tổng hợp (vai trò chưa gắn với
đơn vị hoặc cán bộ). Vui lòng liên hệ quản trị viên.</p>
<p style="color:#555;font-size:.85em">This login may see no figures on the dashboard
({reason}).</p>
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
    """A path on this site, never another site's address ("//evil", "/\\evil" and "https:"
    are; browsers read a backslash as a slash)."""
    local = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if local and not any(ord(c) < 32 for c in target) else "/dashboard/"


def asked_for(scope: Scope, home: str) -> str:
    """The page a browser asked for, path and query, to come back to after logging in; `home`
    for anything but a page (a callback's POST, which cannot be reopened)."""
    if scope.get("method") != "GET":
        return home
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else quote(scope.get("path", ""))
    root = scope.get("root_path", "")
    if root and not path.startswith(root):
        path = root + path
    query = scope.get("query_string", b"").decode("latin-1")
    return _safe_next(f"{path}?{query}" if query else path)


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(next: str = "/dashboard/", ended: str | None = None) -> HTMLResponse:
    """The form; `ended` when the guard sent the browser here with a login that no longer
    holds (expired, logged out elsewhere, password changed), which the form then says."""
    notice = ENDED if ended else ""
    return HTMLResponse(PAGE.format(error=notice, next=html.escape(_safe_next(next))))


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
        page = PAGE.format(error=_error(exc), next=html.escape(_safe_next(next)))
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

    def _user(self, scope: Scope) -> User | bool:
        """The token cookie's user; False without a cookie, True with one that no longer
        holds (the form then says the login has ended)."""
        headers = dict(scope.get("headers") or [])
        cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
        morsel = cookie.get(TOKEN_COOKIE)
        if morsel is None:
            return False
        with Session(self.engine) as session:
            try:
                return user_from_token(session, morsel.value, self.secret)
            except AuthError:
                return True

    def _admit(self, scope: Scope) -> Access | Response:
        """The user's Access; else to the login form without a valid token, or a 403 page for
        an unknown role or a scoped role without its unit or officer, which would see nothing."""
        user = self._user(scope)
        if not isinstance(user, User):
            target = quote(asked_for(scope, self.home), safe="")
            ended = "&ended=1" if user else ""
            return RedirectResponse(f"{LOGIN_PATH}?next={target}{ended}", status_code=303)
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
