"""Is something listening there (asked by `hailong up`, `hailong fleet` and the tests alike), and
a free port to listen on."""

from __future__ import annotations

import socket


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    with socket.socket() as s:
        s.settimeout(timeout)
        return s.connect_ex((host, port)) == 0


_HANDED_OUT: set[int] = set()  # free_port's answers so far


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on `host` now, never one this process was given before: the kernel may hand
    one port out twice in a row, so a web and a broker port asked for together could clash."""
    while True:
        with socket.socket() as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
