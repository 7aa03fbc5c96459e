"""The registry with its rules: units, fields, counters, officers, devices and shifts, and the
Config and device.toml each unit is given."""
