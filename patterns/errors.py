"""User-facing errors about pattern files: each names the file, the piece and the reason."""


class PatternError(ValueError):
    """A pattern file that cannot be used as it is.

    The message is one line: ``FILE: piece PIECE: REASON`` (the piece part only when known),
    so the CLI can print it as is and exit 2.
    """

    def __init__(self, file, reason, piece=None):
        self.file = str(file)
        self.piece = piece
        self.reason = reason
        where = f"{self.file}: piece {piece}: " if piece is not None else f"{self.file}: "
        super().__init__(where + reason)
