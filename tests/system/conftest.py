"""Fixtures of the programs' tests: the simulated units use the device tests' own."""

from tests.device.conftest import clock, make_settings, server

__all__ = ["clock", "make_settings", "server"]
