"""`hailong up` keeps its broker: a crashed Mosquitto is started again, and the broker a
SIGKILLed `up` left behind is stopped by the next `up` of the same data folder.

Both run as a person would run them (`hailong up`, `hailong fleet`, `kill -9`).
"""

from __future__ import annotations

import os
import signal

from sqlmodel import Session, func, select

from server.broker.pidfile import runs_our_config
from server.storage.db import make_engine
from server.storage.models import Rating as StoredRating
from tests.server.server_process import probe
from tests.system.test_fleet import Stack, stack, wait_until

__all__ = ["stack"]  # the fixture


def stored(stack: Stack) -> int:
    engine = make_engine(f"sqlite:///{stack.data_dir / 'hailong.db'}")
    try:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(StoredRating)).one()
    finally:
        engine.dispose()


def test_up_starts_a_killed_broker_again_and_ratings_go_on(stack: Stack) -> None:
    up = stack.up()
    fleet = stack.fleet()
    fleet.wait_for("units online")
    wait_until(lambda: stored(stack) >= 10, "10 stored ratings")
    first = stack.broker_pid()
    assert first and runs_our_config(first, stack.broker_conf)

    os.kill(first, signal.SIGKILL)
    up.wait_for("Mosquitto exited (code -9); starting it again in 1 s")
    up.wait_for("Mosquitto started again")
    second = stack.broker_pid()
    assert second and second != first and runs_our_config(second, stack.broker_conf)
    wait_until(lambda: probe(stack.base)[0] == 200, "the server's MQTT link back")
    assert probe(stack.base)[1]["mqtt"] == "connected"
    after = stored(stack)
    wait_until(lambda: stored(stack) >= after + 10, "10 ratings stored after the restart")

    assert fleet.stop() == 0, fleet.output[-3000:]
    assert up.stop(signal.SIGINT) == 0, up.output[-3000:]
    assert not runs_our_config(second, stack.broker_conf), "the broker stops with `up`"
    assert stack.broker_pid() is None, "the pid file goes with the broker"


def test_a_new_up_stops_the_broker_a_killed_up_left(stack: Stack) -> None:
    first = stack.up()
    left = stack.broker_pid()
    assert left
    first.kill()  # SIGKILL: `up` cannot stop its broker
    assert runs_our_config(left, stack.broker_conf), "the broker outlives a SIGKILLed `up`"

    second = stack.up()
    second.wait_for(f"stopping the Mosquitto (pid {left}) an earlier run left")
    assert not runs_our_config(left, stack.broker_conf)
    now = stack.broker_pid()
    assert now and now != left and runs_our_config(now, stack.broker_conf)
    wait_until(lambda: probe(stack.base) == (200, {
        "status": "ok", "database": "ok", "mqtt": "connected"}), "the new `up` ready")  # fmt: skip
    assert second.stop(signal.SIGINT) == 0, second.output[-3000:]
