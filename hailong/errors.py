"""One flat family of errors; each message says what was wrong and what to do."""


class HailongError(Exception):
    """Base of every error Hài Lòng raises on purpose."""


class ConfigError(HailongError):
    """A settings file or variable is missing or wrong."""


class BrokerError(HailongError):
    """Mosquitto is missing, will not start, or refused a request."""


class RegistryError(HailongError):
    """A registry write that breaks a rule (unknown unit, duplicate id, overlapping assignment)."""


class NotFound(RegistryError):
    """A referenced unit, counter, officer or device does not exist."""


class UnknownId(NotFound):
    """The record a request is about (the id in its path) does not exist."""
