"""`hailong pki init`: a local CA kept across runs, a server certificate for the given hosts."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from hailong.errors import HailongError
from server.broker.mosquitto import BrokerConfig, TlsListener, write_broker_files
from server.broker.pki import PkiFiles, certificate_hosts, init


def test_the_ca_and_server_certificate_are_made_with_private_keys(tmp_path: Path) -> None:
    files, made_ca = init(tmp_path / "pki", ["hailong.example.gov.vn"], ["192.168.1.10"])
    assert made_ca
    assert (tmp_path / "pki").stat().st_mode & 0o777 == 0o700
    assert files.ca_key is not None
    for key in (files.ca_key, files.server_key):
        assert key.stat().st_mode & 0o777 == 0o600
    assert certificate_hosts(files.server_cert) == ["hailong.example.gov.vn", "192.168.1.10"]
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    server.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_running_it_again_keeps_the_ca_the_units_trust(tmp_path: Path) -> None:
    first, _ = init(tmp_path / "pki", [], ["10.0.0.5"])
    ca_before, key_before = first.ca_cert.read_bytes(), first.server_key.read_bytes()
    again, made_ca = init(tmp_path / "pki", ["hailong.lan"], ["10.0.0.6"])
    assert not made_ca
    assert again.ca_cert.read_bytes() == ca_before
    assert again.server_key.read_bytes() != key_before
    assert certificate_hosts(again.server_cert) == ["hailong.lan", "10.0.0.6"]
    ca = x509.load_pem_x509_certificate(ca_before)
    x509.load_pem_x509_certificate(again.server_cert.read_bytes()).verify_directly_issued_by(ca)


@pytest.mark.parametrize(
    ("names", "addresses", "message"),
    [
        ([], [], "--name"),
        ([], ["999.1.1.1"], "--address '999.1.1.1' is not an IPv4 or IPv6 address"),
        (["bad name!"], [], "--name 'bad name!' is not a DNS name"),
    ],
)
def test_bad_hosts_are_named(
    tmp_path: Path, names: list[str], addresses: list[str], message: str
) -> None:
    with pytest.raises(HailongError, match=message):
        init(tmp_path / "pki", names, addresses)
    assert not (tmp_path / "pki" / "ca.key").exists()


def test_missing_files_say_how_to_make_them(tmp_path: Path) -> None:
    with pytest.raises(HailongError, match="hailong pki init"):
        PkiFiles.in_folder(tmp_path).require()


def test_the_broker_serves_units_with_tls_and_keeps_plain_mqtt_on_loopback(
    tmp_path: Path,
) -> None:
    files, _ = init(tmp_path / "pki", [], ["192.168.1.10"])
    cfg = BrokerConfig(
        data_dir=tmp_path / "broker", port=1883, tls=TlsListener("192.168.1.10", 8883, files)
    )
    lines = write_broker_files(cfg, "hailong-server", "x" * 16).read_text().splitlines()
    assert "listener 1883 127.0.0.1" in lines
    at = lines.index("listener 8883 192.168.1.10")
    assert lines[at + 1 : at + 4] == [
        f"cafile {files.ca_cert}",
        f"certfile {files.server_cert}",
        f"keyfile {files.server_key}",
    ]
