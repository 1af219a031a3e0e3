"""Notches for every graded size, from the one size that carries them.

AccuMark graded files put notches only in the base size's block; the other sizes' blocks
have the same boundary structure (the same runs between grade points, graded) but no
notches. A notch is carried over by where it sits on its run: the same run, at the same
fraction of the run's arc length. That is an approximation (the grade rules themselves, which
could move a notch off its proportional place, are not in the file) and is reported as a
repair on every piece it touches. No notch is made where the base size has none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import numpy as np
from shapely.geometry import LineString, Point

from patterns.dxf.assemble import Draft, RawNotch
from patterns.report import Code, note


def transfer_notches(drafts: list[Draft], sample_size: str | None, on_line_mm: float, report: dict) -> list[Draft]:
    """The drafts, each size without notches given its base size's notches along its runs."""
    by_name = defaultdict(list)
    for k, draft in enumerate(drafts):
        by_name[draft.name].append(k)
    result = list(drafts)
    for name, indices in by_name.items():
        carriers = [k for k in indices if drafts[k].notches and drafts[k].runs]
        if not carriers or len(indices) < 2:
            continue
        base = next((k for k in carriers if drafts[k].size == sample_size), carriers[0])
        placed = [_place(n, drafts[base].runs, on_line_mm) for n in drafts[base].notches]
        for k in indices:
            target = drafts[k]
            if target.notches or k == base:
                continue
            if not target.runs or len(target.runs) != len(drafts[base].runs):
                note(report, Code.NOTCHES_NOT_TRANSFERRED,
                     f"size {target.size}: no notches, and its boundary runs do not match size "
                     f"{drafts[base].size}'s, so none were carried over", piece=name, size=target.size)
                continue
            notches = tuple(_at(notch, run, fraction, target.runs) for notch, (run, fraction) in
                            zip(drafts[base].notches, placed) if run is not None)
            if notches:
                result[k] = replace(target, notches=notches)
                note(report, Code.NOTCHES_TRANSFERRED,
                     f"size {target.size}: {len(notches)} notch(es) carried over from size {drafts[base].size} "
                     f"(same run, same fraction of its length)", piece=name, size=target.size,
                     base_size=drafts[base].size, count=len(notches))
    return result


def _place(notch: RawNotch, runs, on_line_mm: float) -> tuple[int | None, float]:
    """``(run, fraction of its arc length)`` of a notch on the boundary, or ``(None, 0)``."""
    point = Point(notch.x, notch.y)
    lines = [LineString(run) for run in runs]
    distances = [line.distance(point) for line in lines]
    k = int(np.argmin(distances))
    if distances[k] > on_line_mm or lines[k].length == 0:
        return None, 0.0
    return k, float(lines[k].project(point, normalized=True))


def _at(notch: RawNotch, run: int, fraction: float, runs) -> RawNotch:
    point = LineString(runs[run]).interpolate(fraction, normalized=True)
    return RawNotch(float(point.x), float(point.y), notch.depth, notch.kind)
