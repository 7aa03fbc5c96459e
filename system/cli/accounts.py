"""`hailong user add`, `broker init` and `pki init`: the first accounts and the certificates,
made at the console."""

from __future__ import annotations

import argparse
import json
import sys

from sqlmodel import Session, select

from hailong.errors import HailongError
from server.access import audit
from server.access.auth import add_user
from server.broker import pki
from server.broker.mosquitto import dynsec_document
from server.storage.models import User
from system.cli import console


def user_add(args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\r\n")
    engine = console.runtime(args).engine
    with Session(engine) as session:
        known = session.exec(select(User.id).where(User.username == args.name)).first()
        audit.record(  # committed by add_user, with the user
            session,
            audit.CONSOLE,
            "user.reset" if known is not None else "user.create",
            target=args.name,
            client=console.client(),
            detail={"role": args.role, "unit_id": args.unit, "officer_id": args.officer},
        )
        user = add_user(
            session,
            args.name,
            password,
            args.role,
            args.unit,
            args.officer,
            full_name=args.full_name,
        )
    scope = f", unit {user.unit_id}" if user.unit_id else ""
    print(f"user {user.username!r} saved with role {user.role}{scope}")
    return 0


def broker_init(args: argparse.Namespace) -> int:
    if args.dynsec_file.exists():
        raise HailongError(f"{args.dynsec_file} exists already: it holds the device accounts")
    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 12:
        raise HailongError("give the server's MQTT account a password of 12 characters or more")
    args.dynsec_file.write_text(json.dumps(dynsec_document(args.user, password), indent=1))
    args.dynsec_file.chmod(0o600)
    print(f"wrote {args.dynsec_file}; make it owned by the user Mosquitto runs as")
    return 0


def pki_init(args: argparse.Namespace) -> int:
    files, made_ca = pki.init(args.data_dir / "pki", args.name, args.address)
    print(
        f"{'made' if made_ca else 'kept'} the CA {files.ca_cert} (its key {files.ca_key}, 0600: "
        "keep it off the network)"
    )
    print(
        f"wrote the server certificate {files.server_cert} and key {files.server_key} for: "
        + ", ".join(pki.certificate_hosts(files.server_cert))
    )
    return 0
