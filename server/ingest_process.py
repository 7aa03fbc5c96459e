"""`hailong ingest`: a process that only stores ratings, for a province's scale-out.

Several of these share the broker's ratings through one MQTT shared subscription
(HAILONG_MQTT_SHARED_GROUP), each with its own HAILONG_MQTT_CLIENT_ID, beside `hailong server`
processes started with HAILONG_INGEST=false for the API. They hold no state of their own: stop,
add or remove one at any time; the broker keeps each one's unacknowledged messages.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

from server.runtime import Runtime
from server.settings import Settings

log = logging.getLogger("hailong.ingest")


def run(settings: Settings, report_every_s: float = 10.0) -> int:
    if not settings.mqtt_shared_group:
        log.warning(
            "HAILONG_MQTT_SHARED_GROUP is empty: a second ingest process would store nothing "
            "more, every process would receive every rating"
        )
    runtime = Runtime.open(settings)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: finishing the batch in hand, then stopping", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    with runtime.running(), runtime.ingesting() as service:
        log.info(
            "ingest %s started (group %r)", settings.mqtt_client_id, settings.mqtt_shared_group
        )
        last, last_at = 0, time.monotonic()
        while not stop.wait(report_every_s):
            totals, now = service.totals, time.monotonic()
            log.info(
                "stored %d (%.0f/s), duplicates %d, rejected %d, statuses %d%s",
                totals.stored,
                (totals.stored - last) / (now - last_at),
                totals.duplicates,
                totals.rejected,
                totals.statuses,
                "" if service.connected.is_set() else "; waiting for the broker",
            )
            last, last_at = totals.stored, now
    totals = service.totals
    log.info(
        "stopped; stored %d, duplicates %d, rejected %d",
        totals.stored,
        totals.duplicates,
        totals.rejected,
    )
    return 0
