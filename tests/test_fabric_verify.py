"""The verifier against markers placed by hand: a half piece off the fold, a match point off
the repeat, a garment across shade sections, wrong counts on a two-ply spread. Each wrong
marker must be refused, each right one accepted (the oracle is the construction itself)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import box

from nesting.fabric import Fabric, Repeat
from nesting.model import MarkerRules, Match, PieceRules, oriented
from nesting.verify import Placed, check

HALF = box(0, -100, 300, 0)  # a half piece, its mirror line along its top edge (y = 0)
FOLD = ((0.0, 0.0), (300.0, 0.0))


def rules_of(pieces, fabric, sizes=None, sections=None):
    return MarkerRules(fabric, 0.0, tuple(pieces), sizes, sections=sections)


def stated(piece_id="P", outline=HALF, quantity=1, yields=1, fold=None, match=None, per_garment=None, size="M"):
    return PieceRules(piece_id, piece_id, size, None, "p.dxf", "180", 0.0, False, quantity, 0, outline, per_garment,
                      yields, fold, match)


def placed(piece, copy, x, y, rotation=0.0):
    polygon = affinity.translate(oriented(piece.outline, rotation, False), x, y)
    return Placed(piece.id, copy, rotation, False, x, y, polygon)


@settings(max_examples=40, deadline=None)
@given(x=st.floats(0, 500), gap=st.floats(0.5, 200))
def test_a_half_piece_below_the_fold_is_refused(x, gap):
    fabric = Fabric(400.0, spread="folded")
    piece = stated(fold=FOLD)
    rules = rules_of([piece], fabric)
    assert check(rules, [placed(piece, 0, x, 400.0)], 1000.0) == []
    problems = check(rules, [placed(piece, 0, x, 400.0 - gap)], 1000.0)
    assert any("not on the fold" in p for p in problems)


@settings(max_examples=20, deadline=None)
@given(x=st.floats(0, 500))
def test_tubular_takes_either_edge_folded_only_the_top(x):
    piece = stated(fold=FOLD)
    at_bottom = placed(piece, 0, x + 300.0, 0.0, rotation=180.0)  # turned: the line at y = 0, the piece above it
    assert check(rules_of([piece], Fabric(400.0, spread="tubular")), [at_bottom], 1000.0) == []
    problems = check(rules_of([piece], Fabric(400.0, spread="folded")), [at_bottom], 1000.0)
    assert any("not on the fold" in p for p in problems)


def test_a_half_piece_on_an_open_spread_and_wrong_yields_are_refused():
    piece = stated(fold=FOLD)
    problems = check(rules_of([piece], Fabric(400.0)), [placed(piece, 0, 0.0, 400.0)], 1000.0)
    assert any("has no fold" in p for p in problems)
    whole = stated(outline=box(0, 0, 300, 100), yields=1)
    problems = check(rules_of([whole], Fabric(400.0, spread="folded")), [placed(whole, 0, 0.0, 0.0)], 1000.0)
    assert any("cuts 2" in p for p in problems)


def test_two_ply_counts_are_checked_against_the_garments():
    fabric = Fabric(400.0, spread="face-to-face")
    pair = stated(outline=box(0, 0, 300, 100), quantity=1, yields=2, per_garment=(1, 1))
    assert check(rules_of([pair], fabric, sizes=(("M", 1),)), [placed(pair, 0, 0.0, 0.0)], 1000.0) == []
    short = stated(outline=box(0, 0, 300, 100), quantity=1, yields=2, per_garment=(1, 1))
    problems = check(rules_of([short], fabric, sizes=(("M", 2),)), [placed(short, 0, 0.0, 0.0)], 1000.0)
    assert any("needs 4 pieces" in p for p in problems)


@settings(max_examples=60, deadline=None)
@given(k=st.integers(0, 5), j=st.integers(0, 20), off=st.floats(0, 39), wrong=st.floats(0.2, 39.8), axis=st.sampled_from([0, 1]))
def test_a_match_point_off_the_repeat_is_refused(k, j, off, wrong, axis):
    repeat = Repeat(along=40.0, across=40.0, offset_along=off, offset_across=off)
    match = Match((50.0, 30.0), along=True, across=True)
    piece = stated(outline=box(0, 0, 100, 60), match=match)
    fabric = Fabric(400.0, repeat=repeat)
    # the reference so that the match point lies on the lattice
    x, y = off + 40.0 * j - 50.0 + 200.0, off + 40.0 * k - 30.0 + 40.0
    rules = rules_of([piece], fabric)
    assert check(rules, [placed(piece, 0, x, y)], 2000.0) == []
    dx, dy = (wrong, 0.0) if axis == 0 else (0.0, wrong)
    problems = check(rules, [placed(piece, 0, x + dx, y + dy)], 2000.0)
    assert any("off the repeat" in p for p in problems)


def test_a_match_without_its_repeat_is_refused():
    piece = stated(outline=box(0, 0, 100, 60), match=Match((50.0, 30.0), along=True, across=False))
    problems = check(rules_of([piece], Fabric(400.0, repeat=Repeat(across=40.0))), [placed(piece, 0, 0.0, 0.0)], 1000.0)
    assert any("no such repeat" in p for p in problems)


@settings(max_examples=30, deadline=None)
@given(split=st.floats(150, 850))
def test_a_garment_across_sections_is_refused(split):
    # two garments of size M, one front each: copy 0 is garment 0, copy 1 garment 1
    front = stated(outline=box(0, 0, 100, 100), quantity=2, per_garment=(1, 0))
    back = stated("B", outline=box(0, 0, 100, 100), quantity=2, per_garment=(1, 0))
    rules = rules_of([front, back], Fabric(400.0), sizes=(("M", 2),), sections=((0.0, 500.0), (500.0, 1000.0)))
    right = [placed(front, 0, 0, 0), placed(back, 0, 0, 150), placed(front, 1, 600, 0), placed(back, 1, 600, 150)]
    assert check(rules, right, 1000.0) == []
    mixed = [placed(front, 0, 0, 0), placed(back, 0, 600, 150), placed(front, 1, 600, 0), placed(back, 1, 0, 150)]
    assert any("of the same garment" in p for p in check(rules, mixed, 1000.0))
    across = [placed(front, 0, 450, 0), *right[1:]]
    assert any("across a section boundary" in p for p in check(rules, across, 1000.0))
    wrong_span = rules_of([front, back], Fabric(400.0), sizes=(("M", 2),), sections=((0.0, split), (split + 10, 1000.0)))
    assert any("does not follow" in p for p in check(wrong_span, right, 1000.0))


@settings(max_examples=200, deadline=None)
@given(value=st.floats(-1e4, 1e4), lo=st.floats(-1e4, 1e4), span=st.floats(0, 1e4), phase=st.floats(-500, 500),
       period=st.floats(0.5, 300))
def test_snap_finds_the_nearest_lattice_value_in_range_like_the_kernel(value, lo, span, phase, period):
    from nesting.kernels.separate import _on_rule
    from nesting.lattice import snap, values

    hi = lo + span
    snapped = snap(value, lo, hi, phase, period)
    assert snapped == pytest.approx(_on_rule(value, lo, hi, phase, period), abs=1e-9)
    k = (snapped - phase) / period
    assert abs(k - round(k)) < 1e-6  # on the lattice
    inside = values(lo, hi, phase, period)
    if len(inside):  # the slow oracle: the nearest of every lattice value in range
        assert lo - 1e-6 <= snapped <= hi + 1e-6
        assert abs(snapped - value) <= min(abs(inside - value)) + 1e-6


def test_on_two_plies_the_garments_a_placement_serves_stay_in_one_section():
    # folded, 4 garments: one front a garment (2 placements, each cutting the fronts of two
    # garments), a sleeve pair a garment (4 placements): bundles are garments {0, 1} and {2, 3}
    fabric = Fabric(400.0, spread="folded")
    front = stated("F", outline=box(0, 0, 100, 100), quantity=2, yields=2, per_garment=(1, 0))
    sleeve = stated("S", outline=box(0, 0, 100, 100), quantity=4, yields=2, per_garment=(1, 1))
    rules = rules_of([front, sleeve], fabric, sizes=(("M", 4),), sections=((0.0, 500.0), (500.0, 1000.0)))
    right = [placed(front, 0, 0, 0), placed(sleeve, 0, 0, 150), placed(sleeve, 1, 200, 150),
             placed(front, 1, 600, 0), placed(sleeve, 2, 600, 150), placed(sleeve, 3, 800, 150)]
    assert check(rules, right, 1000.0) == []
    # garment 1's sleeves in the second section, apart from the front it shares with garment 0
    wrong = [*right[:2], placed(sleeve, 1, 800, 280), *right[3:]]
    assert any("of the same garment" in p for p in check(rules, wrong, 1000.0))
