"""Annotated dependencies so that routes stay short: the session, the settings, the clock,
the user and what they may see."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from server.access.auth import AuthError, user_from_token
from server.access.roles import ADMINISTER, READ_REGISTRY, Access
from server.access.tokens import Machine
from server.settings import Settings
from server.storage.models import User
from server.web.machine import MACHINE_KEY

TOKEN_COOKIE = "hailong_token"
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def now() -> datetime:
    """The clock of the login rate limit; tests override this dependency to move time."""
    return datetime.now(UTC)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(now)]


def client_address(request: Request) -> str | None:
    """Where a request came from, for the audit log and the login rate limit: the peer address.
    X-Forwarded-For is not read here, since any client can write one; behind a reverse proxy,
    tell uvicorn to trust that proxy (`--forwarded-allow-ips`, which defaults to 127.0.0.1)
    and it puts the real client's address here."""
    return request.client.host if request.client else None


async def forbidden_response(request: Request, exc: Exception) -> JSONResponse:
    """`Forbidden`, from a dependency or a route body, as HTTP 403 with its message."""
    return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_403_FORBIDDEN)


async def validation_response(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 without the `input` it echoes: a refused new user's body, password
    included, would otherwise come back in the answer."""
    found = cast(RequestValidationError, exc).errors()
    errors = [{k: v for k, v in error.items() if k != "input"} for error in found]
    return JSONResponse(
        {"detail": jsonable_encoder(errors)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


def login_token(request: Request, bearer: Annotated[str | None, Depends(oauth2)]) -> str:
    """The request's login token: its `Authorization: Bearer` header, else the login cookie."""
    token = bearer or request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "log in first: POST /api/v1/auth/token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token


TokenDep = Annotated[str, Depends(login_token)]


def current_user(session: SessionDep, settings: SettingsDep, token: TokenDep) -> User:
    try:
        return user_from_token(session, token, settings.secret_key)
    except AuthError as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}
        ) from None


CurrentUser = Annotated[User, Depends(current_user)]


def current_access(user: CurrentUser) -> Access:
    return Access.of(user)


AccessDep = Annotated[Access, Depends(current_access)]  # any logged-in user


def require_role(roles: tuple[str, ...]) -> Callable[[Access], Access]:
    def check(access: AccessDep) -> Access:
        access.require(roles)
        return access

    return check


AdminUser = Annotated[Access, Depends(require_role(ADMINISTER))]
ReportUser = Annotated[Access, Depends(require_role(READ_REGISTRY))]  # registry reads


def queue_caller(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[str | None, Depends(oauth2)],
) -> Machine | Access:
    """The queue system's route is called by a token of the `services` scope (let through by
    server/web/machine.py, which put it in the request's scope) or by an admin's login (401
    without one, 403 for another role)."""
    machine: Machine | None = request.scope.get(MACHINE_KEY)
    if machine is not None:
        return machine
    access = Access.of(current_user(session, settings, login_token(request, bearer)))
    access.require(ADMINISTER)
    return access


QueueCaller = Annotated[Machine | Access, Depends(queue_caller)]
