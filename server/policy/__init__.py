"""The local policy: which presses are misuse, how many ratings make a figure, how officers are
classified and when to alert. docs/policy.md explains each setting.

None of this is law: Vietnamese regulations on evaluating civil servants leave the criteria to the
employing agency, so the agency writes them in a TOML file and every report run stores the
policy `version` it used. `rules` holds the values and the pure functions that apply them, `file`
reads and checks the agency's file; the rest of the server imports both from here.
"""

from server.policy.file import BUILT_IN, DEFAULT_FILE, load_policy, parse_policy
from server.policy.office_hours import OfficeHours
from server.policy.rules import (
    ALERT_KINDS,
    CONDITIONS,
    AlertRule,
    ChannelRules,
    Classification,
    ClassRule,
    MisuseRules,
    Policy,
    PolicyError,
    Press,
    RatingsOutOfOrder,
    Scored,
    UnitSatisfiedBelow,
    UnitSilent,
    UnsatisfiedAtCounter,
    classify,
    gap,
    lookback,
    misuse_flags,
)

__all__ = [
    "ALERT_KINDS",
    "BUILT_IN",
    "CONDITIONS",
    "DEFAULT_FILE",
    "AlertRule",
    "ChannelRules",
    "ClassRule",
    "Classification",
    "MisuseRules",
    "Policy",
    "PolicyError",
    "Press",
    "RatingsOutOfOrder",
    "Scored",
    "OfficeHours",
    "UnitSatisfiedBelow",
    "UnitSilent",
    "UnsatisfiedAtCounter",
    "classify",
    "gap",
    "load_policy",
    "lookback",
    "misuse_flags",
    "parse_policy",
]
