"""Shade sections: every garment's pieces (its bundle) cut from one stretch of the marker.

The shade of a roll drifts along its length, so the pieces of one garment must not come from
far apart. The bundles are dealt to the sections by area (largest first, each to the section
with the least area so far: balanced, deterministic), each section is nested on its own, and
the sections are laid end to end, a spacing apart. That is simple and sound by construction
(a bundle never meets a boundary); it gives up the density a piece could gain by crossing
one, which is what the rule forbids anyway.
"""

from __future__ import annotations

import math
from dataclasses import replace

from nesting.engine import nest
from nesting.errors import InfeasibleError, SpecError
from nesting.fabric import Margins
from nesting.model import Marker, MarkerRules, Placement
from nesting.verify import verify

MAX_ATTEMPTS = 4  # for a section length: more sections after a section came out too long


def bundles(pieces, rules: MarkerRules, label=str) -> dict:
    """``{bundle: [(piece index, copy), ...]}`` of the placements' copies (`MarkerRules.bundle_of`)."""
    stated = {r.id: r for r in rules.pieces}
    found = {}
    for p, piece in enumerate(pieces):
        r = stated[piece.id]
        for copy in range(piece.demand):
            bundle = rules.bundle_of(r, copy)
            if bundle is None:
                raise SpecError(f"{label('fabric.sections')}: piece {piece.id} belongs to no garment of a size ratio, "
                                "so shade sections cannot keep garments together; give the sizes")
            found.setdefault(bundle, []).append((p, copy))
    return found


def deal(pieces, groups: dict, count: int) -> list[list]:
    """The bundles dealt to ``count`` sections: largest first, each to the lightest section."""
    area = {key: sum(pieces[p].area for p, _ in copies) for key, copies in groups.items()}
    sections = [[] for _ in range(count)]
    load = [0.0] * count
    for key in sorted(groups, key=lambda k: (-area[k], str(k))):
        k = min(range(count), key=lambda j: (load[j], j))
        sections[k].extend(groups[key])
        load[k] += area[key]
    return [s for s in sections if s]


def nest_sections(pieces, fabric, config, rules: MarkerRules, count: int | None = None,
                  section_length: float | None = None, stop=None, listener=None, label=str, **nest_options) -> Marker:
    """A verified marker of ``pieces`` in shade sections: ``count`` of them, or as few as keep each
    within ``section_length``. ``label`` names a spec field in errors."""
    if fabric.zones:
        raise SpecError(f"{label('fabric.sections')}: clear zones and shade sections together are not supported; give one of them")
    groups = bundles(pieces, rules, label)
    if count is not None:
        if not 1 <= count <= len(groups):
            raise SpecError(f"{label('fabric.sections')}: {count} sections for {len(groups)} garments; give 1..{len(groups)}")
        return _nested(pieces, fabric, config, rules, deal(pieces, groups, count), None, stop, listener, nest_options)
    usable = fabric.width - fabric.margins.bottom - fabric.margins.top
    area = sum(p.area * p.demand for p in pieces)
    count = min(len(groups), max(1, math.ceil(area / (usable * section_length * 0.7))))
    for attempt in range(MAX_ATTEMPTS):
        marker = _nested(pieces, fabric, config, rules, deal(pieces, groups, count), section_length, stop, listener,
                         nest_options, final=attempt == MAX_ATTEMPTS - 1 or count == len(groups))
        if marker is not None:
            return marker
        count += 1
    raise InfeasibleError(f"{label('fabric.section_length')}: no {count} sections kept each within the section length {section_length:g}")


def _nested(pieces, fabric, config, rules, dealt, section_length, stop, listener, nest_options, final=True):
    """Nest each section alone and lay them end to end; None if one is longer than ``section_length``."""
    placements, spans, start, stats = [], [], 0.0, []
    total_area = sum(pieces[p].area for copies in dealt for p, _ in copies)
    for k, copies in enumerate(dealt):
        last = k == len(dealt) - 1
        sub_pieces, copy_of = _section_pieces(pieces, copies)
        margins = Margins(fabric.margins.bottom, fabric.margins.top, fabric.margins.start if k == 0 else 0.0,
                          fabric.margins.end if last else config.spacing)
        share = sum(pieces[p].area for p, _ in copies) / total_area
        sub_config = replace(config, time_limit=None if config.time_limit is None else config.time_limit * share,
                             iterations=None if config.iterations is None else max(1, int(config.iterations * share)))
        sub_stop = None
        if stop is not None:
            sub_stop = stop.share(share / max(1e-9, 1.0 - sum(s[2] for s in spans)))
            sub_stop.time_limit = sub_config.time_limit
        section_fabric = replace(fabric, max_length=None, margins=margins)
        marker = nest(sub_pieces, section_fabric, sub_config, stop=sub_stop, listener=listener,
                      rules=_section_rules(rules, sub_pieces, section_fabric), **nest_options)
        if section_length is not None and marker.length > section_length and not final:
            return None
        stats.append({**marker.stats, "elapsed_s": marker.elapsed_s})
        for placement in marker.placements:
            p, copy = copy_of[placement.piece][placement.copy]
            placements.append(Placement(p, copy, placement.rotation, placement.mirrored, placement.x + start,
                                        placement.y))
        spans.append((start, start + marker.length, share))
        start += marker.length
    sections = tuple((a, b) for a, b, _ in spans)
    merged = _summed(stats)
    marker = Marker(pieces=tuple(pieces), fabric=fabric, placements=tuple(placements), length=start, seed=config.seed,
                    elapsed_s=merged.pop("elapsed_s", 0.0),
                    units=nest_options.get("units", "mm"), input=nest_options.get("input_name", ""),
                    target_utilization=config.target_utilization, spacing=config.spacing,
                    rules=replace(rules, sections=sections, section_length=section_length))
    if fabric.max_length is not None and marker.length > fabric.max_length:
        raise InfeasibleError(f"fabric.max_length: the sections need {marker.length:.1f} of length, more than the "
                              f"table's {fabric.max_length:g}")
    marker.stats.update(merged, sections=len(sections))
    return verify(marker, config.tolerances)


def _section_rules(rules: MarkerRules, sub_pieces, fabric) -> MarkerRules:
    """The marker's rules for one section alone: its copies, its fabric; the garment counts are the whole's."""
    stated = {r.id: r for r in rules.pieces}
    pieces = tuple(replace(stated[p.id], quantity=p.quantity, mirrored_quantity=p.mirrored_quantity, per_garment=None)
                   for p in sub_pieces)
    return replace(rules, fabric=fabric, pieces=pieces, sizes=None, sections=None, section_length=None,
                   whole_repeats=False)


def _summed(stats: list[dict]) -> dict:
    """The sections' engine statistics as one marker's: times and counts added, flags any, names the first's."""
    merged = {}
    for one in stats:
        for key, value in one.items():
            if isinstance(value, bool):
                merged[key] = merged.get(key, False) or value
            elif isinstance(value, int | float):
                merged[key] = merged.get(key, 0) + value
            else:
                merged.setdefault(key, value)
    return merged


def _section_pieces(pieces, copies):
    """The section's pieces (quantities of its copies alone) and, per section piece and copy, the marker's."""
    by_piece = {}
    for p, copy in sorted(copies):
        by_piece.setdefault(p, []).append(copy)
    sub_pieces, copy_of = [], []
    for p, chosen in by_piece.items():
        piece = pieces[p]
        drawn = [c for c in chosen if c < piece.quantity]
        mirrored = [c for c in chosen if c >= piece.quantity]
        sub_pieces.append(replace(piece, quantity=len(drawn), mirrored_quantity=len(mirrored)))
        copy_of.append([(p, c) for c in drawn + mirrored])
    return sub_pieces, copy_of
