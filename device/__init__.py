"""The Hài Lòng counter unit: a Raspberry Pi at a counter, facing the citizen.

Read top-down from `main.run`: `settings` (device.toml) → `unit.Unit` (a press becomes a Rating,
stored first in `outbox.Outbox`) → `link.Link` (MQTT: the connection, Status, Config) with
`delivery` (sending the outbox, Acks). The unit asks its `guard` whether to take a press, dates
it by `timekeeping` and holds a low score on the `reasons` page. Around the unit: `buttons`
(gpiozero), `outputs` and `audio` (its `feedback`), and `screen` (pygame: input and the window;
`pages` draws a `view.View` with `drawing`'s faces and portraits in `layout`'s places); `clock`
is the time seam. Nothing here knows of simulation: `system.simulator` runs units headless with
a clock and a guard of its own.
"""
