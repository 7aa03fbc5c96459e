"""Alerts: the policy's rules checked against the ratings and the units' silence, shown to unit
heads and sent to a webhook, and answered by people.

`rules` decides (pure), `checks` reads the database and raises each alert once (`silence` for
units silent in office hours), `messages` writes what people read, `delivery` POSTs alerts to the
webhook and `jobs` runs it all periodically; `answers` records who acknowledged and resolved an
alert (audited), and `listing` shows alerts with names, states and their delivery told honestly."""
