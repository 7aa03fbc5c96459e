"""A unit's status decided from its last Status, and office-hours time, by hand-checked cases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from server.policy.office_hours import OfficeHours, open_deadline, open_time, parse_span
from server.registry.fleet_status import (
    LABELS,
    NEVER_SEEN,
    OFFLINE,
    ONLINE,
    REVOKED,
    SILENT,
    SILENT_AFTER,
    STATUSES,
    counts,
    device_status,
    spell_start,
)
from server.timeutil import VN_TZ

NOW = datetime(2026, 3, 4, 9, 0, tzinfo=VN_TZ)  # a Wednesday
MIN = timedelta(minutes=1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026 in Vietnam time (2 March is a Monday)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=VN_TZ)


# --- status -------------------------------------------------------------------------------------


def test_the_silence_threshold_is_three_status_periods() -> None:
    assert timedelta(minutes=3) == SILENT_AFTER


@pytest.mark.parametrize(
    ("state", "seen_ago", "revoked_ago", "expected"),
    [
        ("online", timedelta(seconds=30), None, ONLINE),
        ("online", SILENT_AFTER, None, ONLINE),  # exactly at the threshold: still online
        ("online", SILENT_AFTER + timedelta(seconds=1), None, SILENT),
        ("offline", timedelta(seconds=5), None, OFFLINE),  # the broker said so: not silent
        ("offline", timedelta(days=9), None, OFFLINE),
        (None, None, None, NEVER_SEEN),
        ("online", timedelta(seconds=5), timedelta(minutes=1), REVOKED),
        (None, None, timedelta(days=1), REVOKED),
        ("online", timedelta(seconds=5), -timedelta(minutes=1), ONLINE),  # revoked later
    ],
)
def test_device_status(
    state: str | None,
    seen_ago: timedelta | None,
    revoked_ago: timedelta | None,
    expected: str,
) -> None:
    seen = None if seen_ago is None else NOW - seen_ago
    revoked = None if revoked_ago is None else NOW - revoked_ago
    assert device_status(state, seen, revoked, NOW) == expected


def test_every_status_has_its_labels() -> None:
    assert list(LABELS) == list(STATUSES)
    assert all(vi and en and vi != en for vi, en in LABELS.values())


def test_spell_start() -> None:
    seen, revoked, on, off = NOW - MIN, NOW - 2 * MIN, NOW - 60 * MIN, NOW - 30 * MIN
    assert spell_start(ONLINE, seen, None, on, None) == on
    assert spell_start(ONLINE, seen, None, None, None) == seen  # before the history began
    assert spell_start(SILENT, seen, None, on, None) == seen
    assert spell_start(OFFLINE, seen, None, on, off) == off  # not the retained copy's receipt
    assert spell_start(OFFLINE, seen, None, None, None) == seen
    assert spell_start(REVOKED, seen, revoked, on, None) == revoked
    assert spell_start(NEVER_SEEN, None, None, None, None) is None


def test_counts_leave_revoked_devices_out_of_the_total() -> None:
    found = counts([ONLINE, ONLINE, SILENT, OFFLINE, NEVER_SEEN, REVOKED, REVOKED])
    assert found == {
        "online": 2,
        "silent": 1,
        "offline": 1,
        "never_seen": 1,
        "revoked": 2,
        "total": 5,
    }
    assert counts([]) == dict.fromkeys([*found], 0)


# --- office hours -------------------------------------------------------------------------------

HOURS = OfficeHours()  # Mon-Fri 07:30-11:30 and 13:30-17:00


@pytest.mark.parametrize(
    ("first", "last", "minutes"),
    [
        (at(4, 7, 0), at(4, 7, 31), 1),  # switched off all night: only 07:30-07:31 counts
        (at(3, 17, 0), at(4, 7, 40), 10),  # the evening and the night do not count
        (at(4, 11, 0), at(4, 14, 0), 30 + 30),  # lunch does not count
        (at(4, 7, 30), at(4, 17, 0), 240 + 210),  # one whole day: 7 h 30
        (at(6, 16, 50), at(9, 7, 45), 10 + 15),  # Friday to Monday: the weekend does not count
        (at(7, 8, 0), at(7, 10, 0), 0),  # Saturday
        (at(4, 9, 0), at(4, 9, 0), 0),
        (at(4, 10, 0), at(4, 9, 0), 0),  # backwards
    ],
)
def test_open_time(first: datetime, last: datetime, minutes: int) -> None:
    assert open_time(first, last, HOURS) == timedelta(minutes=minutes)


def test_saturday_mornings_and_closed_days() -> None:
    saturdays = OfficeHours(saturday_hours=(parse_span("07:30-11:30"),))
    assert open_time(at(7, 8, 0), at(7, 13, 0), saturdays) == timedelta(hours=3, minutes=30)
    holiday = [(at(4, 0), at(5, 0))]  # Wednesday closed
    assert open_time(at(3, 16, 0), at(5, 8, 0), HOURS, holiday) == timedelta(minutes=60 + 30)
    lunch_shut = [(at(4, 11, 0), at(4, 14, 0))]  # closed in the middle of a span
    assert open_time(at(4, 10, 0), at(4, 15, 0), HOURS, lunch_shut) == timedelta(minutes=60 + 60)


def test_open_deadline() -> None:
    thirty = timedelta(minutes=30)
    assert open_deadline(at(4, 9, 0), thirty, HOURS) == at(4, 9, 30)
    assert open_deadline(at(3, 22, 0), thirty, HOURS) == at(4, 8, 0)  # off at night
    assert open_deadline(at(4, 11, 20), thirty, HOURS) == at(4, 13, 50)  # over lunch
    assert open_deadline(at(6, 17, 30), thirty, HOURS) == at(9, 8, 0)  # over the weekend
    assert open_deadline(at(3, 22, 0), thirty, HOURS, [(at(4, 0), at(5, 0))]) == at(5, 8, 0)
    assert open_deadline(at(4, 9, 0), thirty, OfficeHours(days=frozenset())) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("07:30", "write HH:MM-HH:MM"),
        ("11:30-07:30", "the end must come after the start"),
        ("07:30-25:00", "between 00:00 and 24:00"),
    ],
)
def test_parse_span_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_span(text)
    assert parse_span("13:30-24:00") == (810, 1440)
