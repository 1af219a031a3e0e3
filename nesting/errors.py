"""Errors of the engine. User-side ones exit 2 from the CLI; anything else is a bug."""

MAX_SHOWN = 60  # characters of a bad value quoted in a message


def shown(value) -> str:
    """``repr(value)`` for an error message, cut short; an integer too long to print is described."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


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


class OutputError(NestingError):
    """An output folder that cannot be written (names the folder and the reason); nothing there changed."""


class Abandoned(BaseException):
    """The work in progress was given up (a stop request or the deadline before anything to keep).

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it. Raised
    from a signal handler, it may surface wrapped (a SystemError from a compiled callback):
    `was_abandoned` looks through the chain.
    """


def was_abandoned(exc: BaseException | None) -> bool:
    """Whether ``exc`` is, or was caused by, `Abandoned`."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, Abandoned):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
