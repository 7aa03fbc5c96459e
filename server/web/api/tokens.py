"""API tokens for machine clients (admin): list, make (the token shown once), revoke."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, status
from sqlmodel import Field, SQLModel

from hailong.errors import NotFound
from server.access import tokens
from server.storage.channels import ApiToken
from server.web.api.deps import AdminUser, SessionDep, client_address

tokens_api = APIRouter(prefix="/api/v1")


class TokenCreate(SQLModel):
    name: str = Field(max_length=64, description="the integration's name, e.g. queue-dh")
    scope: str = Field(default="services", max_length=16, description="what it may call")
    unit_id: str | None = Field(default=None, max_length=64, description="only this unit's")


class TokenPublic(SQLModel):
    """A token as listed: never the token itself, nor its hash."""

    name: str
    scope: str
    unit_id: str | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None
    routes: list[str]

    @classmethod
    def of(cls, row: ApiToken) -> TokenPublic:
        routes = [f"{m} {p}" for m, p in tokens.SCOPE_ROUTES.get(row.scope, ())]
        return cls.model_validate({**row.model_dump(exclude={"token_hash"}), "routes": routes})


class TokenMade(TokenPublic):
    token: str = Field(description="shown this once: copy it into the integration now")


@tokens_api.get("/tokens")
def list_tokens(session: SessionDep, _: AdminUser) -> list[TokenPublic]:
    return [TokenPublic.of(row) for row in tokens.list_tokens(session)]


@tokens_api.post("/tokens", status_code=201)
def create_token(
    data: TokenCreate, session: SessionDep, access: AdminUser, request: Request
) -> TokenMade:
    try:
        row, plain = tokens.add_token(
            session,
            data.name,
            data.scope,
            data.unit_id,
            created_by=access.username,
            role=access.role,
            client=client_address(request),
            now=datetime.now(UTC),
        )
    except tokens.TokenNameTaken as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except (NotFound, tokens.TokenError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return TokenMade.model_validate({**TokenPublic.of(row).model_dump(), "token": plain})


@tokens_api.post("/tokens/{name}/revoke")
def revoke_token(
    name: str, session: SessionDep, access: AdminUser, request: Request
) -> TokenPublic:
    try:
        row = tokens.revoke_token(
            session,
            name,
            revoked_by=access.username,
            role=access.role,
            client=client_address(request),
            now=datetime.now(UTC),
        )
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return TokenPublic.of(row)
