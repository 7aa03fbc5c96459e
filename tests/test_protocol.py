"""The contract module against PROTOCOL.md: the shared vectors, each rule, and the page itself."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hailong import protocol
from hailong.protocol import SCALES, ContractError, decode_rating, happy_index, satisfied_pct

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "protocol.md"
VECTORS = json.loads((ROOT / "tests" / "data" / "protocol-vectors.json").read_text())["vectors"]
SHARED = ROOT.parent / "shared"
TOPIC = "hailong/v1/devices/dev-1/ratings"
GOOD = {
    "schema": 1,
    "id": "3f1c2b7e-8a4d-4f0e-9b6a-1d2c3e4f5a6b",
    "device_id": "dev-1",
    "seq": 1,
    "pressed_at": "2026-11-21T09:15:02.123+07:00",
    "score": 4,
}


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_shared_vector(vector: dict[str, str]) -> None:
    payload = vector["payload"].encode()
    if vector["expect"] == "accepted":
        decode_rating(vector["topic"], payload)
    else:
        with pytest.raises(ContractError) as err:
            decode_rating(vector["topic"], payload)
        assert err.value.field == vector.get("field")


def test_vectors_are_the_shared_ones() -> None:
    shared = SHARED / "protocol-vectors.json"
    if not shared.exists():
        pytest.skip("no shared/ folder beside this checkout")
    assert json.loads(shared.read_text())["vectors"] == VECTORS


def test_docs_copy_is_the_shared_contract() -> None:
    shared = SHARED / "PROTOCOL.md"
    if not shared.exists():
        pytest.skip("no shared/ folder beside this checkout")
    assert DOC.read_text() == shared.read_text(), "docs/protocol.md must follow the contract"


def test_rating_fields_match_the_page() -> None:
    section = DOC.read_text().split("## Rating", 1)[1].split("##", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| (yes|no)", section, re.M)
    assert rows, "the Rating table was not found in docs/protocol.md"
    model = protocol.Rating.model_fields
    names = {f.alias or name for name, f in model.items()}
    assert {name for name, _ in rows} == names
    for name, required in rows:
        if name == "schema":
            continue  # required on the wire; decode() checks it
        field = next(f for n, f in model.items() if (f.alias or n) == name)
        assert field.is_required() == (required == "yes"), name


def test_topics_of_the_page() -> None:
    doc = DOC.read_text()
    for kind in protocol.KINDS:
        assert f"`devices/<device_id>/{kind}`" in doc
        assert protocol.topic("dev-1", kind) == f"hailong/v1/devices/dev-1/{kind}"
    assert protocol.parse_topic("hailong/v1/devices/dev-1/status") == ("dev-1", "status")
    for bad in (
        "hailong/v2/devices/dev-1/ratings",
        "hailong/v1/devices/dev-1/other",
        "hailong/v1/devices/a+b/ratings",
        "hailong/v1/devices/dev-1/ratings/x",
    ):
        with pytest.raises(ContractError):
            protocol.parse_topic(bad)


def _decode(**changes: object) -> protocol.Rating:
    body = {**GOOD, **changes}
    body = {k: v for k, v in body.items() if v is not ...}
    return decode_rating(TOPIC, json.dumps(body).encode())


@pytest.mark.parametrize(
    ("good", "bad", "field"),
    [
        ({"officer_id": "CB-0042"}, {"officer_id": "CB#42"}, "officer_id"),
        ({"counter_id": "a" * 64}, {"counter_id": "a" * 65}, "counter_id"),
        ({"ticket": "A-0153"}, {"ticket": 153}, "ticket"),
        ({"reasons": ["wait_time"]}, {"reasons": "wait_time"}, "reasons"),
        ({"comment": None}, {"comment": "x" * 501}, "comment"),
        ({"input": "touch"}, {"input": "voice"}, "input"),
        ({"clock_synced": False}, {"clock_synced": "no"}, "clock_synced"),
        ({"scale": "vn3", "score": 3}, {"scale": "vn3", "score": 4}, "score"),
        ({"pressed_at": "2026-11-21T02:15:02Z"}, {"pressed_at": "2026-11-21 09:15"}, "pressed_at"),
        ({"seq": 10**12}, {"seq": -1}, "seq"),
        ({"score": 1}, {"score": True}, "score"),
        ({"id": "3F1C2B7E-8A4D-4F0E-9B6A-1D2C3E4F5A6B"}, {"id": ...}, "id"),
        ({"schema": 1}, {"schema": ...}, "schema"),
    ],
)
def test_each_rule_has_a_valid_and_an_invalid_example(
    good: dict[str, object], bad: dict[str, object], field: str
) -> None:
    _decode(**good)
    with pytest.raises(ContractError) as err:
        _decode(**bad)
    assert err.value.field == field


def test_defaults_of_optional_fields() -> None:
    r = _decode()
    assert (r.scale, r.reasons, r.input, r.clock_synced, r.officer_id) == (
        "vn4",
        [],
        "button",
        True,
        None,
    )


def test_oversized_payload_is_rejected() -> None:
    with pytest.raises(ContractError, match="exceeds"):
        decode_rating(TOPIC, json.dumps({**GOOD, "pad": "x" * 17000}).encode())


def test_deeply_nested_json_is_a_contract_error_not_a_crash() -> None:
    payload = b"[" * 5000 + b"]" * 5000
    with pytest.raises(protocol.ContractError, match="nests JSON too deeply"):
        protocol.decode_rating("hailong/v1/devices/d1/ratings", payload)


def test_rating_round_trips_through_the_wire() -> None:
    r = _decode(reasons=["wait_time"], comment="Chờ quá lâu")
    again = decode_rating(TOPIC, r.to_payload())
    assert again == r
    assert "Chờ quá lâu".encode() in r.to_payload()


def test_other_payloads() -> None:
    ack = protocol.decode_ack(b'{"schema":1,"accepted":["a"],"rejected":[{"id":"b","error":"x"}]}')
    assert ack.named_ids() == {"a", "b"}
    status = protocol.decode_status(
        b'{"schema":1,"state":"offline","firmware":"1","outbox":0,"uptime_s":5,'
        b'"at":"2026-11-21T09:15:02+07:00"}'
    )
    assert status.state == "offline" and status.ignored_presses is None
    config = protocol.decode_config(b'{"schema":1,"device_id":"d","officer":null}')
    assert (config.scale, config.cooldown_s, config.require_service) == ("vn4", 3, False)
    service = protocol.decode_service(b'{"schema":1,"ticket":"A-1","officer_id":"CB-1"}')
    assert service.open_s == 30
    with pytest.raises(ContractError) as err:
        protocol.decode_status(b'{"schema":1,"state":"asleep"}')
    assert err.value.field == "state"


def test_scales_and_figures() -> None:
    assert [SCALES["vn4"].happy_value(s) for s in (1, 2, 3, 4)] == pytest.approx(
        [0, 33.333, 66.667, 100], abs=1e-3
    )
    assert [SCALES["vn3"].happy_value(s) for s in (1, 2, 3)] == [0, 50, 100]
    assert SCALES["vn4"].labels_vi[1] == "Bình thường"
    counts = {("vn4", 1): 1, ("vn4", 2): 1, ("vn4", 3): 1, ("vn3", 3): 1}
    assert satisfied_pct(counts) == 50.0
    assert happy_index(counts) == pytest.approx((0 + 33.333 + 66.667 + 100) / 4, abs=1e-3)
    assert satisfied_pct({}) is None and happy_index({}) is None
    assert satisfied_pct({("vn3", 2): 3}) == 100.0


def test_time_on_the_unit_fields() -> None:
    r = _decode(boot_id="b7f3", mono_ms=0)
    assert (r.boot_id, r.mono_ms) == ("b7f3", 0)
    assert (_decode().boot_id, _decode().mono_ms) == (None, None)
    status = protocol.decode_status(
        b'{"schema":1,"state":"online","firmware":"1","outbox":0,"uptime_s":5,'
        b'"at":"2026-11-21T09:15:02+07:00","boot_id":"b7f3","mono_ms":5000}'
    )
    assert (status.boot_id, status.mono_ms) == ("b7f3", 5000)


def test_server_channels_are_refused_on_a_device_topic_but_valid_ratings() -> None:
    assert protocol.Rating.model_validate({**GOOD, "input": "paper"}).input == "paper"
    with pytest.raises(ContractError) as err:
        _decode(input="web")
    assert err.value.field == "input"


def test_press_time_counts_back_from_a_known_moment() -> None:
    known = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert protocol.press_time(known, 600_000, 0) == datetime(2026, 11, 21, 8, 50, tzinfo=UTC)
    assert protocol.press_time(known, 0, 1_500) == known + timedelta(seconds=1.5)


def test_ack_config_and_signin_of_the_contract() -> None:
    ack = protocol.decode_ack(b'{"schema":1,"server_time":"2026-11-21T09:15:02.5+07:00"}')
    assert ack.server_time == datetime(2026, 11, 21, 2, 15, 2, 500000, tzinfo=UTC)
    assert protocol.decode_ack(b'{"schema":1}').server_time is None
    config = protocol.decode_config(b'{"schema":1,"device_id":"d"}')
    assert (config.status_s, config.resend_s, config.signin, config.server_time) == (
        60,
        30,
        "none",
        None,
    )
    with pytest.raises(ContractError) as err:
        protocol.decode_config(b'{"schema":1,"device_id":"d","signin":"face"}')
    assert err.value.field == "signin"
    signin = protocol.decode_signin(
        b'{"schema":1,"id":"3f1c2b7e-8a4d-4f0e-9b6a-1d2c3e4f5a6b","action":"in",'
        b'"credential":{"kind":"pin","value":"1234"},"at":"2026-11-21T09:15:02+07:00",'
        b'"boot_id":"b1","mono_ms":7}'
    )
    assert (signin.action, signin.credential.kind, signin.mono_ms) == ("in", "pin", 7)
    with pytest.raises(ContractError) as err:
        protocol.decode_signin(
            b'{"schema":1,"id":"3f1c2b7e-8a4d-4f0e-9b6a-1d2c3e4f5a6b","action":"in",'
            b'"credential":{"kind":"iris","value":"x"},"at":"2026-11-21T09:15:02+07:00"}'
        )
    assert err.value.field == "credential"
