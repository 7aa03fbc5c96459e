"""The policy's `[channels]`: which flags keep a rating out of every officer's figures, the
shipped list, an older file without the table, and the mistakes a file can make in it."""

from __future__ import annotations

import pytest

from server.policy import ChannelRules, PolicyError, load_policy, parse_policy

CATCH_ALL = """
[[classification]]
code = "rest"
label_vi = "Không hoàn thành nhiệm vụ"
label_en = "Non-completion of duties"
"""
# A policy written before 2026-12-vi-du-3, which brought `[channels]`: it has no such table.
OLDER = 'version = "2026-12-vi-du-2"\nmin_ratings = 30\n[misuse]\ncooldown_s = 3.0\n' + CATCH_ALL


def test_the_shipped_policy_keeps_unverified_web_ratings_from_officers() -> None:
    policy = load_policy(None)
    assert policy.version == "2026-12-vi-du-3"
    assert policy.channels.officer_excluded == ("web_unverified",)
    # counted for the counter and unit: not a misuse flag
    assert "web_unverified" not in policy.misuse.count


def test_an_older_policy_without_channels_loads_with_the_default_list() -> None:
    policy = parse_policy(OLDER, "agency.toml")
    assert policy.version == "2026-12-vi-du-2"
    assert policy.channels == ChannelRules(("web_unverified",))


def test_an_agency_may_count_them_for_officers_or_exclude_other_flags() -> None:
    none = parse_policy(OLDER + "[channels]\nofficer_excluded = []\n", "agency.toml")
    assert none.channels.officer_excluded == ()
    assert not none.channels.excludes_officer(["web_unverified"])
    text = OLDER + '[channels]\nofficer_excluded = ["time_unknown", "web_unverified"]\n'
    two = parse_policy(text, "agency.toml").channels
    assert two.officer_excluded == ("time_unknown", "web_unverified")  # flags.py's order
    assert two.excludes_officer(["clock_corrected", "time_unknown"])
    assert not two.excludes_officer(["clock_corrected"])


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'officer_excluded = ["web_unverifed"]',
            "agency.toml: [channels] officer_excluded must be a list of flags from",
        ),
        ('officer_excluded = "web_unverified"', "[channels] officer_excluded must be a list"),
        ("officer_exclude = []", "[channels] officer_exclude is not a setting here (did you mean"),
    ],
)
def test_channels_errors(table: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(OLDER + "[channels]\n" + table + "\n", "agency.toml")
    assert message in str(caught.value)
    if "web_unverifed" in table:
        assert "('web_unverifed' unknown)" in str(caught.value)
