"""Logging out revokes a token server-side; the prune job forgets revoked tokens once expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from sqlmodel import Session, select

from server.access import auth, sessions
from server.access.auth import AuthError
from server.housekeeping import housekeeping_jobs
from server.runtime import Runtime
from server.settings import Settings
from server.storage.models import AuditEvent, RevokedToken

SECRET = "s" * 40


@pytest.fixture
def session(tmp_path: Path) -> Session:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", secret_key=SECRET, data_dir=tmp_path
    )
    runtime = Runtime.open(settings)
    return Session(runtime.engine, expire_on_commit=False)


def test_logout_revokes_only_that_token_until_it_expires(session: Session) -> None:
    user = auth.add_user(session, "lan", "lan-password", "viewer")
    first = auth.issue_token(user, SECRET, 60)
    second = auth.issue_token(user, SECRET, 60)
    assert (
        jwt.decode(first, SECRET, algorithms=["HS256"])["jti"]
        != jwt.decode(second, SECRET, algorithms=["HS256"])["jti"]
    )

    assert auth.logout(session, first, SECRET, client="10.0.0.5") == "lan"
    assert auth.logout(session, first, SECRET, client="10.0.0.5") == "lan"  # twice: harmless
    with pytest.raises(AuthError, match="logged out"):
        auth.user_from_token(session, first, SECRET)
    assert auth.user_from_token(session, second, SECRET).username == "lan"
    assert auth.logout(session, "not-a-token", SECRET, client=None) is None
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "logout")).all()
    assert [(e.actor, e.client) for e in events] == [("lan", "10.0.0.5")] * 2

    (row,) = session.exec(select(RevokedToken)).all()
    exp = jwt.decode(first, SECRET, algorithms=["HS256"])["exp"]
    assert row.expires_at == datetime.fromtimestamp(exp, UTC)
    assert sessions.prune(session, row.expires_at - timedelta(seconds=1)) == 0
    assert sessions.prune(session, row.expires_at) == 1
    assert session.exec(select(RevokedToken)).all() == []


def test_a_token_without_an_id_is_refused(session: Session) -> None:
    auth.add_user(session, "lan", "lan-password", "viewer")
    now = datetime.now(UTC)
    old = jwt.encode({"sub": "lan", "iat": now, "exp": now + timedelta(hours=1)}, SECRET)
    with pytest.raises(AuthError, match="older version"):
        auth.user_from_token(session, old, SECRET)


def test_the_housekeeping_prunes_revoked_tokens(tmp_path: Path, session: Session) -> None:
    settings = Settings(database_url="sqlite://", secret_key=SECRET, data_dir=tmp_path)
    runtime = Runtime.open(settings)
    (job,) = [
        j
        for j in housekeeping_jobs(settings, runtime.policy, b"k" * 32)
        if j.name == "sessions.prune"
    ]
    now = datetime.now(UTC)
    sessions.revoke(session, "gone", now - timedelta(minutes=1))
    sessions.revoke(session, "kept", now + timedelta(minutes=1))
    session.commit()
    job.run(session, now)
    assert [r.jti for r in session.exec(select(RevokedToken)).all()] == ["kept"]
