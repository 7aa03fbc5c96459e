"""Logging in and out through the API: a bearer token for scripts, and its end on the server."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from server.access import auth
from server.web.api.deps import (
    CurrentUser,
    NowDep,
    SessionDep,
    SettingsDep,
    TokenDep,
    client_address,
)

auth_api = APIRouter(prefix="/api/v1")


@auth_api.post("/auth/token")
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    now: NowDep,
) -> dict[str, str]:
    """429 with Retry-After after too many failed logins for the user or from the address."""
    try:
        user = auth.login(
            session,
            form.username,
            form.password,
            client=client_address(request),
            now=now,
            secret_key=settings.secret_key,
        )
    except auth.TooManyLogins as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            str(exc),
            headers={"Retry-After": str(exc.retry_after_s)},
        ) from None
    except auth.AuthError as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}
        ) from None
    return {
        "access_token": auth.issue_token(user, settings.secret_key, settings.token_minutes),
        "token_type": "bearer",
    }


@auth_api.post("/auth/logout", status_code=204)
def logout(
    user: CurrentUser, token: TokenDep, session: SessionDep, settings: SettingsDep, request: Request
) -> Response:
    """End this login on the server: its token (bearer or cookie) is refused from now on."""
    auth.logout(session, token, settings.secret_key, client=client_address(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
