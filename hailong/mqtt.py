"""Where an MQTT broker is and how to log in, parsed once for device and server alike."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho

from hailong.errors import ConfigError


@dataclass(frozen=True)
class MqttTarget:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    # The CA (PEM) a TLS broker's certificate must chain to; None: the system's trusted CAs.
    ca_pem: str | None = None

    @classmethod
    def from_url(cls, url: str) -> MqttTarget:
        """`mqtt://user:pass@host:1883` or `mqtts://…:8883` (TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ConfigError(
                f"MQTT URL {url!r} is not of the form mqtt://user:password@host:1883 "
                "(or mqtts:// for TLS)"
            )
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise ConfigError(f"MQTT URL {url!r} has an invalid port") from None
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )

    def redacted(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def new_client(
    client_id: str,
    target: MqttTarget,
    *,
    clean_start: bool = True,
    v5: bool = True,
    manual_ack: bool = False,
) -> paho.Client:
    """A paho client with the settings every Hài Lòng program wants (VERSION2 callbacks).

    `manual_ack`: the program acknowledges each received message itself (`client.ack`), so
    the broker keeps what was received but not yet safely stored.
    """
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
        clean_session=None if v5 else clean_start,
        manual_ack=manual_ack,
    )
    if target.username:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        client.tls_set_context(tls_context(target.ca_pem))
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


def tls_context(ca_pem: str | None) -> ssl.SSLContext:
    """Verifies the broker's certificate and its name (the URL's host) against `ca_pem`."""
    try:
        context = ssl.create_default_context(cadata=ca_pem)
    except ssl.SSLError as exc:
        raise ConfigError(f"the MQTT CA certificate cannot be read: {exc}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def wait_sent(published: list[paho.MQTTMessageInfo], timeout_s: float) -> bool:
    """Wait, at most `timeout_s` in all, until the broker has acknowledged these QoS 1
    publishes; True when all were. paho sends only `max_inflight_messages` QoS 1 publishes at a
    time and queues the rest, while a manual PUBACK of a received message goes out at once: a
    server that answers "stored" and then PUBACKs the rating must wait here in between, or a
    crash could leave a rating the broker no longer redelivers and whose answer never left."""
    deadline = time.monotonic() + timeout_s
    for info in published:
        if info.rc != paho.MQTT_ERR_SUCCESS:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            info.wait_for_publish(left)
        except (RuntimeError, ValueError):  # disconnected meanwhile: the broker redelivers
            return False
        if not info.is_published():
            return False
    return True
