"""The unit's MQTT side: the connection to the broker, Status, and what the server sends.

paho's network thread only queues what it hears (callbacks do little, PITFALLS); one worker
thread per link does the rest in order: database work, publishing, Status. Sending the outbox
and deleting what Acks name is `device.delivery`'s part of that work.

The session is persistent (clean start false, a session expiry of days, at every reconnect
too), so the Acks, Config and Services the server publishes while the unit is away reach it
when it is back. Such a queued Ack's `server_time` is old, so an Ack's time is handed to the
unit only once the broker has confirmed this connection's first Status: the broker sends what
it queued right after the CONNACK, before it answers anything the unit publishes.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, Protocol

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from device.delivery import Delivery
from device.outbox import Outbox
from device.signin_outbox import SignInOutbox
from hailong.mqtt import MqttTarget, new_client
from hailong.protocol import (
    QOS,
    Ack,
    Config,
    ContractError,
    Service,
    Status,
    decode_ack,
    decode_config,
    decode_service,
    topic,
)

log = logging.getLogger(__name__)


class _QuietCleanDisconnect(logging.Filter):
    """paho 2.2 logs "Client is not connected" as an error after every clean disconnect."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Client is not connected.")


_paho_log = logging.getLogger("paho")
_paho_log.addFilter(_QuietCleanDisconnect())

TICK_S = 0.5  # the worker looks at the outbox and the timers at least this often
STATUS_MIN_GAP_S = 1.0  # a changing backlog republishes Status at most this often
# How long the broker keeps the session of a unit that is away: a long holiday (Tết) included.
SESSION_EXPIRY_S = 14 * 24 * 3600


class LinkPeer(Protocol):
    """What the link needs from the unit it serves."""

    def status(self, state: Literal["online", "offline"]) -> Status: ...

    def apply_config(self, config: Config) -> None: ...

    def open_service(self, service: Service) -> None: ...

    def learn_time(self, server_time: datetime, received_mono: float) -> None: ...

    def signin_answered(self, signin_id: str, accepted: bool, reason: str | None) -> None: ...


class Link:
    """One device's connection to the broker; `start` never blocks on the network."""

    def __init__(
        self,
        device_id: str,
        target: MqttTarget,
        outbox: Outbox,
        peer: LinkPeer,
        *,
        resend_s: float = 30.0,
        status_s: float = 60.0,
        warn_backlog: int = 500,
        keepalive: int = 30,
        monotonic: Callable[[], float] = time.monotonic,
        signins: SignInOutbox | None = None,
    ) -> None:
        """`monotonic` is the unit's clock, read when an Ack arrives so that its `server_time`
        is tied to the moment it was heard. `signins` holds the officers' SignIns, sent like
        ratings (again every `resend_s` until an Ack names them)."""
        self.device_id = device_id
        self.target = target
        self.outbox = outbox
        self.peer = peer
        self.status_s = status_s
        self.warn_backlog = warn_backlog
        self.keepalive = keepalive
        self._monotonic = monotonic
        self._topics = {kind: topic(device_id, kind) for kind in ("ratings", "status", "signin")}
        self._inbound = {topic(device_id, kind): kind for kind in ("acks", "config", "service")}
        self._events: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._client = self._make_client()
        self._signins = signins
        # Worker-thread state from here on.
        self._delivery = Delivery(str(self), outbox, self._publish_rating, resend_s)
        self._connected = False
        self._next_status = 0.0
        self._last_status_at = 0.0
        self._last_status_backlog: int | None = None
        self._backlog_warned = False
        self._down_logged = False
        self._first_status_mid: int | None = None  # this connection's first Status
        self._last_status_mid: int | None = None
        self._live = False  # the broker confirmed it: what arrives now is not a queued backlog

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def resend_s(self) -> float:
        return self._delivery.resend_s

    def start(self) -> None:
        self._set_will()
        session = Properties(PacketTypes.CONNECT)
        session.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(  # paho keeps both for every reconnect
            self.target.host,
            self.target.port,
            keepalive=self.keepalive,
            clean_start=False,
            properties=session,
        )
        self._client.loop_start()
        self._worker = threading.Thread(
            target=self._run, name=f"link-{self.device_id}", daemon=True
        )
        self._worker.start()

    def kick(self, from_seq: int | None = None) -> None:
        """A rating was stored: look at the outbox now rather than at the next tick.

        `from_seq`: ratings from this seq on were released after newer ones may have been sent
        (they waited for true time), so look at the outbox again from there.
        """
        if from_seq is not None:
            self._post("rewind", from_seq)
        self._wake.set()

    def set_periods(self, status_s: float, resend_s: float) -> None:
        """New Status and resend periods (from the Config); the next Status follows the new."""
        self.status_s = status_s
        self._delivery.resend_s = resend_s
        self._next_status = min(self._next_status, self._last_status_at + status_s)

    def stop(self, timeout: float = 5.0) -> None:
        """Publish the offline Status (a clean disconnect sends no Last Will), then disconnect."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout + 10)
        if self._client.is_connected():
            info = self._publish_status("offline")
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError) as exc:
                log.warning("%s: offline Status not confirmed before disconnect: %s", self, exc)
        self._client.disconnect()
        self._client.loop_stop()

    def __str__(self) -> str:
        return f"unit {self.device_id}"

    # --- paho callbacks (network thread): hand over and return ----------------------------

    def _make_client(self) -> paho.Client:
        client = new_client(self.device_id, self.target)
        client.enable_logger(_paho_log)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def _post(self, *event: Any) -> None:
        self._events.put(event)
        self._wake.set()

    def _on_connect(
        self, client: paho.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any
    ) -> None:
        if reason.is_failure:
            log.error(
                "%s: the broker %s refused the login: %s; check [mqtt] url (device id and "
                "password) and that the device is registered and not revoked",
                self,
                self.target.redacted(),
                reason,
            )
            return
        client.subscribe([(name, QOS) for name in self._inbound])
        self._post("connected")

    def _on_connect_fail(self, _c: paho.Client, _u: Any) -> None:
        self._post("unreachable")

    def _on_disconnect(
        self, _c: paho.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any
    ) -> None:
        self._post("disconnected", reason)

    def _on_subscribe(
        self, _c: paho.Client, _u: Any, _mid: int, reasons: list[ReasonCode], _p: Any
    ) -> None:
        for name, reason in zip(self._inbound, reasons, strict=False):
            if reason.is_failure:
                log.error("%s: the broker refused the subscription to %s: %s", self, name, reason)

    def _on_publish(self, _c: paho.Client, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        self._post("puback", mid, reason)

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        self._post("message", msg.topic, bytes(msg.payload), self._monotonic())

    # --- the worker ------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(TICK_S)
            self._wake.clear()
            try:
                self._drain_events()
                if self._connected and not self._stopping.is_set():
                    self._delivery.send_new()
                    self._delivery.resend_due()
                    self._send_signins()
                    self._maybe_status()
            except Exception:
                log.exception("%s: link worker error; carrying on", self)
                time.sleep(TICK_S)
        self._drain_events()

    def _drain_events(self) -> None:
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            handler = getattr(self, f"_handle_{event[0]}")
            handler(*event[1:])
        self._delivery.delete_acked()

    def _handle_connected(self) -> None:
        log.info("%s: connected to %s", self, self.target.redacted())
        self._connected = True
        self._down_logged = False
        self._delivery.restart()
        if self._signins is not None:
            self._signins.restart()
        self._live = False
        self._maybe_status(force=True)
        self._first_status_mid = self._last_status_mid

    def _handle_unreachable(self) -> None:
        if not self._down_logged:
            log.warning(
                "%s: broker %s unreachable; ratings are kept and sent when it answers",
                self,
                self.target.redacted(),
            )
            self._down_logged = True

    def _handle_disconnected(self, reason: ReasonCode) -> None:
        if self._connected and not self._stopping.is_set():
            log.warning("%s: disconnected from the broker (%s); will reconnect", self, reason)
        self._connected = False

    def _handle_puback(self, mid: int, reason: ReasonCode) -> None:
        if not self._delivery.puback(mid, reason):
            return
        if reason.is_failure:
            log.error("%s: the broker refused the Status: %s", self, reason)
        elif mid == self._first_status_mid:
            self._live = True

    def _handle_rewind(self, seq: int) -> None:
        self._delivery.rewind(seq)

    def _handle_message(self, name: str, payload: bytes, received_mono: float) -> None:
        kind = self._inbound.get(name)
        try:
            if kind == "acks":
                self._apply_ack(payload, received_mono)
            elif kind == "config":
                self._apply_config(payload)
            elif kind == "service":
                self.peer.open_service(decode_service(payload))
        except ContractError as exc:
            log.warning("%s: ignored a bad %s message: %s", self, kind, exc)

    def _apply_ack(self, payload: bytes, received_mono: float) -> None:
        ack = self._answer_signins(decode_ack(payload))
        self._delivery.ack(ack)
        if ack.server_time is not None and self._live:
            self.peer.learn_time(ack.server_time, received_mono)

    def _apply_config(self, payload: bytes) -> None:
        if not payload:
            log.info("%s: the server cleared this unit's Config; keeping the last one", self)
            return
        config = decode_config(payload)
        if config.device_id != self.device_id:
            log.error(
                "%s: ignored a Config addressed to %r; the server must send its own",
                self,
                config.device_id,
            )
            return
        self.peer.apply_config(config)

    def _answer_signins(self, ack: Ack) -> Ack:
        """Tell the unit what the Ack said of its SignIns; the rest is the ratings'."""
        if self._signins is None:
            return ack
        answers, rest = self._signins.answer(ack)
        for signin_id, accepted, reason in answers:
            self.peer.signin_answered(signin_id, accepted, reason)
        return rest

    def _send_signins(self) -> None:
        if self._signins is not None:
            for signin_id, payload in self._signins.due(self._delivery.resend_s):
                self._client.publish(self._topics["signin"], payload, qos=QOS)
                log.info("%s: sign-in %s sent", self, signin_id)

    def _publish_rating(self, payload: bytes) -> paho.MQTTMessageInfo:
        return self._client.publish(self._topics["ratings"], payload, qos=QOS)

    def _maybe_status(self, force: bool = False) -> None:
        now = time.monotonic()
        backlog = self.outbox.count()
        changed = backlog != self._last_status_backlog
        if (
            force
            or now >= self._next_status
            or (changed and now - self._last_status_at >= STATUS_MIN_GAP_S)
        ):
            self._publish_status("online")
            self._set_will()
            self._last_status_at = now
            self._next_status = now + self.status_s
            self._last_status_backlog = backlog
        if backlog > self.warn_backlog and not self._backlog_warned:
            log.warning(
                "%s: %d ratings wait for the server's Ack (more than [outbox] warn_backlog = %d)",
                self,
                backlog,
                self.warn_backlog,
            )
        self._backlog_warned = backlog > self.warn_backlog

    def _publish_status(self, state: Literal["online", "offline"]) -> paho.MQTTMessageInfo:
        payload = self.peer.status(state).to_payload()
        info = self._client.publish(self._topics["status"], payload, qos=QOS, retain=True)
        if state == "online":
            self._delivery.expect_status(info.mid)
            self._last_status_mid = info.mid
        return info

    def _set_will(self) -> None:
        """The Last Will is fixed at CONNECT; refreshing it keeps its numbers recent."""
        payload = self.peer.status("offline").to_payload()
        self._client.will_set(self._topics["status"], payload, qos=QOS, retain=True)
