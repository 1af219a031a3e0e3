"""Errors of the engine. User-side ones exit 2 from the CLI; anything else is a bug."""


class NestingError(Exception):
    """Base of the engine's errors."""


class SpecError(NestingError, ValueError):
    """A marker specification or option that cannot be honoured (names the field)."""


class InfeasibleError(NestingError, ValueError):
    """The pieces cannot form a marker on this fabric (names the piece and the reason)."""


class VerificationError(NestingError):
    """A marker failed the independent check. Raised by the engine, this is a bug, never output."""


class MarkerFileError(NestingError, ValueError):
    """A marker file that cannot be read as marker/1 (names the file and the field)."""
