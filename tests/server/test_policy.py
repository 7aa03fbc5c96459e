"""The policy file: the shipped default, every mistake a file can make, classification and the
misuse rules at their exact edges.

Wilson bounds quoted in comments were computed apart from the code under test (see
test_scoring.py for how).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.policy import (
    ALERT_KINDS,
    BUILT_IN,
    CONDITIONS,
    ClassRule,
    MisuseRules,
    OfficeHours,
    Policy,
    PolicyError,
    RatingsOutOfOrder,
    UnitSatisfiedBelow,
    UnitSilent,
    UnsatisfiedAtCounter,
    classify,
    load_policy,
    lookback,
    misuse_flags,
    parse_policy,
)
from server.policy.rules import number_text
from server.reporting.scoring import Figures, LevelTally, figures
from server.storage import flags

DOCS = Path(__file__).resolve().parents[2] / "docs" / "policy.md"
CATCH_ALL = """
[[classification]]
code = "rest"
label_vi = "Không hoàn thành nhiệm vụ"
label_en = "Non-completion of duties"
"""
MINIMAL = 'version = "test-1"\n' + CATCH_ALL


def _error(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "policy.toml")
    return str(caught.value)


def _vn4(unsatisfied: int, satisfied: int, neutral: int = 0) -> Figures:
    """Figures of `unsatisfied` 1s, `neutral` 2s and `satisfied` 4s on vn4."""
    levels = {("vn4", 1): LevelTally(unsatisfied), ("vn4", 4): LevelTally(satisfied)}
    levels[("vn4", 2)] = LevelTally(neutral)
    return figures(levels)


# --- the shipped default ----------------------------------------------------------------


def test_default_policy() -> None:
    policy = load_policy(None)
    assert policy.version == "2026-12-vi-du-3"
    assert policy.source == BUILT_IN
    assert policy.min_ratings == 30
    assert policy.misuse == MisuseRules(3.0, 5, 60.0, False, flags.EXCLUDED_BY_DEFAULT)
    assert [r.code for r in policy.classification] == [
        "excellent",
        "good",
        "not_completed",
        "completed",
    ]
    assert [(r.label_vi, r.label_en) for r in policy.classification] == [
        ("Hoàn thành xuất sắc nhiệm vụ", "Excellent completion of duties"),
        ("Hoàn thành tốt nhiệm vụ", "Good completion of duties"),
        ("Không hoàn thành nhiệm vụ", "Non-completion of duties"),
        ("Hoàn thành nhiệm vụ", "Completion of duties"),
    ]
    excellent, good, harshest, rest = policy.classification
    assert excellent == ClassRule(
        "excellent",
        "Hoàn thành xuất sắc nhiệm vụ",
        "Excellent completion of duties",
        satisfied_pct_min=88,
        unsatisfied_pct_max=3,
        ratings_min=100,
    )
    assert good == ClassRule(
        "good",
        "Hoàn thành tốt nhiệm vụ",
        "Good completion of duties",
        satisfied_pct_min=78,
        unsatisfied_pct_max=5,
    )
    # the harshest class asks for enough ratings and a clear gap, never a lower bound alone
    assert harshest == ClassRule(
        "not_completed",
        "Không hoàn thành nhiệm vụ",
        "Non-completion of duties",
        wilson_high_max=60,
        ratings_min=100,
    )
    assert rest.is_catch_all and rest.code == "completed"
    assert policy.alerts == (
        UnsatisfiedAtCounter(
            id="unsatisfied-at-counter",
            count=3,
            window_minutes=60,
            label_vi="3 đánh giá “Không hài lòng” tại một quầy trong 60 phút",
            label_en="3 “Dissatisfied” ratings at one counter within 60 minutes",
        ),
        UnitSatisfiedBelow(
            id="unit-satisfied-below",
            threshold_pct=70.0,
            min_ratings=10,
            label_vi="Tỷ lệ hài lòng của đơn vị trong ngày dưới 70 % (từ 10 đánh giá)",
            label_en="Unit's satisfied share for the day below 70 % (from 10 ratings)",
        ),
        RatingsOutOfOrder(
            id="ratings-out-of-order",
            count=1,
            window_minutes=60,
            label_vi="Đánh giá sai thứ tự trên một thiết bị: 1 trong 60 phút",
            label_en="Ratings out of order on one unit: 1 within 60 minutes",
        ),
        UnitSilent(
            id="unit-silent",
            minutes=30,
            label_vi="Thiết bị im lặng quá 30 phút trong giờ làm việc",
            label_en="A unit silent for over 30 minutes of office hours",
        ),
    )
    assert policy.office_hours == OfficeHours()


def test_defaults_for_keys_left_out_match_the_shipped_file() -> None:
    policy = parse_policy(MINIMAL, "minimal.toml")
    shipped = load_policy(None)
    assert policy.version == "test-1"
    assert policy.name is None and policy.description is None
    assert policy.min_ratings == shipped.min_ratings
    assert policy.misuse == shipped.misuse
    assert policy.alerts == ()
    assert policy.office_hours == shipped.office_hours
    assert policy.channels == shipped.channels
    assert policy.source == "minimal.toml"


def test_load_policy_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(MINIMAL.replace("test-1", "2027-01-tinh"), encoding="utf-8")
    policy = load_policy(path)
    assert policy.version == "2027-01-tinh"
    assert policy.source == str(path)


def test_load_policy_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="no such policy file"):
        load_policy(tmp_path / "missing.toml")
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('version = "Hài"\n'.encode("latin-1"))
    with pytest.raises(PolicyError, match="save the policy file as UTF-8"):
        load_policy(latin1)
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path)  # a directory


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)


def test_every_setting_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    settings = [
        "version",
        "name",
        "description",
        "min_ratings",
        "[misuse]",
        "cooldown_s",
        "burst_count",
        "burst_window_s",
        "require_service",
        "count",
        "[channels]",
        "officer_excluded",
        "[[classification]]",
        "code",
        "label_vi",
        "label_en",
        *CONDITIONS,
        "[[alerts]]",
        "id",
        "kind",
        *ALERT_KINDS,
        "window_minutes",
        "threshold_pct",
        "minutes",
        "[office_hours]",
        "days",
        "hours",
        "saturday_hours",
        *flags.NAMES,
    ]
    missing = [s for s in settings if f"`{s}`" not in docs]
    assert missing == []
    assert "NOT LAW" in docs and "KHÔNG PHẢI" in docs


# --- every mistake a file can make ------------------------------------------------------


def test_the_example_message() -> None:
    text = MINIMAL + '[misuse]\nburst_count = "five"\n'
    assert _error(text) == "policy.toml: [misuse] burst_count must be an integer ≥ 2, not 'five'"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version = ", "not valid TOML"),
        (CATCH_ALL, 'version is required, e.g. version = "2026-12-vi-du-3"'),
        ('version = ""\n' + CATCH_ALL, "version must be a non-empty string"),
        ('version = "  "\n' + CATCH_ALL, "version must be a non-empty string"),
        ("version = 3\n" + CATCH_ALL, "version must be a non-empty string .*, not 3"),
        ("name = 1\n" + MINIMAL, "name must be a non-empty string"),
        ('description = ""\n' + MINIMAL, "description must be a non-empty string"),
        (
            "min_rating = 30\n" + MINIMAL,
            r"min_rating is not a setting here \(did you mean min_ratings\?\)",
        ),
        ("colour = 30\n" + MINIMAL, r"colour is not a setting here \(known: version, name"),
        ('min_ratings = "thirty"\n' + MINIMAL, "min_ratings must be an integer ≥ 1, not 'thirty'"),
        ("min_ratings = 0\n" + MINIMAL, "min_ratings must be an integer ≥ 1, not 0"),
        ("min_ratings = 30.0\n" + MINIMAL, "min_ratings must be an integer ≥ 1, not 30.0"),
        ("min_ratings = true\n" + MINIMAL, "min_ratings must be an integer ≥ 1, not true"),
    ],
)
def test_top_level_errors(text: str, message: str) -> None:
    assert re.search(message, _error(text))


@pytest.mark.parametrize(
    ("misuse", "message"),
    [
        ("cooldown = 3", r"\[misuse\] cooldown is not a setting here \(did you mean cooldown_s"),
        ("cooldown_s = -1", r"\[misuse\] cooldown_s must be a number ≥ 0, not -1"),
        ('cooldown_s = "3"', r"cooldown_s must be a number ≥ 0, not '3'"),
        ("cooldown_s = nan", r"cooldown_s must be a number ≥ 0, not nan"),
        ("cooldown_s = inf", r"cooldown_s must be a number ≥ 0, not inf"),
        ("cooldown_s = true", r"cooldown_s must be a number ≥ 0, not true"),
        ("burst_count = 1", r"burst_count must be an integer ≥ 2, not 1"),
        ("burst_count = 2.5", r"burst_count must be an integer ≥ 2, not 2.5"),
        ("burst_window_s = 0", r"burst_window_s must be a number > 0, not 0"),
        ('require_service = "yes"', r"require_service must be true or false, not 'yes'"),
        ('count = ["cooldown", "spam"]', r"count must be a list of flags from \['cooldown'"),
        ('count = "burst"', r"count must be a list of flags from .*, not 'burst'"),
    ],
)
def test_misuse_errors(misuse: str, message: str) -> None:
    assert re.search(message, _error(f"{MINIMAL}[misuse]\n{misuse}\n"))


def test_misuse_must_be_a_table() -> None:
    assert "[misuse] must be a table, not 3" in _error("misuse = 3\n" + MINIMAL)


def test_misuse_settings() -> None:
    text = MINIMAL + (
        "[misuse]\ncooldown_s = 0\nburst_count = 2\nburst_window_s = 0.5\n"
        'require_service = true\ncount = ["outside_service", "cooldown"]\n'
    )
    assert parse_policy(text, "p.toml").misuse == MisuseRules(
        cooldown_s=0.0,
        burst_count=2,
        burst_window_s=0.5,
        require_service=True,
        count=("cooldown", "outside_service"),
    )
    assert parse_policy(MINIMAL + "[misuse]\ncount = []\n", "p.toml").misuse.count == ()


def _rule(body: str) -> str:
    return f'[[classification]]\ncode = "good"\nlabel_vi = "Tốt"\nlabel_en = "Good"\n{body}\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'version = "v"\n',
            r"\[\[classification\]\] rules are missing; copy them from policy-default.toml",
        ),
        (
            'version = "v"\nclassification = "all good"\n',
            r"classification must be written as \[\[classification\]\] tables, not 'all good'",
        ),
        ('version = "v"\nclassification = [1]\n', r"\[\[classification\]\] #1 must be a table"),
        (
            'version = "v"\n' + _rule("wilson_low = 80") + CATCH_ALL,
            r"\[\[classification\]\] #1 wilson_low is not a setting here \(did you mean "
            r"wilson_low_min\?\)",
        ),
        (
            'version = "v"\n[[classification]]\nlabel_vi = "x"\nlabel_en = "x"\n',
            r"\[\[classification\]\] #1 code is required",
        ),
        (
            'version = "v"\n' + _rule("").replace('"good"', '"very good"') + CATCH_ALL,
            r"code must be 1 to 64 of A-Z a-z 0-9 . _ - such as 'good', not 'very good'",
        ),
        (
            'version = "v"\n' + _rule("ratings_min = 5") + CATCH_ALL.replace("rest", "good"),
            r"\[\[classification\]\] 'good' code is used by an earlier rule",
        ),
        (
            'version = "v"\n'
            + _rule("ratings_min = 5").replace('label_vi = "Tốt"\n', "")
            + CATCH_ALL,
            r"\[\[classification\]\] 'good' label_vi is required",
        ),
        (
            'version = "v"\n' + _rule("ratings_min = 5").replace('"Good"', '""') + CATCH_ALL,
            r"'good' label_en must be a non-empty string",
        ),
        (
            'version = "v"\n' + _rule("wilson_low_min = 101") + CATCH_ALL,
            r"'good' wilson_low_min must be a number ≥ 0 and ≤ 100, not 101",
        ),
        (
            'version = "v"\n' + _rule("wilson_high_max = 100.5") + CATCH_ALL,
            r"'good' wilson_high_max must be a number ≥ 0 and ≤ 100, not 100.5",
        ),
        (
            'version = "v"\n' + _rule('wilson_high_max = "60"') + CATCH_ALL,
            r"'good' wilson_high_max must be a number ≥ 0 and ≤ 100, not '60'",
        ),
        (
            'version = "v"\n' + _rule("wilson_high = 60") + CATCH_ALL,
            r"\[\[classification\]\] #1 wilson_high is not a setting here \(did you mean "
            r"wilson_high_max\?\)",
        ),
        (
            'version = "v"\n' + _rule("wilson_low_min = 80\nwilson_high_max = 60") + CATCH_ALL,
            r"\[\[classification\]\] 'good' asks wilson_low_min = 80 and wilson_high_max = 60: "
            r"the lowest estimate is never above the highest, so no officer meets both",
        ),
        (
            'version = "v"\n' + _rule("satisfied_pct_min = -1") + CATCH_ALL,
            r"satisfied_pct_min must be a number ≥ 0 and ≤ 100, not -1",
        ),
        (
            'version = "v"\n' + _rule('happy_index_min = "80"') + CATCH_ALL,
            r"happy_index_min must be a number ≥ 0 and ≤ 100, not '80'",
        ),
        (
            'version = "v"\n' + _rule("unsatisfied_pct_max = 100.5") + CATCH_ALL,
            r"unsatisfied_pct_max must be a number ≥ 0 and ≤ 100, not 100.5",
        ),
        (
            'version = "v"\n' + _rule("ratings_min = 0") + CATCH_ALL,
            r"ratings_min must be an integer ≥ 1, not 0",
        ),
        (
            'version = "v"\n' + _rule("") + _rule("ratings_min = 5").replace("good", "ok"),
            r"\[\[classification\]\] 'good' has no conditions, so it matches everyone and the "
            r"rules after it never apply; move it last",
        ),
        (
            'version = "v"\n' + _rule("ratings_min = 5"),
            r"the last \[\[classification\]\] rule 'good' has conditions; end with a catch-all",
        ),
    ],
)
def test_classification_errors(text: str, message: str) -> None:
    assert re.search(message, _error(text))


def _alert(body: str) -> str:
    return f"{MINIMAL}[[alerts]]\n{body}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('alerts = "on"\n' + MINIMAL, r"alerts must be written as \[\[alerts\]\] tables"),
        (_alert('kind = "unsatisfied_at_counter"'), r"\[\[alerts\]\] #1 id is required"),
        (_alert('id = "a b"\nkind = "unsatisfied_at_counter"'), r"#1 id must be 1 to 64 of"),
        (
            _alert('id = "a"\nkind = "unsatisfied_at_counter"')
            + '[[alerts]]\nid = "a"\nkind = "unit_satisfied_below"\nthreshold_pct = 70\n',
            r"\[\[alerts\]\] 'a' id is used by an earlier alert",
        ),
        (_alert('id = "a"'), r"\[\[alerts\]\] 'a' kind is required"),
        (
            _alert('id = "a"\nkind = "storm"'),
            r"'a' kind must be one of unsatisfied_at_counter, unit_satisfied_below, "
            r"ratings_out_of_order, silent, not 'storm'",
        ),
        (
            _alert('id = "a"\nkind = "unsatisfied_at_counter"\nwindow = 5'),
            r"#1 window is not a setting here \(did you mean window_minutes\?\)",
        ),
        (
            _alert('id = "a"\nkind = "unit_satisfied_below"\nthreshold_pct = 70\ncount = 3'),
            r"'a' count is not a setting of kind unit_satisfied_below \(its settings: "
            r"threshold_pct, min_ratings\)",
        ),
        (
            _alert('id = "a"\nkind = "unsatisfied_at_counter"\nmin_ratings = 3'),
            r"'a' min_ratings is not a setting of kind unsatisfied_at_counter",
        ),
        (
            _alert('id = "a"\nkind = "unsatisfied_at_counter"\ncount = 0'),
            r"'a' count must be an integer ≥ 1, not 0",
        ),
        (
            _alert('id = "a"\nkind = "unsatisfied_at_counter"\nwindow_minutes = 1.5'),
            r"'a' window_minutes must be an integer ≥ 1, not 1.5",
        ),
        (
            _alert('id = "a"\nkind = "unit_satisfied_below"'),
            r"'a' threshold_pct is required, e.g. threshold_pct = 70",
        ),
        (
            _alert('id = "a"\nkind = "unit_satisfied_below"\nthreshold_pct = 0'),
            r"'a' threshold_pct must be a number > 0 and ≤ 100, not 0",
        ),
        (
            _alert('id = "a"\nkind = "unit_satisfied_below"\nthreshold_pct = 100.01'),
            r"threshold_pct must be a number > 0 and ≤ 100, not 100.01",
        ),
        (
            _alert('id = "a"\nkind = "unit_satisfied_below"\nthreshold_pct = 70\nmin_ratings = 0'),
            r"'a' min_ratings must be an integer ≥ 1, not 0",
        ),
        (
            _alert('id = "a"\nkind = "unit_satisfied_below"\nthreshold_pct = 70\nlabel_vi = 7'),
            r"'a' label_vi must be a non-empty string",
        ),
    ],
)
def test_alert_errors(text: str, message: str) -> None:
    assert re.search(message, _error(text))


def test_alert_settings_and_labels() -> None:
    text = (
        _alert(
            'id = "busy"\nkind = "unsatisfied_at_counter"\ncount = 2\nwindow_minutes = 15\n'
            'label_vi = "Quầy cần chú ý"\nlabel_en = "Counter needs attention"'
        )
        + '[[alerts]]\nid = "low"\nkind = "unit_satisfied_below"\nthreshold_pct = 62.5\n'
    )
    busy, low = parse_policy(text, "p.toml").alerts
    assert busy == UnsatisfiedAtCounter("busy", 2, 15, "Quầy cần chú ý", "Counter needs attention")
    assert busy.kind == "unsatisfied_at_counter"
    assert low == UnitSatisfiedBelow(
        "low",
        62.5,
        10,
        "Tỷ lệ hài lòng của đơn vị trong ngày dưới 62,5 % (từ 10 đánh giá)",
        "Unit's satisfied share for the day below 62.5 % (from 10 ratings)",
    )
    assert low.kind == "unit_satisfied_below"


# --- classification ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fig", "code"),
    [
        # 99 of 100 satisfied, 1 % dissatisfied
        (_vn4(unsatisfied=1, satisfied=99), "excellent"),
        # 97 of 100, 3 % dissatisfied: at the limit
        (_vn4(unsatisfied=3, satisfied=97), "excellent"),
        # 96 of 100 would do, but 4 % dissatisfied is over 3
        (_vn4(unsatisfied=4, satisfied=96), "good"),
        # Đồng Hới's third year, 89 % of 100 with no one dissatisfied
        (_vn4(unsatisfied=0, satisfied=89, neutral=11), "excellent"),
        # the same share of 99 ratings: excellent asks for 100
        (_vn4(unsatisfied=0, satisfied=88, neutral=11), "good"),
        # Đồng Hới's second year, 80 % of 50, 2 % dissatisfied
        (_vn4(unsatisfied=1, satisfied=40, neutral=9), "good"),
        # 48 of 50: 2/50 = 4 % dissatisfied
        (_vn4(unsatisfied=2, satisfied=48), "good"),
        # 47 of 50: 3/50 = 6 % dissatisfied is over 5
        (_vn4(unsatisfied=3, satisfied=47), "completed"),
        # 66 % of 50: interval 52.15 – 77.56, no clear gap under 60 and too few ratings
        (_vn4(unsatisfied=0, satisfied=33, neutral=17), "completed"),
        # 145 of 220 (65.91 %): lower bound 59.42 under 60, upper bound 71.85 over it
        (_vn4(unsatisfied=10, satisfied=145, neutral=65), "completed"),
        # 20 of 50 (40 %): upper bound 53.82, but fewer than 100 ratings
        (_vn4(unsatisfied=0, satisfied=20, neutral=30), "completed"),
        # 51 of 100: upper bound 60.58 is over 60
        (_vn4(unsatisfied=0, satisfied=51, neutral=49), "completed"),
        # 50 of 100: upper bound 59.62, the whole interval under 60
        (_vn4(unsatisfied=0, satisfied=50, neutral=50), "not_completed"),
        # Đồng Hới's first year, 553 of 1,000: upper bound 58.36
        (_vn4(unsatisfied=0, satisfied=553, neutral=447), "not_completed"),
    ],
)
def test_classify_each_class(fig: Figures, code: str) -> None:
    result = classify(fig, load_policy(None))
    assert result is not None
    assert result.code == code
    assert result.policy_version == "2026-12-vi-du-3"


def test_classify_texts() -> None:
    policy = load_policy(None)
    good = classify(_vn4(unsatisfied=2, satisfied=48), policy)
    assert good is not None
    assert (good.label_vi, good.label_en) == (
        "Hoàn thành tốt nhiệm vụ",
        "Good completion of duties",
    )
    assert good.rule == (
        "Hoàn thành tốt nhiệm vụ: tỷ lệ hài lòng từ 78 % trở lên và tỷ lệ “Không hài lòng” "
        "không quá 5 % (chính sách 2026-12-vi-du-3)"
    )
    assert good.rule_en == (
        "Good completion of duties: satisfied share at least 78 % and “Dissatisfied” share at "
        "most 5 % (policy 2026-12-vi-du-3)"
    )
    harshest = classify(_vn4(unsatisfied=10, satisfied=40, neutral=50), policy)
    assert harshest is not None
    assert harshest.rule == (
        "Không hoàn thành nhiệm vụ: ngay cả ước tính cao nhất của tỷ lệ hài lòng cũng không quá "
        "60 % và có ít nhất 100 đánh giá (chính sách 2026-12-vi-du-3)"
    )
    assert harshest.rule_en == (
        "Non-completion of duties: satisfied share at most 60 % even at its highest estimate and "
        "at least 100 ratings (policy 2026-12-vi-du-3)"
    )
    rest = classify(_vn4(unsatisfied=11, satisfied=19), policy)
    assert rest is not None
    assert rest.rule == (
        "Hoàn thành nhiệm vụ: không thuộc các mức ở trên (chính sách 2026-12-vi-du-3)"
    )
    assert rest.rule_en == (
        "Completion of duties: none of the rules above applies (policy 2026-12-vi-du-3)"
    )
    assert [r.text("vi") for r in policy.classification][-1] == "các trường hợp còn lại"
    assert policy.classification[0].text("vi") == (
        "tỷ lệ hài lòng từ 88 % trở lên, tỷ lệ “Không hài lòng” không quá 3 % và có ít nhất "
        "100 đánh giá"
    )


def test_the_upper_bound_condition_holds_at_its_exact_limit() -> None:
    text = 'version = "edges"\n' + _rule("wilson_high_max = 59.62\nratings_min = 100") + CATCH_ALL
    policy = parse_policy(text, "edges.toml")
    at = classify(_vn4(unsatisfied=0, satisfied=50, neutral=50), policy)  # upper 59.62
    above = classify(_vn4(unsatisfied=0, satisfied=51, neutral=49), policy)  # upper 60.58
    assert at is not None and at.code == "good"
    assert above is not None and above.code == "rest"
    assert at.rule == (
        "Tốt: ngay cả ước tính cao nhất của tỷ lệ hài lòng cũng không quá 59,62 % và có ít nhất "
        "100 đánh giá (chính sách edges)"
    )


def test_too_few_ratings_are_not_classified() -> None:
    policy = load_policy(None)
    assert classify(_vn4(unsatisfied=0, satisfied=29), policy) is None  # 29 < 30
    assert classify(_vn4(unsatisfied=0, satisfied=30), policy) is not None  # exactly 30
    assert classify(figures({}), policy) is None
    flagged = figures({("vn4", 4): LevelTally(40, flagged=11)})  # 29 counted
    assert classify(flagged, policy) is None


def test_conditions_hold_at_their_exact_limits() -> None:
    text = (
        'version = "edges"\nmin_ratings = 1\n'
        + _rule(
            "satisfied_pct_min = 90\nunsatisfied_pct_max = 3.33\nhappy_index_min = 81.11\n"
            "ratings_min = 30"
        )
        + CATCH_ALL
    )
    policy = parse_policy(text, "edges.toml")
    # 1, 2, 10, 17 on vn4: satisfied 27/30 = 90.00, dissatisfied 1/30 = 3.33,
    # happy (2·100/3 + 10·200/3 + 17·100)/30 = 81.11
    exact = figures(
        {
            ("vn4", 1): LevelTally(1),
            ("vn4", 2): LevelTally(2),
            ("vn4", 3): LevelTally(10),
            ("vn4", 4): LevelTally(17),
        }
    )
    result = classify(exact, policy)
    assert result is not None and result.code == "good"
    assert result.rule == (
        "Tốt: tỷ lệ hài lòng từ 90 % trở lên, chỉ số hài lòng từ 81,11 trở lên, tỷ lệ “Không "
        "hài lòng” không quá 3,33 % và có ít nhất 30 đánh giá (chính sách edges)"
    )
    assert result.rule_en == (
        "Good: satisfied share at least 90 %, happy index at least 81.11, “Dissatisfied” share "
        "at most 3.33 % and at least 30 ratings (policy edges)"
    )
    # one more neutral rating: 27/31 = 87.10 < 90, and only the catch-all is left
    one_more = figures(
        {
            ("vn4", 1): LevelTally(1),
            ("vn4", 2): LevelTally(3),
            ("vn4", 3): LevelTally(10),
            ("vn4", 4): LevelTally(17),
        }
    )
    result = classify(one_more, policy)
    assert result is not None and result.code == "rest"
    # 29 ratings: min_ratings = 1 lets it be classified, ratings_min = 30 keeps it out of "good"
    result = classify(_vn4(unsatisfied=0, satisfied=29), policy)
    assert result is not None and result.code == "rest"


def test_a_lone_catch_all() -> None:
    result = classify(_vn4(unsatisfied=0, satisfied=30), parse_policy(MINIMAL, "p.toml"))
    assert result is not None
    assert result.rule == (
        "Không hoàn thành nhiệm vụ: mọi cán bộ đủ số đánh giá (chính sách test-1)"
    )


def test_a_policy_built_without_a_catch_all_says_so() -> None:
    policy = Policy(
        version="code",
        name=None,
        description=None,
        min_ratings=1,
        misuse=MisuseRules(),
        classification=(ClassRule("top", "Tốt", "Good", wilson_low_min=99),),
        alerts=(),
        source="in code",
    )
    with pytest.raises(PolicyError, match="in code: no \\[\\[classification\\]\\] rule matched"):
        classify(_vn4(unsatisfied=5, satisfied=5), policy)


# --- misuse -----------------------------------------------------------------------------

T0 = datetime(2026, 11, 21, 2, 15, tzinfo=UTC)


def _s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_which_flags_are_counted() -> None:
    rules = MisuseRules()
    assert rules.counts(["no_officer"])
    assert rules.counts(["burst", "cooldown"])
    assert not rules.counts([])
    assert not MisuseRules(count=("burst",)).counts(["cooldown", "no_officer"])
    assert MisuseRules(count=("burst",)).counts(["cooldown", "burst"])
    with pytest.raises(ValueError, match="unknown flag"):
        rules.counts(["cooldwn"])


def test_lookback() -> None:
    assert lookback(MisuseRules()) == timedelta(seconds=60)
    assert lookback(MisuseRules(cooldown_s=90.0)) == timedelta(seconds=90)


def test_a_first_press_is_clean() -> None:
    assert misuse_flags([], T0, True, MisuseRules()) == []


@pytest.mark.parametrize(
    ("gap", "flagged"),
    [
        (0.0, True),  # the same instant: gap 0 is within
        (2.999999, True),
        (3.0, False),  # exactly cooldown_s: not within
        (3.5, False),
    ],
)
def test_cooldown_edges(gap: float, flagged: bool) -> None:
    flags = misuse_flags([_s(-60), _s(-gap)], T0, True, MisuseRules())
    assert ("cooldown" in flags) is flagged


def test_cooldown_looks_at_the_latest_earlier_press_only() -> None:
    rules = MisuseRules()
    # given out of order: the latest earlier press is 1 s before
    assert misuse_flags([_s(-1), _s(-10)], T0, True, rules) == ["cooldown"]
    # a press after this one (delivered late) is not an earlier press
    assert misuse_flags([_s(-10), _s(1)], T0, True, rules) == []


def test_cooldown_off() -> None:
    assert misuse_flags([T0], T0, True, MisuseRules(cooldown_s=0.0)) == []


def test_burst_edges() -> None:
    rules = MisuseRules()  # the 5th press within 60 s
    four_before = [_s(-40), _s(-30), _s(-20), _s(-10)]
    assert misuse_flags(four_before, T0, True, rules) == ["burst"]  # 4 + this one = 5
    assert misuse_flags(four_before[1:], T0, True, rules) == []  # 3 + 1 = 4
    # exactly 60 s before is outside the window (pressed_at − 60 s, pressed_at]
    assert misuse_flags([_s(-60), *four_before[1:]], T0, True, rules) == []
    assert misuse_flags([_s(-59.999999), *four_before[1:]], T0, True, rules) == ["burst"]
    # later presses in the same burst are flagged too
    assert misuse_flags([_s(-50), *four_before], T0, True, rules) == ["burst"]


def test_outside_service() -> None:
    assert misuse_flags([], T0, False, MisuseRules()) == []  # tickets not required
    required = MisuseRules(require_service=True)
    assert misuse_flags([], T0, False, required) == ["outside_service"]
    assert misuse_flags([], T0, True, required) == []


def test_flags_together_in_order() -> None:
    rules = MisuseRules(require_service=True, burst_count=2)
    assert misuse_flags([_s(-1)], T0, False, rules) == ["cooldown", "burst", "outside_service"]


# --- the flags ----------------------------------------------------------------------------


def _flags_table() -> str:
    rows = ["| flag | nhãn | label | set by | shipped policy |", "|---|---|---|---|---|"]
    for f in flags.FLAGS:
        shipped = "**left out** (bỏ ra)" if f.excluded_by_default else "counted (tính)"
        rows.append(f"| `{f.name}` | {f.label_vi} | {f.label_en} | {f.set_by} | {shipped} |")
    return "\n".join(rows)


def test_docs_list_every_flag_as_server_flags_says() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    between = docs.split("<!-- flags:begin -->\n", 1)[1].split("\n<!-- flags:end -->", 1)[0]
    assert between == _flags_table()


def test_the_shipped_policy_leaves_out_exactly_the_flags_marked_so() -> None:
    count = load_policy(None).misuse.count
    assert set(count) == set(flags.EXCLUDED_BY_DEFAULT)
    assert set(count) == {
        "cooldown",
        "burst",
        "outside_service",
        "no_officer",
        "officer_mismatch",
        "counter_mismatch",
        "seq_reused",
        "out_of_order",
        "late_while_online",
    }
    assert "clock_corrected" not in count and "time_unknown" not in count


def test_any_flag_may_be_counted_and_an_unknown_one_is_named() -> None:
    text = MINIMAL + '[misuse]\ncount = ["clock_corrected", "clock_unsynced"]\n'
    assert parse_policy(text, "p.toml").misuse.count == ("clock_corrected", "clock_unsynced")
    nested = _error(MINIMAL + '[misuse]\ncount = [["burst"], {a = 1}]\n')
    assert (
        "count must be a list of flags from" in nested and "(['burst'], {'a': 1} unknown)" in nested
    )
    error = _error(MINIMAL + '[misuse]\ncount = ["out_of_order", "late"]\n')
    assert error.startswith("policy.toml: [misuse] count must be a list of flags from [")
    assert error.endswith("('late' unknown)")


def test_the_out_of_order_alert_settings() -> None:
    text = MINIMAL + '[[alerts]]\nid = "order"\nkind = "ratings_out_of_order"\n'
    assert parse_policy(text, "p.toml").alerts == (
        RatingsOutOfOrder(
            id="order",
            count=1,
            window_minutes=60,
            label_vi="Đánh giá sai thứ tự trên một thiết bị: 1 trong 60 phút",
            label_en="Ratings out of order on one unit: 1 within 60 minutes",
        ),
    )
    wrong = _error(text + "threshold_pct = 5\n")
    assert "'order' threshold_pct is not a setting of kind ratings_out_of_order" in wrong
    assert "window_minutes must be an integer ≥ 1, not 0" in _error(text + "window_minutes = 0\n")


def test_the_silent_alert_and_office_hours() -> None:
    text = MINIMAL + (
        '[[alerts]]\nid = "quiet"\nkind = "silent"\nminutes = 45\n'
        '[office_hours]\ndays = "mon tue wed thu fri"\nhours = ["13:30-17:00", "07:00-11:00"]\n'
        'saturday_hours = ["07:30-11:30"]\n'
    )
    policy = parse_policy(text, "policy.toml")
    assert policy.alerts == (
        UnitSilent(
            id="quiet",
            minutes=45,
            label_vi="Thiết bị im lặng quá 45 phút trong giờ làm việc",
            label_en="A unit silent for over 45 minutes of office hours",
        ),
    )
    assert policy.office_hours == OfficeHours(
        frozenset(range(5)), ((420, 660), (810, 1020)), ((450, 690),)
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            '[office_hours]\ndays = "T9"',
            "[office_hours] days unknown weekday 'T9': use T2 T3 T4 T5 T6 T7 CN",
        ),
        ('[office_hours]\ndays = ""', "[office_hours] days must be a non-empty string"),
        (
            '[office_hours]\nhours = ["07:30"]',
            "[office_hours] hours '07:30' is not a span of time: write HH:MM-HH:MM",
        ),
        (
            '[office_hours]\nsaturday_hours = ["11:30-07:30"]',
            "[office_hours] saturday_hours '11:30-07:30': the end must come after the start",
        ),
        (
            "[office_hours]\nsaturday = []",
            "[office_hours] saturday is not a setting here (did you mean saturday_hours?)",
        ),
        (
            '[[alerts]]\nid = "q"\nkind = "silent"\nminutes = 0',
            "[[alerts]] 'q' minutes must be an integer ≥ 1, not 0",
        ),
        (
            '[[alerts]]\nid = "q"\nkind = "silent"\ncount = 2',
            "[[alerts]] 'q' count is not a setting of kind silent (its settings: minutes)",
        ),
    ],
)
def test_office_hours_and_silent_errors(table: str, message: str) -> None:
    assert _error(MINIMAL + table + "\n").startswith(f"policy.toml: {message}")


OLDER_EXAMPLE = """version = "2026-12-default"
[[classification]]
code = "excellent"
label_vi = "Hoàn thành xuất sắc nhiệm vụ"
label_en = "Excellent completion of duties"
wilson_low_min = 90
unsatisfied_pct_max = 2
[[classification]]
code = "good"
label_vi = "Hoàn thành tốt nhiệm vụ"
label_en = "Good completion of duties"
wilson_low_min = 80
unsatisfied_pct_max = 5
[[classification]]
code = "completed"
label_vi = "Hoàn thành nhiệm vụ"
label_en = "Completion of duties"
wilson_low_min = 60
[[classification]]
code = "not_completed"
label_vi = "Không hoàn thành nhiệm vụ"
label_en = "Non-completion of duties"
"""


def test_an_older_policy_still_loads_and_the_issues_officer_is_no_longer_failed() -> None:
    """The issue's officer: 145 of 220 satisfied (65.91 %), lower bound 59.42, upper 71.85.
    An agency's copy of the previous example keeps working as written; the new example asks
    for the whole interval at or under 60 % before the harshest class."""
    issue = _vn4(unsatisfied=10, satisfied=145, neutral=65)
    older = classify(issue, parse_policy(OLDER_EXAMPLE, "agency.toml"))
    now = classify(issue, load_policy(None))
    assert older is not None and older.code == "not_completed"
    assert older.rule == (
        "Không hoàn thành nhiệm vụ: không thuộc các mức ở trên (chính sách 2026-12-default)"
    )
    assert now is not None and now.code == "completed"


def test_the_documented_example_rules_are_the_shipped_ones() -> None:
    """docs/policy.md's table of the example's rules (code, labels, conditions) and the words
    it quotes for each rule are what the shipped file says and the reports print."""
    docs = DOCS.read_text(encoding="utf-8")
    policy = load_policy(None)
    section = docs[docs.index("## Xếp loại") : docs.index("## Cảnh báo")]
    documented = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"`[a-z_]+`", cells[0]) and cells[0] != "`code`":
            conditions = dict(re.findall(r"`(\w+) = ([\d.]+)`", cells[3]))
            documented[cells[0].strip("`")] = (cells[1], cells[2], conditions)
    shipped = {
        r.code: (
            r.label_vi,
            r.label_en,
            {c: number_text(getattr(r, c), "en") for c in CONDITIONS if getattr(r, c) is not None},
        )
        for r in policy.classification
    }
    assert documented == shipped
    assert list(documented) == [r.code for r in policy.classification]
    for rule in policy.classification:
        assert f"| {rule.label_vi} | {rule.text('vi')} |" in section
    assert f"(chính sách {policy.version})" in section
