"""`hailong server`, `ingest`, `up` and `demo`: the server's long-running programs."""

from __future__ import annotations

import argparse

import uvicorn

from server import ingest_process
from server.settings import Settings
from system import up
from system.demo import DemoFleet
from system.web import create_app


def server(args: argparse.Namespace) -> int:
    uvicorn.run(create_app(), host=args.host, port=args.port)
    return 0


def ingest(_args: argparse.Namespace) -> int:
    return ingest_process.run(Settings())


def stack(args: argparse.Namespace) -> int:
    """`up`, and `demo` with a simulated fleet on top."""
    prepared = up.prepare(args.data_dir, args.http_port, args.mqtt_port)
    if args.command == "up":
        return up.run(prepared)
    return up.run(prepared, DemoFleet(days=args.days, live_every=args.live_every).run)
