"""Alerts: the policy's rules checked against the ratings, shown to unit heads and sent to a
webhook."""
