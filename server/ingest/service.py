"""The server's MQTT side: receive, batch, commit, then acknowledge; and push unit Configs.

paho's callbacks run on its network thread, so they only enqueue. One worker thread drains the
queue in batches (N messages or T milliseconds), commits, and only then sends each device its Ack
and releases the broker's copy (manual MQTT acks): a message is never acknowledged, to the device
or to the broker, before its rating is committed (a device over its rate: before its message is
spooled, server/ingest/spool.py). With the database down the batch is kept and retried, so ingest
pauses and loses nothing.

Each message keeps when it came, whether it was a retained copy, and since when the server's
subscription had been live then (server/ingest/connections.py `Liveness`: the marker that tells the
broker's backlog from live messages), for the time and late rules of server/ingest/store.py.
"""

from __future__ import annotations

import gc
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from hailong import protocol
from hailong.mqtt import MqttTarget, new_client, wait_sent
from server.broker.client_ids import ServerClientIds
from server.ingest.connections import Liveness
from server.ingest.registry_watch import RegistryWatch
from server.ingest.spool import Spool
from server.ingest.store import (
    DATABASE_DOWN,
    BatchResult,
    Incoming,
    IngestRules,
    store_batch,
    store_separately,
)
from server.registry.device_config import config_for, next_assignment_change
from server.registry.duty import shifts_between
from server.settings import Settings
from server.storage.models import Device

log = logging.getLogger("hailong.ingest")
SESSION_EXPIRY_S = 7 * 24 * 3600
# topic, payload, MQTT message id, QoS, retain flag, receipt, server live since (or None)
Received = tuple[str, bytes, int, int, bool, datetime, datetime | None]
ACK_WAIT_S = 2.0  # at most, for a batch's Acks to reach the broker before its PUBACKs
REGISTRY_LOOK_S = 2.0  # how soon a registry write of another process reaches the units
DRAIN_PAUSE = 4.0  # while messages wait, a drain is followed by 4 times its length without one
SUBSCRIBED: tuple[protocol.Kind, ...] = ("ratings", "status", "signin")  # what units send


def _utcnow() -> datetime:
    return datetime.now(UTC)


class IngestService:
    def __init__(
        self,
        engine: Engine,
        target: MqttTarget,
        *,
        rules: IngestRules,
        client_id: str,
        shared_group: str = "",
        batch_size: int = 500,
        batch_ms: int = 50,
        clock: Callable[[], datetime] = _utcnow,
        config_every_s: float = 60.0,
        device_rate: float = 50.0,
        device_burst: int = 500,
    ) -> None:
        self.engine = engine
        self.target = target
        self.shared_group = shared_group
        self.batch_size = batch_size
        self.batch_wait = batch_ms / 1000
        if rules.chain_key is None:
            raise ValueError("the ingest needs the ratings' chain key (IngestRules.chain_key)")
        self.rules = rules
        self.clock = clock
        self.config_every_s = config_every_s
        self.connected = threading.Event()
        self.totals = BatchResult()
        self._queue: queue.Queue[Received] = queue.Queue()
        self._stop = threading.Event()
        self._published_configs: dict[str, bytes] = {}
        self._cleared_configs: set[str] = set()
        self._configs_wanted = threading.Event()
        self._client = new_client(client_id, target, manual_ack=True)
        self._client.max_inflight_messages_set(200)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self.subscribe_error = ""
        self.liveness = Liveness(client_id)
        self._marker_mid: int | None = None
        self._worker = threading.Thread(target=self._run, name="hailong-ingest", daemon=True)
        self._spool = Spool(engine, rules, rate=device_rate, burst=device_burst)
        self._drain_after = 0.0
        self._registry = RegistryWatch()

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings, rules: IngestRules) -> IngestService:
        return cls(
            engine,
            MqttTarget.from_url(settings.mqtt_url),
            client_id=ServerClientIds.from_settings(settings).ingest,
            shared_group=settings.mqtt_shared_group,
            batch_size=settings.ingest_batch_size,
            batch_ms=settings.ingest_batch_ms,
            rules=rules,
            device_rate=settings.ingest_device_rate,
            device_burst=settings.ingest_device_burst,
        )

    # network thread ------------------------------------------------------------------------

    def _filter(self, kind: protocol.Kind) -> str:
        base = protocol.topic_filter(kind)
        return f"$share/{self.shared_group}/{base}" if self.shared_group else base

    def _on_connect(self, client: paho.Client, _u: Any, flags: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            log.error("broker refused the server's login at %s: %s", self.target.redacted(), rc)
            return
        self.liveness.lost()
        client.subscribe([(self._filter(kind), 1) for kind in SUBSCRIBED])
        self._marker_mid = client.subscribe(self.liveness.topic, 1)[1]
        log.info(
            "connected to %s (session present: %s)", self.target.redacted(), flags.session_present
        )

    def _on_subscribe(self, client: paho.Client, _u: Any, mid: int, codes: Any, _p: Any) -> None:
        """Ready only once the broker granted both filters: a refused shared subscription
        (an ACL without $share/…) would otherwise look connected and ingest nothing. Once the
        marker topic is granted, the marker is published: what comes before it is backlog."""
        if mid == self._marker_mid:
            if any(code.is_failure for code in codes):
                log.warning(
                    "the broker refused the server's subscription to %s: no Status is taken as "
                    "live, so no press is dated from one; give the server's account "
                    "subscribePattern and publishClientSend on it",
                    self.liveness.topic,
                )
            else:
                client.publish(self.liveness.topic, self.liveness.connected(), qos=1)
            return
        refused = [str(code) for code in codes if code.is_failure]
        if refused:
            self.subscribe_error = (
                f"the broker refused the server's subscriptions ({', '.join(refused)}): give "
                f"its account subscribePattern on "
                f"{', '.join(self._filter(kind) for kind in SUBSCRIBED)}"
            )
            log.error("%s", self.subscribe_error)
            return
        self.subscribe_error = ""
        log.info("subscribed to %s", ", ".join(self._filter(kind) for kind in SUBSCRIBED))
        self.connected.set()
        self.request_config_refresh()

    def _on_disconnect(self, _c: paho.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self.connected.clear()
        self.liveness.lost()
        if not self._stop.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", rc)

    def _on_message(self, _c: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        # Only what the worker needs: a batch of paho's message objects (properties, a lock
        # each) kept alive in the queue made the garbage collector cost half the ingest's CPU.
        now = self.clock()
        if msg.topic == self.liveness.topic:
            self.liveness.marker(bytes(msg.payload), now)
            self._client.ack(msg.mid, msg.qos)
            return
        received = (msg.topic, bytes(msg.payload), msg.mid, msg.qos, bool(msg.retain), now)
        self._queue.put((*received, self.liveness.since))

    # lifecycle -----------------------------------------------------------------------------

    def start(self) -> IngestService:
        # Everything alive at start (modules, models, the app) is moved out of the collector's
        # sight: at thousands of messages a second, rescanning it was a fifth of the CPU.
        gc.freeze()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self._client.connect_async(
            self.target.host, self.target.port, keepalive=30, clean_start=False, properties=props
        )
        self._client.loop_start()
        self._worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._worker.join(timeout=30)
        self._client.disconnect()
        self._client.loop_stop()

    # worker thread -------------------------------------------------------------------------

    def _next_batch(self, wait: float) -> list[Received]:
        try:
            batch = [self._queue.get(timeout=wait)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.batch_wait
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _commit(self, batch: list[Received]) -> BatchResult:
        incoming = [
            Incoming(topic, payload, received_at, live_since, retained)
            for topic, payload, _mid, _qos, retained, received_at, live_since in batch
        ]
        now = self.clock()
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                result = store_batch(session, incoming, now, self.rules)
                session.commit()
            return result
        except DATABASE_DOWN:
            raise
        except Exception:  # noqa: BLE001 - find the message at fault, keep it as rejected
            log.exception("a batch of %d failed; storing its messages one by one", len(batch))
            return store_separately(
                lambda: Session(self.engine, expire_on_commit=False), incoming, now, self.rules
            )

    def _run(self) -> None:
        next_config = time.monotonic() + self.config_every_s
        next_watch = time.monotonic() + REGISTRY_LOOK_S
        pending: list[Received] = []
        delay = 0.5
        while not (self._stop.is_set() and not pending and self._queue.empty()):
            if not pending:
                pending = self._next_batch(self._idle_wait())
            if pending:
                try:
                    pending = self._spool_over_rate(pending)
                    result = self._commit(pending) if pending else BatchResult()
                except Exception as exc:  # noqa: BLE001 - the worker must outlive any batch
                    if isinstance(exc, SQLAlchemyError):
                        log.error(
                            "database unavailable, ingest paused (%d messages kept): %s",
                            len(pending),
                            exc.__class__.__name__,
                        )
                    else:
                        log.exception("ingest failed on a batch; it is kept and retried")
                    if self._stop.wait(delay):
                        return
                    delay = min(delay * 2, 10)
                    continue
                delay = 0.5
                self._acknowledge(pending, result)
                pending = []
            self._drain_spool()
            if time.monotonic() >= next_watch:
                next_watch = time.monotonic() + REGISTRY_LOOK_S
                if self._registry.written(self.engine):  # by another process: its API
                    self._configs_wanted.set()
            if self._configs_wanted.is_set() or time.monotonic() >= next_config:
                self._configs_wanted.clear()
                next_config = time.monotonic() + self._refresh_configs_safely()

    def _spool_over_rate(self, batch: list[Received]) -> list[Received]:
        """Spool the messages of devices over their rate and release them at the broker at
        once (server/ingest/spool.py); returns the others, for the ordinary path."""
        to_spool = self._spool.split([m[0] for m in batch])
        if not any(to_spool):
            return batch
        spooled = [m for m, over in zip(batch, to_spool, strict=True) if over]
        self._spool.put([Incoming(topic, payload) for topic, payload, *_ in spooled], self.clock())
        for _topic, _payload, mid, qos, *_ in spooled:
            self._client.ack(mid, qos)
        return [m for m, over in zip(batch, to_spool, strict=True) if not over]

    def _idle_wait(self) -> float:
        """How long to wait for a message: not at all when spooled messages are due."""
        if not self._spool.pending():
            return 0.2
        return min(0.2, max(0.0, self._drain_after - time.monotonic()))

    def _drain_spool(self) -> None:
        """Store a batch of spooled messages: at once while the queue is short; while live
        messages wait, only a fifth of the worker's time, so that the queue still moves faster
        than a flood fills it."""
        now = time.monotonic()
        if not self._spool.pending() or now < self._drain_after:
            return
        busy = self._queue.qsize() >= self.batch_size
        try:
            result = self._spool.drain(self.batch_size)
        except Exception as exc:  # noqa: BLE001 - the rows stay in the spool for a next try
            log.error("could not store spooled messages, trying again in 5 s: %r", exc)
            self._drain_after = time.monotonic() + 5
            return
        if busy:
            self._drain_after = time.monotonic() + (time.monotonic() - now) * DRAIN_PAUSE
        self._acknowledge([], result)

    def _acknowledge(self, batch: list[Received], result: BatchResult) -> None:
        published = []
        for device_id, acks in result.acks.items():
            for ack in acks:
                sent = ack.model_copy(update={"server_time": self.clock()})
                topic = protocol.topic(device_id, "acks")
                published.append(self._client.publish(topic, sent.to_payload(), qos=1))
        wait_sent(published, ACK_WAIT_S)  # the Acks out before the broker forgets the ratings
        for _topic, _payload, mid, qos, *_ in batch:
            self._client.ack(mid, qos)
        self.totals.add_counts(result)
        if result.configs_changed:  # a sign-in: the unit shows its new officer at once
            self.request_config_refresh()
        if result.rejected:
            log.warning("rejected %d message(s); see the rejected messages list", result.rejected)

    def publish_service(self, device_id: str, service: protocol.Service) -> bool:
        """Tell a unit its called ticket (QoS 1, not retained: a unit that comes back later
        must not open an old ticket); False when not connected, so the caller can say so."""
        if not self.connected.is_set():
            return False
        topic = protocol.topic(device_id, "service")
        return self._client.publish(topic, service.to_payload(), qos=1).rc == paho.MQTT_ERR_SUCCESS

    # configs -------------------------------------------------------------------------------

    def request_config_refresh(self) -> None:
        """After registry writes: the worker publishes a Config to every device whose view
        changed, within a fraction of a second; many requests in a row make one refresh."""
        self._configs_wanted.set()

    def _refresh_configs_safely(self) -> float:
        """Refresh, and say how soon to look again: at the next shift change, so that the
        officer a unit shows changes when the assignment does, or after `config_every_s`."""
        try:
            self.refresh_configs()
            with Session(self.engine) as session:
                now = self.clock()
                boundary = next_assignment_change(session, now)
        except SQLAlchemyError as exc:
            log.error("could not refresh device configs: %s", exc.__class__.__name__)
            return self.config_every_s
        if boundary is None:
            return self.config_every_s
        return min(self.config_every_s, max(0.0, (boundary - now).total_seconds()) + 0.05)

    def refresh_configs(self) -> int:
        if not self.connected.is_set():
            return 0
        sent = 0
        with Session(self.engine) as session:
            now = self.clock()
            devices = session.exec(select(Device)).all()
            active = {d.counter_id for d in devices if d.revoked_at is None}
            on_duty = shifts_between(session, active, now, now)
            for device in devices:
                if device.revoked_at is not None:
                    self._clear_config(device.id)
                    continue
                shifts = on_duty.get(device.counter_id, [])
                require = self.rules.misuse.require_service
                config = config_for(session, device, now, shifts, require_service=require)
                payload = config.to_payload()
                if self._published_configs.get(device.id) == payload:
                    continue
                self._client.publish(
                    protocol.topic(device.id, "config"), payload, qos=1, retain=True
                )
                self._published_configs[device.id] = payload
                sent += 1
        return sent

    def _clear_config(self, device_id: str) -> None:
        """A revoked unit's retained Config is deleted (an empty retained message), so that
        nothing about its counter stays readable on the broker; once per process is enough."""
        if device_id in self._cleared_configs:
            return
        self._client.publish(protocol.topic(device_id, "config"), b"", qos=1, retain=True)
        self._published_configs.pop(device_id, None)
        self._cleared_configs.add(device_id)
