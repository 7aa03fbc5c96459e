"""Machine tokens at the door: a request carrying an API token (`hlt_…`, server/access/tokens.py)
is a machine's, and is let through only to the routes of the token's scope.

Checked here, before any route, rather than in each route's dependency, so that no route can
forget it: the API, the login form, the dashboard and any route added later all answer a
machine token the same way. Unknown or revoked: 401. Valid, on any route outside its scope:
403 with the routes it may use, never a success. Valid, on its route: the route reads the
`Machine` from the request's scope (`MACHINE_KEY`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from http.cookies import SimpleCookie
from typing import Any

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from server.access.tokens import Machine, is_machine_token, machine_for
from server.web.security import ASGIApp, Scope

MACHINE_KEY = "hailong.machine"


def presented_token(scope: Scope, cookie: str) -> str | None:
    """The machine token a request carries, in its Authorization header or the login cookie."""
    headers = Headers(scope=scope)
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and is_machine_token(value.strip()):
        return value.strip()
    morsel = SimpleCookie(headers.get("cookie", "")).get(cookie)
    if morsel is not None and is_machine_token(morsel.value):
        return morsel.value
    return None


class MachineGuard:
    def __init__(self, app: ASGIApp, *, cookie: str) -> None:
        self.app = app
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = presented_token(scope, self.cookie)
        if token is None:
            await self.app(scope, receive, send)
            return
        engine = scope["app"].state.engine
        machine = await run_in_threadpool(_lookup, engine, token)
        if machine is None:
            response = JSONResponse(
                {
                    "detail": "mã truy cập không đúng hoặc đã bị thu hồi; hãy xin quản trị viên "
                    "mã mới / unknown or revoked API token; ask an administrator for a new one"
                },
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        elif not machine.allows(scope["method"], scope["path"]):
            routes = machine.routes_text()
            response = JSONResponse(
                {
                    "detail": f"mã truy cập này chỉ dùng cho {routes} / "
                    f"this token is only for {routes}"
                },
                status_code=403,
            )
        else:
            scope[MACHINE_KEY] = machine
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def _lookup(engine: Any, token: str) -> Machine | None:
    with Session(engine) as session:
        return machine_for(session, token, datetime.now(UTC))
