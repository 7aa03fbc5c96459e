"""`hailong ingest`: two ingest-only processes of a province share the ratings and stop cleanly."""

from __future__ import annotations

import json
import re
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from hailong import protocol
from hailong.mqtt import new_client
from server.integrity import anchors
from server.integrity.key import load_key
from server.storage.db import make_engine
from server.storage.models import Rating
from tests.child import Child
from tests.conftest import Broker
from tests.server.factories import seed_one_counter
from tests.server.server_process import chain_key_file

DEVICES = ("dev-a", "dev-b", "dev-c", "dev-d")
PER_DEVICE = 500


def test_two_ingest_processes_share_the_ratings_and_stop_on_sigterm(
    broker: Broker, database_url: str, tmp_path: Path
) -> None:
    seed_one_counter(database_url, DEVICES)
    anchor_file = tmp_path / "anchors.jsonl"
    env = {
        "HAILONG_DATABASE_URL": database_url,
        "HAILONG_MQTT_URL": broker.server_url,
        "HAILONG_MQTT_SHARED_GROUP": "hailong",
        "HAILONG_CHAIN_KEY_FILE": chain_key_file(database_url),
        "HAILONG_ANCHOR_FILE": str(anchor_file),
        "HAILONG_DATA_DIR": str(tmp_path / "data"),
    }
    workers = [
        Child(
            [sys.executable, "-m", "system.cli", "ingest"],
            env={**env, "HAILONG_MQTT_CLIENT_ID": f"ingest-{i}"},
        )
        for i in (1, 2)
    ]
    try:
        for worker in workers:
            worker.wait_for("subscribed to $share/hailong/")
        ids = set()
        for device_id in DEVICES:
            client = new_client(device_id, broker.add_device(device_id))
            client.max_inflight_messages_set(500)
            client.connect(broker.host, broker.port)
            client.loop_start()
            infos = []
            for seq in range(1, PER_DEVICE + 1):
                rating = protocol.Rating(
                    id=str(uuid.uuid4()),
                    device_id=device_id,
                    seq=seq,
                    score=4,
                    pressed_at=datetime.now(UTC) - timedelta(minutes=1),
                )
                ids.add(rating.id)
                infos.append(
                    client.publish(protocol.topic(device_id, "ratings"), rating.to_payload(), qos=1)
                )
            for info in infos:
                info.wait_for_publish(30)
            client.disconnect()
            client.loop_stop()
        engine = make_engine(database_url)
        deadline = time.monotonic() + 120
        with Session(engine) as session:
            while session.scalar(select(func.count()).select_from(Rating)) < len(ids):
                assert time.monotonic() < deadline, "not every rating was stored"
                time.sleep(0.2)
            stored = session.exec(select(col(Rating.id))).all()
        engine.dispose()
        assert sorted(stored) == sorted(ids)
        for worker in workers:
            assert worker.stop() == 0
        shares = []
        for worker in workers:
            line = worker.wait_for("stopped; stored")
            shares.append(int(re.search(r"stored (\d+)", line).group(1)))  # type: ignore[union-attr]
            assert "Traceback" not in worker.output
        assert sum(shares) == len(ids) and min(shares) > 0, shares
        stops = [json.loads(line) for line in anchor_file.read_bytes().splitlines()]
        assert [e["why"] for e in stops if e["why"] == "stop"] == ["stop", "stop"]
        key = load_key(Path(chain_key_file(database_url)))
        anchored = anchors.read(anchor_file, key).furthest
        assert {d: a.position for d, a in anchored.items()} == dict.fromkeys(DEVICES, PER_DEVICE)
    finally:
        for worker in workers:
            worker.kill()
