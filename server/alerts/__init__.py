"""Alerts: the policy's rules checked against the ratings, shown to unit heads and sent to a
webhook.

`rules` decides (pure), `checks` reads the database and raises each alert once, `messages` writes
what people read, `delivery` POSTs alerts to the webhook and `jobs` runs it all periodically."""
