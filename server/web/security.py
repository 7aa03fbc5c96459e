"""What every answer of the web server carries, and which requests it refuses before any route.

- Security headers on every response (API, login page, dashboard): a Content-Security-Policy
  (unless the route set its own, as the citizen's rating page does: a stricter one),
  `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`.
  The policy allows scripts from the server itself plus the exact inline scripts given by hash
  (the dashboard's renderer start-up); Dash's page config is an inline JSON data block, which a
  policy does not run. Styles may be inline: the login page and the dashboard's components use
  them. FastAPI's /docs and /redoc pages load from their CDN and run an inline start-up script.
- Cross-site request refusal: a state-changing request (POST, PUT, PATCH, DELETE) carrying the
  login cookie, and the login form's POST, must come from a page of this server: its `Origin`
  (or, without one, its `Referer`) must be the request's own scheme://host[:port]. A request
  with an `Authorization: Bearer` header is let through: a browser never adds that header by
  itself, and a page of another site cannot add it without this server's CORS consent, which
  it never gives. Behind a reverse proxy, the proxy must pass the `Host` header on and uvicorn
  must trust its `X-Forwarded-Proto` (`--forwarded-allow-ips`), so the request's own origin is
  the one the browser sees.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "https": 443}
DOCS_CDN = "https://cdn.jsdelivr.net"  # where FastAPI's /docs and /redoc load their scripts


def content_security_policy(script_hashes: Sequence[str] = (), *, docs: bool = False) -> str:
    """The policy of every page; `script_hashes` ('sha256-…', quoted as CSP writes them) are
    inline scripts allowed to run; `docs`: the looser policy of the API documentation pages."""
    scripts = ["'self'", *script_hashes]
    styles = ["'self'", "'unsafe-inline'"]
    images = ["'self'", "data:", "blob:"]
    if docs:
        scripts = ["'self'", "'unsafe-inline'", DOCS_CDN]
        styles.append(DOCS_CDN)
        images.append("https://fastapi.tiangolo.com")
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {' '.join(scripts)}",
            f"style-src {' '.join(styles)}",
            f"img-src {' '.join(images)}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _origin(url: str) -> str | None:
    """scheme://host[:port] of a URL, lower case and without the scheme's default port; None
    for anything that is no http(s) origin (`null`, garbage)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6
    return host_origin(scheme, host, port)


def host_origin(scheme: str, host: str, port: int | None) -> str:
    if port is None or port == DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def own_origin(scope: Scope) -> str | None:
    """The origin the request was sent to: its scheme and its Host header."""
    host = Headers(scope=scope).get("host")
    if not host:
        return None
    return _origin(f"{scope.get('scheme', 'http')}://{host}")


def cross_site_problem(scope: Scope, cookie: str, login_path: str) -> str | None:
    """Why this request is refused as cross-site, or None to let it through."""
    if scope.get("method") not in STATE_CHANGING:
        return None
    connection = HTTPConnection(scope)
    authorization = connection.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return None  # no ambient credential
    if cookie not in connection.cookies and scope.get("path") != login_path:
        return None  # no login the request could act with
    own = own_origin(scope)
    sent = connection.headers.get("origin")
    named = "Origin"
    if sent is None:
        sent, named = connection.headers.get("referer"), "Referer"
    if sent is None:
        return (
            "refused: a state-changing request with the login cookie must name this server "
            "in its Origin or Referer header (send the token as 'Authorization: Bearer' "
            "from scripts)"
        )
    if own is None or _origin(sent) != own:
        return (
            f"refused as cross-site: {named} {sent!r} is not this server "
            f"({own or 'no Host header'}); log in and act from this server's own pages"
        )
    return None


class WebGuard:
    """ASGI middleware around the whole app (the mounted dashboard included): refuses
    cross-site state-changing requests with 403 and adds the security headers to every
    response, the refusals' too."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cookie: str,
        login_path: str,
        script_hashes: Sequence[str] = (),
        docs_paths: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.cookie = cookie
        self.login_path = login_path
        self.docs_paths = frozenset(docs_paths)
        common = {
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        }
        self.headers = {
            **common,
            "Content-Security-Policy": content_security_policy(script_hashes),
        }
        self.docs_headers = {
            **common,
            "Content-Security-Policy": content_security_policy(docs=True),
        }

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self.docs_headers if scope.get("path") in self.docs_paths else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                found = MutableHeaders(scope=message)
                for name, value in headers.items():
                    if name == "Content-Security-Policy" and name in found:
                        continue  # a page's own, stricter policy (the citizen's rating page)
                    found[name] = value
            await send(message)

        problem = cross_site_problem(scope, self.cookie, self.login_path)
        if problem is not None:
            refusal = JSONResponse({"detail": problem}, status_code=403)
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
