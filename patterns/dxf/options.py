"""Every knob of DXF import in one frozen dataclass, with the tolerances in mm."""

from __future__ import annotations

from dataclasses import dataclass, fields

from patterns.dxf.repair import RepairLimits
from patterns.errors import PatternError
from patterns.piece import MAX_VERTICES

FLAVORS = ("auto", "aama", "optitex", "marker-plot", "generic")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How to read a DXF pattern.

    Parameters
    ----------
    units : override the file's units (``mm``, ``cm``, ``in``...).
    layer : generic DXF: read contours from this layer only (default: every layer).
    flavor : ``auto`` (recognised from the file), ``aama``, ``optitex``, ``marker-plot`` or ``generic``.
    keep_folds : keep a piece with a mirror line as the stored half (``folded``) instead of
        unfolding it.
    chord_mm : largest distance between a flattened curve and its chords.
    gap_mm : largest gap between contour ends that is closed by a straight segment.
    layer_map : extra AAMA layer names, e.g. ``{"CUT": 1}``, for writers that remap layers.
    hole_layers : generic DXF: the layers whose inner contours are holes (cut-outs); inner
        contours on other layers are sew or internal lines. Default: every inner contour is a hole.
    max_inserts : resource limit: block references expanded in all (MINSERT copies count).
    max_contours : resource limit: closed contours in the file.
    max_vertices : resource limit: vertices of one piece's outline after thinning.
    repair_limits : how long a spike may be to be taken as a slit notch, and how large a
        self-overlap may be to be cut off (`RepairLimits`).
    """

    units: str | None = None
    layer: str | None = None
    flavor: str = "auto"
    keep_folds: bool = False
    chord_mm: float = 0.1
    gap_mm: float = 0.5
    layer_map: dict | None = None
    hole_layers: tuple[str, ...] | None = None
    max_inserts: int = 10_000
    max_contours: int = 20_000
    max_vertices: int = MAX_VERTICES
    repair_limits: RepairLimits = RepairLimits()
    # Fixed tolerances (not user options): relative to the piece where noted.
    duplicate_mm: float = 1e-6  # consecutive vertices closer than this are one vertex
    simplify_area_rel: float = 1e-6  # collinear-vertex removal changes the area less than this
    match_84_rel: float = 0.02  # layer 84 replaces layer 1 if their areas differ less than this
    on_line_mm: float = 0.5  # a mirror-line end this close to the outline lies on it
    plausible_mm: tuple[float, float] = (5.0, 10_000.0)  # piece extents outside this: check units
    limit_mm: float = 1e8  # coordinates beyond 100 km are refused (overflow, wrong units)
    dense_vertices: int = 5_000  # outlines with more vertices are thinned to the chord tolerance

    @classmethod
    def from_kwargs(cls, path, **kwargs) -> ImportOptions:
        """Options from keyword arguments; ``None`` means default, unknown names are errors."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise TypeError(f"unknown DXF import option(s): {', '.join(unknown)}")
        options = cls(**{k: v for k, v in kwargs.items() if v is not None})
        if options.flavor not in FLAVORS:
            raise PatternError(path, f"unknown DXF flavor {options.flavor!r}: use {', '.join(FLAVORS)}")
        for name in ("max_inserts", "max_contours", "max_vertices"):
            if not (isinstance(getattr(options, name), int) and getattr(options, name) >= 1):
                raise PatternError(path, f"the import limit {name} must be a whole number >= 1")
        if not options.chord_mm > 0 or not options.gap_mm >= 0:
            raise PatternError(path, "the chord tolerance must be > 0 and the gap tolerance >= 0")
        return options
