"""The Hài Lòng counter unit: a Raspberry Pi at a counter, facing the citizen.

Read top-down from `main.run`: `settings` (device.toml) → `unit.Unit` (a press becomes a Rating,
stored first in `outbox.Outbox`) → `link.Link` (MQTT: send, Ack, Config, Status). Around the unit:
`buttons` (gpiozero) and `screen` (pygame, drawing a `view.View`); `clock` is the time seam and
`simulator.SimulatedUnit` runs units headless for the demo fleet and the tests.
"""
