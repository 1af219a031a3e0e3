"""User-facing errors about pattern files: each names the file, the piece and the reason."""


class PatternError(ValueError):
    """A pattern file that cannot be used as it is.

    The message is one line: ``FILE: piece PIECE (block BLOCK): REASON`` (piece and block only
    when known), so the CLI can print it as is and exit 2.
    """

    def __init__(self, file, reason, piece=None, *, block=None):
        self.file = str(file)
        self.piece = piece
        self.block = block
        self.reason = reason
        where = [self.file]
        if piece is not None:
            where.append(f"piece {piece}" + (f" (block {block})" if block is not None and block != piece else ""))
        elif block is not None:
            where.append(f"block {block}")
        message = ": ".join(where + [str(reason)])
        super().__init__(" ".join(message.split()))  # one line, even when it quotes a file's bad line
