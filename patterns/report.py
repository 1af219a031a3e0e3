"""The import report as typed records, in the manner of ezdxf's audit entries.

Every repair the readers make and every doubt they have is one `ImportRecord`: a `Code`
(stable, for scripts and tests), the piece it concerns (or None for the whole file), a
one-line message for people, and the numbers behind it in ``data``. The report dict keeps
them under ``records``; ``repairs`` and ``warnings`` are their messages, for printing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Code(StrEnum):
    """What happened. Codes are only ever added, never renamed."""

    # repairs: the file was changed on reading, and how
    RECOVERED = "recovered"  # damaged DXF read with ezdxf.recover
    RECOVER_FIX = "recover-fix"  # one fix ezdxf.recover made
    TEXT_DECODED = "text-decoded"  # text re-decoded from a wrong code page
    DUPLICATE_CONTOUR = "duplicate-contour"  # a contour drawn twice, one copy dropped
    DEGENERATE_CHAIN = "degenerate-chain"  # a "loop" of no area (a line drawn twice) dropped
    SLIT_NOTCH = "slit-notch"  # an out-and-back spike in the cut line taken out and kept as a notch
    SPIKE_REMOVED = "spike-removed"  # a zero-width spike too short for a notch taken out
    SELF_OVERLAP = "self-overlap"  # a tiny self-overlapping loop of the cut line repaired
    THINNED = "thinned"  # an over-dense outline thinned to the chord tolerance
    NOTCHES_TRANSFERRED = "notches-transferred"  # base-size notches carried to a graded size
    # warnings: read as stated, but doubtful or partly ignored
    UNITS = "units"
    MISSING_BLOCK = "missing-block"
    UNINSERTED_BLOCKS = "uninserted-blocks"
    UNKNOWN_ENTITY = "unknown-entity"
    NO_PIECE_NAME = "no-piece-name"
    NO_QUANTITY = "no-quantity"
    QUANTITY_ZERO = "quantity-zero"
    FOLD = "fold"  # "on fold" stated, or a mirror line that could not be used
    OPEN_LINES = "open-lines"  # open lines besides the boundary, or outside every piece
    SEPARATE_OUTLINES = "separate-outlines"
    CUTOUT_OUTSIDE = "cutout-outside"
    LINES_ON_LAYER = "lines-on-layer"
    NO_GRAIN = "no-grain"
    SKIPPED_BLOCK = "skipped-block"
    NESTED_TOO_DEEP = "nested-too-deep"
    NOTCHES_NOT_TRANSFERRED = "notches-not-transferred"
    PLAUSIBILITY = "plausibility"
    SELF_CROSSING = "self-crossing"  # the cut line crosses itself: read as the region its loops enclose
    REFUSED_PIECE = "refused-piece"  # one piece whose cut line really crosses itself, left out
    SOURCE_MARKER = "source-marker"  # the file is a marker plot: its own length and utilization


REPAIR_CODES = frozenset({
    Code.RECOVERED, Code.RECOVER_FIX, Code.TEXT_DECODED, Code.DUPLICATE_CONTOUR, Code.DEGENERATE_CHAIN,
    Code.SLIT_NOTCH, Code.SPIKE_REMOVED, Code.SELF_OVERLAP, Code.THINNED, Code.NOTCHES_TRANSFERRED,
})


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One repair or warning of an import."""

    code: Code
    message: str
    piece: str | None = None
    data: dict = field(default_factory=dict)

    @property
    def is_repair(self) -> bool:
        return self.code in REPAIR_CODES

    def __str__(self) -> str:
        return f"piece {self.piece}: {self.message}" if self.piece is not None else self.message

    def as_dict(self) -> dict:
        return {"code": str(self.code), "piece": self.piece, "message": self.message, "data": dict(self.data)}


def new_report() -> dict:
    """An empty import report."""
    return {"units": "mm", "records": [], "largest_gap_mm": 0.0, "vertices_removed": 0, "unfolded": 0,
            "outline_from_layer_84": 0}


def note(report: dict, code: Code, message: str, piece: str | None = None, **data) -> None:
    """Add one record to ``report``."""
    report["records"].append(ImportRecord(Code(code), " ".join(message.split()), piece, data))


def finish(report: dict) -> dict:
    """Fill in the printable ``repairs`` and ``warnings`` from the records."""
    report["repairs"] = [str(r) for r in report["records"] if r.is_repair]
    report["warnings"] = [str(r) for r in report["records"] if not r.is_repair]
    return report


def codes(report: dict) -> list[str]:
    """The codes of a report's records, in order (what tests compare)."""
    return [str(r.code) for r in report["records"]]
