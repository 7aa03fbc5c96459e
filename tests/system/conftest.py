"""The simulated units are the real unit code: they take the unit tests' fixtures."""

from tests.device.conftest import clock, make_settings, server

__all__ = ["clock", "make_settings", "server"]
