"""`hailong backup` and `hailong restore`: one archive of an installation, and its way back."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version

from hailong.errors import HailongError
from server.broker.client_ids import TOKEN_FILE
from server.broker.pki import PkiFiles
from server.integrity.anchors import anchor_path
from server.integrity.key import key_path, load_key
from server.settings import Settings
from server.storage.backup import restore as restore_archive
from server.storage.backup import write_backup
from server.storage.secret_file import make_once

KEY = "chain.key"
ANCHORS = "chain-anchors.jsonl"
POLICY = "policy.toml"
SECRETS = "secrets.json"
ACCOUNTS = "broker/dynamic-security.json"
PKI = "pki"


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _version() -> str:
    try:
        return version("hailong")
    except PackageNotFoundError:
        return "unknown"


def backup(args: argparse.Namespace) -> int:
    settings = Settings.for_data_dir(args.data_dir)
    data_dir = settings.data_dir
    if not data_dir.is_dir():
        raise HailongError(f"{data_dir} is not a folder: give the --data-dir of `hailong up`")
    files = {
        SECRETS: data_dir / SECRETS,
        TOKEN_FILE: data_dir / TOKEN_FILE,
        ANCHORS: anchor_path(settings),
    }
    # The local CA signs the server's certificate that every unit trusts: without it a restored
    # server on the network would need every unit given a new CA.
    pki_files = PkiFiles.in_folder(data_dir / PKI)
    for path in (pki_files.ca_cert, pki_files.ca_key, pki_files.server_cert, pki_files.server_key):
        if path is not None and path.is_file():
            files[f"{PKI}/{path.name}"] = path
    if settings.policy_file is not None:
        if not settings.policy_file.is_file():
            raise HailongError(f"HAILONG_POLICY_FILE {settings.policy_file} does not exist")
        files[POLICY] = settings.policy_file
    if args.with_key:
        key = key_path(settings)
        if not key.is_file():
            raise HailongError(f"--with-key: there is no chain key at {key}")
        files[KEY] = key
    _say(f"backing up {data_dir} to {args.out}")
    manifest = write_backup(
        settings.database_url,
        files,
        {ACCOUNTS: args.dynsec_file or data_dir / ACCOUNTS},
        args.out,
        version=_version(),
        progress=_say,
    )
    members = manifest["members"]
    assert isinstance(members, dict)
    print(f"backup written: {args.out.resolve()} ({len(members)} members)")
    if not args.with_key:
        print(
            f"the chain key ({key_path(settings)}) is not in it: keep a copy of it elsewhere, "
            "`hailong verify` needs it"
        )
    return 0


def restore(args: argparse.Namespace) -> int:
    settings = Settings.for_data_dir(args.data_dir)
    data_dir = settings.data_dir.resolve()
    if not args.archive.is_file():
        raise HailongError(f"{args.archive} does not exist")
    key_given: bytes | None = None
    if args.key is not None:
        key_given = load_key(args.key)  # a bad key file: a clear error before anything is written
    _say(f"restoring {args.archive} into {data_dir}")
    done = restore_archive(
        args.archive,
        data_dir,
        settings.database_url,
        {KEY: key_path(settings), ANCHORS: anchor_path(settings)},
        progress=_say,
    )
    key = key_path(settings)
    if KEY in done.files:
        key_note = f"the chain key came from the archive ({key})"
    elif key_given is not None:
        if not make_once(key, key_given.hex):
            raise HailongError(f"{key} exists: the archive was restored, the key not copied")
        key_note = f"the chain key was copied from {args.key} to {key}"
    else:
        key_note = (
            f"the archive holds no chain key: put the installation's key at {key} (mode 0600), "
            "or restore again with --key; without it no chain can be verified and the server "
            "will not start"
        )
    print(f"restored into {data_dir}: {key_note}")
    if POLICY in done.files:
        print(f"the policy file is at {done.files[POLICY]}: set HAILONG_POLICY_FILE to it")
    print(
        f"the broker's accounts are at {done.files[ACCOUNTS]}: `hailong up` uses them there; "
        "a Mosquitto of its own (`hailong broker init`) needs them copied to its "
        "plugin_opt_config_file, with Mosquitto stopped"
    )
    print(
        f"next: `hailong verify --data-dir {data_dir}`, then `hailong up --data-dir {data_dir}` "
        "(or the server's systemd units); the units reconnect with their own passwords"
    )
    return 0
