"""Pattern pieces: the piece model and every reader/writer of pattern files.

`patterns` never imports `nesting`: pieces flow one way, from here into the engine.
"""

from patterns.errors import PatternError
from patterns.piece import Annotations, Notch, Piece

__all__ = ["Annotations", "Notch", "Piece", "PatternError", "read_pieces"]


def read_pieces(path, **options):
    """Read pattern pieces from a DXF file or a JSON strip-packing instance.

    Returns ``(pieces, report)``; see `patterns.dxf.read_dxf` and
    `patterns.instances.read_instance` for the options each accepts.
    """
    from pathlib import Path

    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        from patterns.instances import read_instance

        return read_instance(path, **options)
    from patterns.dxf import read_dxf

    return read_dxf(path, **options)
