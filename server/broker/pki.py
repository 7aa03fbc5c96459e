"""A local certificate authority for one Hài Lòng server: `hailong pki init`.

Units on the office network reach the broker over TLS and check it against this CA, which each
device.toml carries; the dashboard uses the same server certificate. The CA is kept when the server
certificate is made again (new names, renewal), so units already installed go on trusting it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hailong.errors import HailongError

CA_DAYS = 20 * 365
SERVER_DAYS = 5 * 365
_DNS_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")


@dataclass(frozen=True)
class PkiFiles:
    """The four files under <data_dir>/pki (or given paths for an existing certificate)."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    ca_key: Path | None = None

    @classmethod
    def in_folder(cls, folder: Path) -> PkiFiles:
        return cls(
            ca_cert=folder / "ca.crt",
            server_cert=folder / "server.crt",
            server_key=folder / "server.key",
            ca_key=folder / "ca.key",
        )

    def require(self) -> PkiFiles:
        """Raise a clear error when a file the broker and web server need is missing."""
        for path in (self.ca_cert, self.server_cert, self.server_key):
            if not path.is_file():
                raise HailongError(
                    f"{path} is missing: run `hailong pki init --data-dir DIR --name NAME "
                    "--address IP` first, or give --tls-ca, --tls-cert and --tls-key"
                )
        return self


def _write(path: Path, data: bytes, private: bool) -> None:
    # Made with its final mode, so a key is never readable by others even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    path.chmod(0o600 if private else 0o644)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _key_usage(signs_certificates: bool) -> x509.KeyUsage:
    """A CA signs certificates only; a server signs its TLS handshakes only."""
    return x509.KeyUsage(
        digital_signature=not signs_certificates,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _alt_names(names: list[str], addresses: list[str]) -> list[x509.GeneralName]:
    if not names and not addresses:
        raise HailongError(
            "give the names and addresses the units and browsers use to reach the server: "
            "--name hailong.example.gov.vn and/or --address 192.168.1.10"
        )
    found: list[x509.GeneralName] = []
    for name in names:
        if not _DNS_RE.match(name):
            raise HailongError(f"--name {name!r} is not a DNS name (letters, digits, - and .)")
        found.append(x509.DNSName(name.rstrip(".").lower()))
    for address in addresses:
        try:
            found.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            raise HailongError(f"--address {address!r} is not an IPv4 or IPv6 address") from None
    return found


_Ca = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]


def _make_ca(files: PkiFiles, now: dt.datetime) -> _Ca:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hài Lòng"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Hài Lòng local CA {now:%Y-%m-%d}"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    assert files.ca_key is not None
    _write(files.ca_key, _key_pem(key), private=True)
    _write(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM), private=False)
    return key, cert


def _load_ca(files: PkiFiles) -> _Ca:
    assert files.ca_key is not None
    key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise HailongError(f"{files.ca_key} is not a key made by `hailong pki init`")
    return key, x509.load_pem_x509_certificate(files.ca_cert.read_bytes())


def init(folder: Path, names: list[str], addresses: list[str]) -> tuple[PkiFiles, bool]:
    """Make (or keep) the CA and issue a server certificate; True when the CA was made now."""
    alt_names = _alt_names(names, addresses)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    files = PkiFiles.in_folder(folder)
    assert files.ca_key is not None
    now = dt.datetime.now(dt.UTC)
    made_ca = not (files.ca_key.exists() and files.ca_cert.exists())
    ca_key, ca_cert = _make_ca(files, now) if made_ca else _load_ca(files)
    key = ec.generate_private_key(ec.SECP256R1())
    first = str(alt_names[0].value)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, first)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(files.server_key, _key_pem(key), private=True)
    _write(files.server_cert, cert.public_bytes(serialization.Encoding.PEM), private=False)
    return files, made_ca


def certificate_hosts(cert_path: Path) -> list[str]:
    """The DNS names and IP addresses a certificate is valid for, in its order."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(name.value) for name in san if isinstance(name, x509.DNSName | x509.IPAddress)]
