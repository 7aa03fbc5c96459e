"""`hailong server`, `ingest`, `up` and `demo`: the server's long-running programs."""

from __future__ import annotations

import argparse

import uvicorn

from hailong.errors import HailongError
from server import ingest_process
from server.broker.pki import PkiFiles
from server.settings import Settings
from system import up
from system.demo import DemoFleet
from system.web import create_app


def server(args: argparse.Namespace) -> int:
    if bool(args.tls_cert) != bool(args.tls_key):
        raise HailongError("give --tls-cert and --tls-key together")
    for path in (args.tls_cert, args.tls_key):
        if path and not path.is_file():
            raise HailongError(f"{path} is missing: see `hailong pki init --help`")
    uvicorn.run(
        create_app(),
        host=args.host,
        port=args.port,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
    )
    return 0


def ingest(_args: argparse.Namespace) -> int:
    return ingest_process.run(Settings())


def stack(args: argparse.Namespace) -> int:
    """`up`, and `demo` with a simulated fleet on top (the demo stays on loopback)."""
    if args.command == "demo":
        prepared = up.prepare(args.data_dir, args.http_port, args.mqtt_port)
        return up.run(prepared, DemoFleet(days=args.days, live_every=args.live_every).run)
    return up.run(up.prepare(args.data_dir, args.http_port, args.mqtt_port, network(args)))


def network(args: argparse.Namespace) -> up.Network:
    given = (args.tls_ca, args.tls_cert, args.tls_key)
    if any(given) and not all(given):
        raise HailongError("give --tls-ca, --tls-cert and --tls-key together")
    tls = (
        PkiFiles(ca_cert=args.tls_ca, server_cert=args.tls_cert, server_key=args.tls_key)
        if all(given)
        else None
    )
    return up.Network(
        bind=args.bind, mqtts_port=args.mqtts_port, tls=tls, public_host=args.public_host
    )
