"""The engine on folded, tubular and striped fabric and in shade sections: every marker it
returns is verified, and checked here again against plain geometry (shapely bounds of the
placed outlines, the match point carried by shapely's own transforms)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import Point, Polygon, box

from nesting import spread
from nesting.config import NestConfig
from nesting.engine import nest
from nesting.errors import SpecError
from nesting.fabric import Fabric, Repeat
from nesting.model import MarkerRules, PieceRules
from nesting.sections import nest_sections
from patterns.piece import Annotations, Match, Piece


def half(piece_id, length, depth, quantity=1):
    """A half body: its mirror line the top edge (y = 0), the piece below, a sloped hem."""
    outline = Polygon([(0, 0), (length, 0), (length, -depth), (0.3 * length, -0.8 * depth), (0, -0.6 * depth)])
    return Piece(piece_id, piece_id, outline, quantity=quantity, size="M", source="t.dxf", folded=True,
                 annotations=Annotations(mirror_line=((0.0, 0.0), (length, 0.0))))


def whole(piece_id, w, h, quantity=1, mirrored=0):
    return Piece(piece_id, piece_id, box(0, 0, w, h), quantity=quantity, mirrored_quantity=mirrored, size="M",
                 source="t.dxf")


def stated_rules(pieces, fabric, ratio=1):
    stated = []
    for p in pieces:
        placed = spread.placed_pieces((p,), fabric)[0]
        stated.append(PieceRules(p.id, p.name, p.size, None, p.source, tuple(p.rotations), 0.0, p.flip,
                                 placed.quantity, placed.mirrored_quantity, p.outline,
                                 (p.quantity // ratio, p.mirrored_quantity // ratio), spread.yields(p, fabric),
                                 spread.fold_line(p, fabric), p.match))
    return MarkerRules(fabric, 0.0, tuple(stated), (("M", ratio),))


def nested(pieces, fabric, iterations=20, ratio=1):
    rules = stated_rules(pieces, fabric, ratio)
    return nest(spread.placed_pieces(pieces, fabric), fabric, NestConfig(iterations=iterations, seed=1), rules=rules)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mode=st.sampled_from(["folded", "tubular"]), lengths=st.lists(st.floats(150, 400), min_size=1, max_size=3),
       width=st.floats(260, 500))
def test_halves_lie_on_a_fold_and_pairs_are_one_placement(mode, lengths, width):
    pieces = [half(f"H{k}", length, 110) for k, length in enumerate(lengths)] + [whole("SLEEVE", 120, 90, 1, 1)]
    fabric = Fabric(width, spread=mode)
    marker = nested(pieces, fabric)
    by_id = {p.id: p for p in marker.pieces}
    assert len(marker.placements) == len(lengths) + 1  # the pair is one placement
    for placement, polygon in zip(marker.placements, marker.polygons()):
        if not by_id[marker.pieces[placement.piece].id].folded:
            continue
        _, miny, _, maxy = polygon.bounds  # the half's mirror line is its outline's top or bottom edge
        assert maxy == pytest.approx(width, abs=1e-6) or (mode == "tubular" and miny == pytest.approx(0.0, abs=1e-6))


def test_tubular_uses_both_edges_and_is_shorter_than_folded():
    pieces = [half(f"H{k}", 300, 150, quantity=2) for k in range(2)]
    folded = nested(pieces, Fabric(320.0, spread="folded"), iterations=30)
    tubular = nested(pieces, Fabric(320.0, spread="tubular"), iterations=30)
    assert tubular.length < 0.75 * folded.length  # two rows on the tube, one under the fold
    bottoms = [poly.bounds[1] for poly in tubular.polygons()]
    assert any(abs(b) < 1e-6 for b in bottoms)


def test_a_spread_refuses_what_it_cannot_cut():
    with pytest.raises(SpecError, match="cuts 2"):
        spread.placed_pieces([whole("FRONT", 100, 100, quantity=1)], Fabric(300.0, spread="folded"))
    with pytest.raises(SpecError, match="no fold"):
        spread.placed_pieces([half("H", 200, 100)], Fabric(300.0, spread="face-to-face"))
    across = replace(half("H", 200, 100), annotations=Annotations(mirror_line=((0.0, 0.0), (0.0, -60.0))))
    with pytest.raises(SpecError, match="cannot lie on the fold"):
        spread.placed_pieces([across], Fabric(300.0, spread="folded"))
    with pytest.raises(SpecError, match="must be 0"):
        from nesting.fabric import Margins

        spread.placed_pieces([half("H", 200, 100)], Fabric(300.0, margins=Margins(top=5), spread="folded"))
    with pytest.raises(SpecError, match="larger than the usable width"):
        spread.placed_pieces([whole("A", 10, 10)], Fabric(300.0, repeat=Repeat(across=400.0)))


def match_point_on_lattice(marker, repeat):
    """Each matched copy's match point, carried by shapely's transforms, on the repeat (the oracle)."""
    for placement in marker.placements:
        piece = marker.pieces[placement.piece]
        if piece.match is None:
            continue
        point = Point(piece.match.point)
        if placement.mirrored:
            point = affinity.scale(point, -1.0, 1.0, origin=(0, 0))
        point = affinity.translate(affinity.rotate(point, placement.rotation, origin=(0, 0)), placement.x, placement.y)
        for wanted, value, period, offset in ((piece.match.along, point.x, repeat.along, repeat.offset_along),
                                              (piece.match.across, point.y, repeat.across, repeat.offset_across)):
            if wanted:
                phase = (value - offset) % period
                assert min(phase, period - phase) < 1e-6, (piece.id, value, period, offset)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(along=st.sampled_from([None, 40.0, 55.5]), across=st.sampled_from([40.0, 33.3]), offset=st.floats(0, 30),
       strategy=st.sampled_from(["blf", "auto"]))
def test_matched_pieces_land_on_the_repeat(along, across, offset, strategy):
    repeat = Repeat(along=along, across=across, offset_along=offset, offset_across=offset / 2)
    match = Match((60.0, 45.0), along=along is not None, across=True, group="body")
    pieces = [replace(whole("FRONT", 200, 150, quantity=2), match=match, rotations=(0.0, 180.0)),
              replace(whole("BACK", 210, 160), match=match), whole("POCKET", 60, 50, quantity=3)]
    fabric = Fabric(500.0, repeat=repeat)
    rules = stated_rules(pieces, fabric)
    marker = nest(pieces, fabric, NestConfig(iterations=25, seed=2, strategy=strategy), rules=rules)
    match_point_on_lattice(marker, repeat)


def test_sections_keep_each_garment_together():
    pieces = [whole("FRONT", 300, 200, quantity=3), whole("BACK", 300, 220, quantity=3),
              whole("SLEEVE", 150, 120, quantity=3, mirrored=3)]
    fabric = Fabric(500.0)
    rules = stated_rules(pieces, fabric, ratio=3)
    marker = nest_sections(pieces, fabric, NestConfig(iterations=10, seed=0), rules, count=3)
    spans = marker.rules.sections
    assert len(spans) == 3 and spans[0][0] == 0 and spans[-1][1] == pytest.approx(marker.length)
    section_of = {}
    for placement, polygon in zip(marker.placements, marker.polygons()):
        piece = marker.pieces[placement.piece]
        garment = placement.copy if placement.copy < piece.quantity else placement.copy - piece.quantity  # one per garment
        k = next(k for k, (a, b) in enumerate(spans) if a - 1e-6 <= polygon.bounds[0] and polygon.bounds[2] <= b + 1e-6)
        section_of.setdefault(garment, set()).add(k)
    assert all(len(ks) == 1 for ks in section_of.values()) and len(section_of) == 3
    assert math.isclose(sum(b - a for a, b in spans), marker.length)


def test_the_marker_dxf_keeps_the_halves_mirror_lines_on_layer_6(tmp_path):
    """Read back with dxfgrabber (not our writer's library): each half's block has its
    layer-6 line on the fold; the fold edges are model-space lines; no layer 6 on an open marker."""
    dxfgrabber = pytest.importorskip("dxfgrabber")
    from export.dxf import write_dxf
    from export.placed import from_marker

    pieces = [half("H0", 300, 150, quantity=2), whole("SLEEVE", 120, 90, 1, 1)]
    marker = nested(pieces, Fabric(320.0, spread="tubular"))
    write_dxf(from_marker(marker), tmp_path / "m.dxf")
    drawing = dxfgrabber.readfile(str(tmp_path / "m.dxf"))
    mirror_lines = [e for block in drawing.blocks for e in block if e.layer == "6"]
    assert len(mirror_lines) == 2  # the two halves, not the sleeve
    for line in mirror_lines:
        ys = {round(line.start[1], 6), round(line.end[1], 6)}
        assert ys == {0.0} or ys == {320.0}
    folds = [e for e in drawing.entities if e.layer == "FOLD"]
    assert sorted(round(e.start[1], 6) for e in folds) == [0.0, 320.0]
    open_marker = nested([whole("SLEEVE", 120, 90, 1, 1)], Fabric(320.0))
    write_dxf(from_marker(open_marker), tmp_path / "open.dxf")
    drawing = dxfgrabber.readfile(str(tmp_path / "open.dxf"))
    assert not [e for block in drawing.blocks for e in block if e.layer == "6"]


def test_whole_repeats_lengthen_the_marker_and_its_last_section():
    from nesting.lattice import whole_repeats
    from nesting.verify import violations

    pieces = [whole("FRONT", 310, 200, quantity=2), whole("BACK", 290, 220, quantity=2)]
    fabric = Fabric(500.0, repeat=Repeat(along=37.0))
    marker = nest_sections(pieces, fabric, NestConfig(iterations=5, seed=0), stated_rules(pieces, fabric, ratio=2),
                           count=2)
    rounded = whole_repeats(marker)
    assert rounded.length >= marker.length and rounded.length / 37.0 == pytest.approx(round(rounded.length / 37.0))
    assert rounded.effective_rules().sections[-1][1] == rounded.length and violations(rounded) == []
    assert violations(replace(rounded, length=rounded.length + 5.0)) != []  # no longer whole repeats


def test_the_fallback_marker_keeps_folds_and_matches():
    """The columns of bounding boxes written when the budget ends before the first marker."""
    from nesting.engine import to_marker
    from nesting.geometry import prepare
    from nesting.search.base import Problem
    from nesting.shelf import shelf_layout
    from nesting.verify import violations

    repeat = Repeat(along=40.0, across=30.0, offset_along=5.0)
    match = Match((60.0, 45.0), along=True, across=True)
    pieces = [half("H", 300, 150, quantity=2), replace(whole("FRONT", 200, 150, quantity=2), match=match),
              whole("POCKET", 60, 50, quantity=4)]
    fabric = Fabric(400.0, spread="tubular", repeat=repeat)
    placed = spread.placed_pieces(pieces, fabric)
    config = NestConfig()
    prep = prepare(placed, fabric, config)
    marker = replace(to_marker(Problem(prep, None, config), shelf_layout(prep)), rules=stated_rules(pieces, fabric, 1))
    assert violations(marker) == []
    match_point_on_lattice(marker, repeat)
