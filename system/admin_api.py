"""Just enough of a client for the server's HTTP API to register units as an administrator would.

Standard library only, so `hailong demo` and the simulated fleet (`hailong fleet`, which runs
with only the device extra installed) use the very API a person would.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from hailong.errors import HailongError

TIMEOUT_S = 30.0


class ApiError(HailongError):
    """The API answered with an error (`status`), or could not be reached (`status` is None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def fetch(request: urllib.request.Request | str, timeout: float = TIMEOUT_S) -> bytes:
    """The answer's body; ApiError for an error status or an unreachable server."""
    url = request if isinstance(request, str) else request.full_url
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise ApiError(f"{url} answered {exc.code}: {detail}", exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ApiError(f"{url} cannot be reached: {reason}") from None


def fetch_json(request: urllib.request.Request | str, timeout: float = TIMEOUT_S) -> Any:
    """The decoded JSON answer; ApiError for an error status or an unreachable server."""
    body = fetch(request, timeout)
    try:
        return json.loads(body)
    except ValueError:
        url = request if isinstance(request, str) else request.full_url
        raise ApiError(f"{url} did not answer JSON; is it a Hài Lòng server?") from None


class AdminApi:
    """Logged in at construction; every call raises ApiError rather than returning one."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        form = urllib.parse.urlencode({"username": username, "password": password}).encode()
        token = fetch_json(urllib.request.Request(f"{base_url}/api/v1/auth/token", data=form))
        self.token = str(token["access_token"])

    def get(self, path: str) -> Any:
        return fetch_json(urllib.request.Request(f"{self.base_url}{path}", headers=self._auth()))

    def post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **self._auth()},
        )
        return dict(fetch_json(request))

    def download(self, path: str) -> bytes:
        """POST with no body, for an answer that is a file (a device's bundle)."""
        request = urllib.request.Request(
            f"{self.base_url}{path}", data=b"", method="POST", headers=self._auth()
        )
        return fetch(request)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}
