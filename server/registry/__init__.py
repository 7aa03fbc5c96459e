"""The registry with its rules: units, fields, counters, officers, devices and shifts, who is on
duty at a counter, and the Config and device.toml each unit is given."""
