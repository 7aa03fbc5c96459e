"""Is something listening there: asked by `hailong up`, `hailong fleet` and the tests alike."""

from __future__ import annotations

import socket


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    with socket.socket() as s:
        s.settimeout(timeout)
        return s.connect_ex((host, port)) == 0
