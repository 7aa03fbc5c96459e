"""A plain JSON POST to a webhook, and the check of a webhook's URL at start.

Alerts are delivered and chain anchors published through it; it sits below both, so neither
imports the other to reach a webhook."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from hailong.errors import ConfigError

TIMEOUT_S = 5.0

Post = Callable[[str, bytes], int]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without its body: report it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, body: bytes) -> int:
    """POST `body` as UTF-8 JSON; the HTTP status, or OSError (or http.client.HTTPException
    for a garbled answer) when no answer came."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "hailong"},
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT_S) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def webhook_url(url: str, setting: str) -> str:
    """`url`, the value of `setting`, checked once at start: only http and https, with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{setting} must be an http:// or https:// URL with a host, such as "
            "https://chat.example.gov.vn/hooks/hailong; leave it empty for no webhook"
        )
    return url
