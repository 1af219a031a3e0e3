"""DXF pattern files as pieces: AAMA / ASTM D6673 piece blocks, or a generic drawing.

`read_dxf` opens the file (recovering a damaged one), decides its flavour, resolves its units
and hands over to `patterns.dxf.aama` or `patterns.dxf.generic`. Everything it returns is in
mm; the report says what was read, repaired and doubtful.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import shapely

from patterns.dxf.aama import is_aama, read_aama
from patterns.dxf.document import entity_text, open_dxf, text_decoder
from patterns.dxf.fields import parse_fields
from patterns.dxf.generic import read_generic
from patterns.dxf.loops import ReadProblem
from patterns.dxf.modelspace import model_space_flavor, read_model_space
from patterns.dxf.options import ImportOptions
from patterns.dxf.outline import OutlineProblem, thin
from patterns.errors import PatternError
from patterns.report import Code, finish, new_report, note
from patterns.selection import unique_in_order
from patterns.units import resolve_units

__all__ = ["ImportOptions", "read_dxf"]


def read_dxf(path, units=None, **options) -> tuple[list, dict]:
    """Read the pieces of a DXF pattern file.

    Parameters
    ----------
    path : the DXF file.
    units : override the file's units (``mm``, ``cm``, ``in``...); required when the file
        states none.
    **options : see `ImportOptions` (``layer``, ``flavor``, ``keep_folds``, ``chord_mm``,
        ``gap_mm``, ``layer_map``).

    Returns
    -------
    pieces : list of `Piece`, in mm, grain along +x; one per block (AAMA) or contour (generic).
    report : dict with ``units`` (always ``"mm"``), ``file_units``, ``flavor``, ``style``,
        ``sizes``, ``fabrics``, ``repairs``, ``warnings``, ``largest_gap_mm`` and counts.

    Raises
    ------
    PatternError : the file cannot be used; the message names file, block/piece and reason.
    """
    path = Path(path)
    settings = ImportOptions.from_kwargs(path, units=units, **options)
    report = new_report()
    try:
        pieces = _read(path, settings, report)
    except ReadProblem as problem:
        raise PatternError(path, str(problem)) from None
    return pieces, finish(report)


def _read(path: Path, settings: ImportOptions, report: dict) -> list:
    doc = open_dxf(path, report)
    decode = text_decoder(doc)
    texts = [entity_text(e, decode, report) for e in doc.modelspace().query("TEXT MTEXT")]
    style, _ = parse_fields(texts)
    flavor = settings.flavor if settings.flavor != "auto" else _flavor(doc, texts)
    unit_warnings = []
    resolved = resolve_units(path, settings.units, style.get("units"), doc.header.get("$INSUNITS"), unit_warnings)
    for warning in unit_warnings:
        note(report, Code.UNITS, warning)
    scale = resolved.to_mm
    if flavor == "aama":
        pieces = read_aama(doc, path, style, scale, settings, decode, report)
        if style.get("sample size"):
            pieces = [replace(piece, sample_size=style["sample size"]) for piece in pieces]
        if _is_astm(doc, texts):
            flavor = "astm"
    elif flavor in ("optitex", "marker-plot"):
        pieces = read_model_space(doc, path, flavor, style, scale, settings, decode, report)
    else:
        pieces = read_generic(doc, path, scale, settings, report)
    if not pieces:
        raise PatternError(path, "no pieces found")
    pieces = [_thin_dense(piece, path, settings, report) for piece in pieces]
    report["vertices_removed"] = int(report["vertices_removed"])
    report.update(
        flavor=flavor, file_units=resolved.name, units_from=resolved.origin, scale_to_mm=scale,
        style=style.get("style name"), sample_size=style.get("sample size"), author=style.get("author"),
        pieces=len(pieces), sizes=unique_in_order(p.size for p in pieces),
        fabrics=unique_in_order(p.fabric for p in pieces),
    )
    _check_plausible(pieces, settings, resolved, report)
    return pieces


def _flavor(doc, model_texts) -> str:
    """``aama`` (piece blocks), ``optitex`` (pieces in model space named by ``Piece Name:``
    texts), ``marker-plot`` (a marker drawn in model space: a border around placed pieces) or
    ``generic``."""
    if is_aama(doc):
        return "aama"
    return model_space_flavor(doc, model_texts) or "generic"


def _thin_dense(piece, path, settings, report):
    """The piece, its outline thinned to the chord tolerance when it is far denser than any
    curve needs (a digitiser's raw points): the engine's no-fit polygons grow with the product
    of two pieces' vertex counts."""
    count = shapely.get_num_coordinates(piece.outline)
    if count <= settings.dense_vertices:
        return piece
    try:
        outline = thin(piece.outline, settings.chord_mm, settings.max_vertices)
    except OutlineProblem as problem:
        raise PatternError(path, f"too dense an outline: {problem}", piece=piece.name, block=piece.block) from None
    after = shapely.get_num_coordinates(outline)
    report["vertices_removed"] += count - after
    note(report, Code.THINNED, f"{count} outline vertices thinned to {after}, within the chord tolerance "
                               f"{settings.chord_mm:g} mm", piece=piece.name, before=count, after=after)
    return replace(piece, outline=outline)


def _is_astm(doc, style_texts) -> bool:
    """ASTM D6673 rather than AAMA: the style text says so, or blocks carry validation curves."""
    return any("ASTM" in text.upper() for text in style_texts) or any(
        str(getattr(e.dxf, "layer", "")).strip() == "84" for block in doc.blocks for e in block
    )


def _check_plausible(pieces, settings, resolved, report) -> None:
    """Warn when piece sizes suggest the wrong units (a 300 m sleeve, a 0.5 mm front)."""
    low, high = settings.plausible_mm
    extents = [max(b[2] - b[0], b[3] - b[1]) for b in (p.outline.bounds for p in pieces)]
    if max(extents) > high or max(extents) < low:
        note(report, Code.PLAUSIBILITY,
            f"the largest piece is {max(extents):.4g} mm long with units {resolved.name} "
            f"(from {resolved.origin}): if that is wrong, pass --units"
        )
