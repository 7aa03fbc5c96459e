"""device.toml: the documented example loads, and every mistake names its option."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from device.settings import DeviceSettings
from hailong.errors import ConfigError

EXAMPLE = Path(__file__).parents[2] / "firmware-config" / "examples" / "device.toml"
MINIMAL = '[device]\nid = "unit-1"\n[mqtt]\nurl = "mqtt://unit-1:pw@127.0.0.1:1883"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "device.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_loads_and_paths_are_taken_from_its_folder(tmp_path: Path) -> None:
    copy = tmp_path / "etc" / "device.toml"
    copy.parent.mkdir()
    shutil.copy(EXAMPLE, copy)
    settings = DeviceSettings.load(copy)
    assert settings.device.id == "demo-unit-1"
    assert settings.device.data_dir == tmp_path / "etc" / "device-data"
    assert settings.outbox_path == tmp_path / "etc" / "device-data" / "outbox.sqlite3"
    assert settings.mqtt.target.username == "demo-unit-1"
    assert settings.buttons.pins == [17, 27, 22, 23]


def test_every_option_is_documented_in_the_example() -> None:
    documented = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for section, model in DeviceSettings.model_fields.items():
        assert model.annotation is not None
        fields = set(model.annotation.model_fields)
        assert set(documented[section]) == fields, f"[{section}] differs from the example"


def test_only_device_id_and_mqtt_url_are_required(tmp_path: Path) -> None:
    settings = DeviceSettings.load(write(tmp_path, MINIMAL))
    assert settings.device.data_dir == tmp_path / "device-data"
    assert settings.screen.language == "vi"
    assert (settings.screen.reasons_s, settings.screen.language_reset_s) == (15, 30)


def test_the_optional_hardware_is_off_by_default_and_in_the_example(tmp_path: Path) -> None:
    settings = DeviceSettings.load(write(tmp_path, MINIMAL))
    for section in (settings.leds, settings.buzzer, settings.officer_button, settings.audio):
        assert not section.enabled
    example = DeviceSettings.load(EXAMPLE)
    assert not (example.leds.enabled or example.buzzer.enabled or example.audio.enabled)
    assert not example.officer_button.enabled


def test_an_unfitted_device_may_share_a_pin(tmp_path: Path) -> None:
    text = MINIMAL + "[leds]\nenabled = false\naccepted_pin = 17\n"
    assert DeviceSettings.load(write(tmp_path, text)).leds.accepted_pin == 17
    text = MINIMAL + "[buttons]\nenabled = false\n[leds]\nenabled = true\naccepted_pin = 17\n"
    assert DeviceSettings.load(write(tmp_path, text)).leds.pins() == {
        "accepted_pin": 17,
        "attention_pin": 6,
    }


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('[mqtt]\nurl = "mqtt://a:b@h"\n', ["[device]", "missing"]),
        ('[device]\n[mqtt]\nurl = "mqtt://a:b@h"\n', ["[device] id", "missing"]),
        (MINIMAL + "[screen]\nwidth = 'wide'\n", ["[screen] width"]),
        (MINIMAL + "[screen]\nwidht = 800\n", ["[screen] widht", "not a known option"]),
        (MINIMAL + "[buttons]\npins = [17, 17, 22, 23]\n", ["[buttons] pins", "different"]),
        (MINIMAL + '[buttons]\npin_factory = "lpgio"\n', ["[buttons] pin_factory", "lgpio"]),
        (MINIMAL + '[screen]\nlanguage = "fr"\n', ["[screen] language"]),
        (MINIMAL.replace("unit-1", "bad/id", 1), ["[device] id", "no / + #"]),
        (MINIMAL + "[leds]\nenabled = true\naccepted_pin = 17\n", ["[leds] accepted_pin = 17"]),
        (
            MINIMAL + "[buzzer]\nenabled = true\n[officer_button]\nenabled = true\npin = 12\n",
            ["[officer_button] pin = 12", "[buzzer] pin"],
        ),
        (MINIMAL + "[officer_button]\npin = 40\n", ["[officer_button] pin", "between 0 and 27"]),
        (MINIMAL + "[screen]\nreasons_s = 0\n", ["[screen] reasons_s"]),
        (MINIMAL + "[audio]\nvolume = 2\n", ["[audio] volume"]),
    ],
)
def test_a_wrong_or_missing_option_is_named(tmp_path: Path, text: str, names: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        DeviceSettings.load(write(tmp_path, text))
    for name in names:
        assert name in str(caught.value)
    assert "firmware-config/examples/device.toml" in str(caught.value)


def test_a_bad_url_is_named_without_echoing_the_password(tmp_path: Path) -> None:
    text = MINIMAL.replace("mqtt://unit-1:pw@", "http://unit-1:s3cret@")
    with pytest.raises(ConfigError) as caught:
        DeviceSettings.load(write(tmp_path, text))
    assert "[mqtt] url" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_logging_in_as_another_device_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[mqtt\] url logs in as 'unit-2'"):
        DeviceSettings.load(write(tmp_path, MINIMAL.replace("mqtt://unit-1", "mqtt://unit-2")))


def test_a_missing_or_broken_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="copy firmware-config/examples/device.toml"):
        DeviceSettings.load(tmp_path / "nowhere.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        DeviceSettings.load(write(tmp_path, "[device\nid = 1"))


def test_a_ca_is_used_for_mqtts_only_and_must_be_a_certificate(tmp_path: Path) -> None:
    from server.broker.pki import init

    files, _ = init(tmp_path / "pki", [], ["10.0.0.5"])
    pem = files.ca_cert.read_text()
    tls = MINIMAL.replace("mqtt://unit-1:pw@127.0.0.1:1883", "mqtts://unit-1:pw@10.0.0.5")
    target = DeviceSettings.load(write(tmp_path, tls + f'ca = """\n{pem}"""\n')).mqtt.target
    assert (target.tls, target.port, target.ca_pem) == (True, 8883, pem)
    with pytest.raises(ConfigError, match="not mqtts://"):
        DeviceSettings.load(write(tmp_path, MINIMAL + f'ca = """\n{pem}"""\n'))
    with pytest.raises(ConfigError, match=r"\[mqtt\] ca.*PEM certificate"):
        DeviceSettings.load(write(tmp_path, tls + 'ca = "not a certificate"\n'))
    broken = pem.replace(pem.splitlines()[3], "A" * 64)
    with pytest.raises(ConfigError, match=r"\[mqtt\] ca"):
        DeviceSettings.load(write(tmp_path, tls + f'ca = """\n{broken}"""\n'))
