"""Rules applied to pieces (rotations, tilt, flip, shrinkage, ids) and the rule checks, each
against an independent computation."""

import ast
import math
from dataclasses import replace

import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import Polygon, box

from jobs.spec import MarkerSpec
from nesting import nest, rules
from nesting.config import NestConfig, Tolerances
from nesting.errors import InfeasibleError, SpecError
from nesting.model import Fabric, Margins, Marker, MarkerRules, PieceRules, Placement, oriented
from nesting.orientation import OrientationRule, RuleSet
from nesting.rules import rotation_allowed, rotation_angles
from nesting.verify import Placed, piece_violations, violations
from patterns.piece import Annotations, Notch, Piece
from tests.conftest import ROOT
from tests.naive import non_convex_polygons

ANGLE = Tolerances().verify_angle
RULES = st.one_of(st.sampled_from(["none", "180", "90"]),
                  st.sampled_from([5, 7, 15, 30, 45, 60, 72, 90, 100, 120, 360]).map(lambda s: f"free:{s:g}"))


def _step(rule):
    return {"none": 360.0, "180": 180.0, "90": 90.0}.get(rule) or float(rule.split(":")[1])


def _distance_to_grid(angle, step):
    """Angular distance from ``angle`` to the nearest multiple of ``step`` below 360 (slow and obvious)."""
    multiples = [k * step for k in range(int(360.0 / step) + 1) if k * step < 360.0 - 1e-9]
    return min(min(abs(angle - m) % 360.0, 360.0 - abs(angle - m) % 360.0) for m in multiples)


@given(RULES, st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]))
def test_rotation_angles_stay_within_tilt_of_the_rule(rule, tilt):
    angles = rotation_angles(rule, tilt)
    step = _step(rule)
    assert len(angles) == len(set(angles))
    assert all(0.0 <= a < 360.0 for a in angles)
    assert all(_distance_to_grid(a, step) <= tilt + 1e-9 for a in angles)
    # every base angle is there, and with a tilt both extremes around it
    for k in range(math.ceil(360.0 / step - 1e-9)):
        base = k * step
        assert any(abs((a - base + 180) % 360 - 180) < 1e-9 for a in angles)
        if tilt:
            assert any(abs((a - base - tilt + 180) % 360 - 180) < 1e-9 for a in angles)
            assert any(abs((a - base + tilt + 180) % 360 - 180) < 1e-9 for a in angles)
        assert rotation_allowed(base, rule, tilt, ANGLE) and all(rotation_allowed(a, rule, tilt, ANGLE) for a in angles)


def test_named_rules():
    assert rotation_angles("none") == (0.0,)
    assert rotation_angles("180") == (0.0, 180.0)
    assert rotation_angles("90") == (0.0, 90.0, 180.0, 270.0)
    assert rotation_angles("free:120") == (0.0, 120.0, 240.0)
    assert sorted(rotation_angles("none", 2.0)) == [0.0, 2.0, 358.0]


@given(st.floats(0, 360, exclude_max=True), RULES, st.sampled_from([0.0, 1.0, 2.0]))
def test_rotation_allowed_agrees_with_distance_to_the_rule(angle, rule, tilt):
    distance = _distance_to_grid(angle, _step(rule))
    if abs(distance - tilt) > 1e-5:
        assert rotation_allowed(angle, rule, tilt, ANGLE) == (distance <= tilt)


def test_none_rule_never_allows_a_half_turn():
    assert not rotation_allowed(180.0, "none", 2.0, ANGLE)
    assert not rotation_allowed(90.0, "180", 0.0, ANGLE)
    assert rotation_allowed(359.0, "none", 1.5, ANGLE) and not rotation_allowed(357.0, "none", 2.0, ANGLE)


def test_a_fine_free_rule_is_checked_without_enumerating_its_angles():
    """free:1e-9 has 3.6e11 angles: listing them would exhaust memory; every angle is within one."""
    assert rotation_allowed(123.456, "free:1e-9", 0.0, ANGLE)
    # free:7 allows 0, 7, ..., 357 (and 360 is 0 again): the neighbours across the full turn count
    assert rotation_allowed(359.9999999999, "free:7", 0.0, 1e-6) and rotation_allowed(-0.5, "free:7", 0.5, 0.0)
    assert rotation_allowed(358.9, "free:7", 1.5, 0.0) and not rotation_allowed(353.5, "free:7", 1.5, 0.0)


L_SHAPE = Polygon([(0, 0), (300, 0), (300, 40), (60, 40), (60, 120), (0, 120)])


def _piece(pid="P", name="P", **kw):
    defaults = dict(id=pid, name=name, outline=L_SHAPE, size="M")
    defaults.update(kw)
    return Piece(**defaults)


def test_apply_resolves_rules_and_keeps_what_is_unset():
    spec = MarkerSpec(orientation=RuleSet(
        default=OrientationRule(tilt=1.0),
        categories=(("RIB", OrientationRule("90")),),
        pieces=(("SLEEVE", OrientationRule("none", flip=True)),),
    ))
    sleeve, rib, own = rules.apply([
        _piece("SLEEVE/M", "SLEEVE", category="RIB"),
        _piece("COLLAR/M", "COLLAR", category="RIB"),
        _piece("X/M", "X", rotations=(0.0, 90.0), flip=True),
    ], spec)
    assert sorted(sleeve.rotations) == [0.0, 1.0, 359.0] and sleeve.flip
    assert sorted(rib.rotations) == sorted(rotation_angles("90", 1.0)) and not rib.flip
    assert sorted(own.rotations) == [0.0, 1.0, 89.0, 90.0, 91.0, 359.0] and own.flip  # the piece's own, tilted


def test_rule_keys_matching_no_piece_are_errors():
    with pytest.raises(SpecError, match=r"rules\.pieces\.SLEVE: no piece"):
        rules.apply([_piece()], MarkerSpec(orientation=RuleSet(pieces=(("SLEVE", OrientationRule("none")),))))
    with pytest.raises(SpecError, match=r"rules\.categories\.RIB: no piece has this category"):
        rules.apply([_piece()], MarkerSpec(orientation=RuleSet(categories=(("RIB", OrientationRule("none")),))))


@given(st.floats(-20, 20), st.floats(-20, 20))
def test_shrinkage_scales_along_and_across_the_grain(along, across):
    notch = Notch(100.0, 40.0, angle=45.0, depth=4.0)
    piece = _piece(annotations=Annotations(grain_line=((10.0, 20.0), (250.0, 20.0)), notches=(notch,)))
    (shrunk,) = rules.apply([piece], MarkerSpec(shrinkage=(along, across)))
    fx, fy = 1 / (1 - along / 100), 1 / (1 - across / 100)
    assert shrunk.area == pytest.approx(L_SHAPE.area * fx * fy, rel=1e-9)
    minx, miny, maxx, maxy = shrunk.outline.bounds
    assert (maxx - minx, maxy - miny) == (pytest.approx(300 * fx), pytest.approx(120 * fy))
    # a fabric shrinking by the stated percentages brings the piece back to its drawn size
    back = affinity.scale(shrunk.outline, 1 - along / 100, 1 - across / 100, origin=(0, 0))
    assert back.symmetric_difference(L_SHAPE).area < 1e-6 * L_SHAPE.area
    grain = [c for point in shrunk.annotations.grain_line for c in point]
    assert grain == pytest.approx([10 * fx, 20 * fy, 250 * fx, 20 * fy])
    moved = shrunk.annotations.notches[0]
    assert (moved.x, moved.y, moved.depth) == (pytest.approx(100 * fx), pytest.approx(40 * fy), 4.0)
    assert math.tan(math.radians(moved.angle)) == pytest.approx(fy / fx)


def test_ids_get_the_style_when_several_files_share_a_marker():
    a = [_piece("FRONT/M", "FRONT"), _piece("BACK/M", "BACK")]
    b = [_piece("FRONT/M", "FRONT", style="POLO")]
    merged = rules.unique_ids([("/p/tee.dxf", a), ("/p/polo.dxf", b)])
    assert [p.id for p in merged] == ["tee/FRONT/M", "tee/BACK/M", "POLO/FRONT/M"]
    assert [p.id for p in rules.unique_ids([("/p/tee.dxf", a)])] == ["FRONT/M", "BACK/M"]
    same_stem = rules.unique_ids([("/a/tee.dxf", a), ("/b/tee.dxf", a)])
    assert len({p.id for p in same_stem}) == 4
    with pytest.raises(SpecError, match="occurs twice"):
        rules.unique_ids([("/p/tee.dxf", a + a)])


def test_width_check_uses_the_allowed_rotations():
    long = _piece(outline=box(0, 0, 1000, 100), rotations=(0.0,))
    spec = MarkerSpec(width=500.0)
    rules.check_fits([long], spec)  # 100 across fits in 500
    upright = _piece(outline=box(0, 0, 100, 1000), rotations=(0.0, 180.0))
    with pytest.raises(SpecError, match=r"fabric\.width: piece P does not fit: it needs 1000\.0"):
        rules.check_fits([upright], spec)
    rules.check_fits([_piece(outline=box(0, 0, 100, 1000), rotations=(0.0, 90.0))], spec)
    with pytest.raises(SpecError, match="between the margins"):
        rules.check_fits([long], MarkerSpec(width=500.0, margins=Margins(bottom=200, top=210)))


def test_table_length_lower_bound():
    pieces = [_piece(outline=box(0, 0, 100, 100), quantity=10, rotations=(0.0,))]
    rules.check_fits(pieces, MarkerSpec(width=200.0, max_length=500.0))  # 10 x 100^2 / 200 = 500
    with pytest.raises(SpecError, match=r"fabric\.max_length: the pieces need at least 520\.0"):
        rules.check_fits(pieces, MarkerSpec(width=200.0, max_length=510.0, margins=Margins(start=10, end=10)))


def _stated(**kw):
    values = dict(id="P", name="P", size="M", category=None, source=None, rotations="180", tilt=0.0, flip=False,
                  quantity=2, mirrored_quantity=1, outline=L_SHAPE, per_garment=None)
    values.update(kw)
    return PieceRules(**values)


def _copy(stated, copy, rotation, mirrored):
    """A copy placed honestly: its polygon is the outline under its stated transform, far from the others."""
    x, y = 1000.0 * copy, 500.0
    polygon = affinity.translate(oriented(stated.outline, rotation, mirrored), x, y)
    return Placed(stated.id, copy, rotation, mirrored, x, y, polygon)


def _problems(placed, stated, ratio=None):
    rules = MarkerRules(Fabric(10_000.0), pieces=(stated,), sizes=tuple(ratio.items()) if ratio else None)
    return piece_violations(rules, placed, Tolerances())


def test_piece_violations_find_each_broken_rule():
    stated = _stated()
    good = [_copy(stated, 0, 0.0, False), _copy(stated, 1, 180.0, False), _copy(stated, 2, 0.0, True)]
    assert _problems(good, stated) == []
    assert "breaks its rotation rule 180" in _problems([_copy(stated, 0, 90.0, False)] + good[1:], stated)[0]
    assert "may not flip" in _problems([_copy(stated, 0, 0.0, True)] + good[1:], stated)[0]
    may_flip = _stated(flip=True)
    assert _problems([_copy(may_flip, 0, 0.0, True), _copy(may_flip, 1, 0.0, False), _copy(may_flip, 2, 0.0, False)],
                     may_flip) == []
    assert _problems(good[:2], stated) == ["piece P: copies [2] not placed"]
    assert _problems(good + [good[0]], stated) == ["piece P copy 0 placed 2 times"]
    assert _problems(good + [_copy(stated, 3, 0.0, True)], stated) == ["piece P copy 3 is beyond its demand 3"]
    moved = replace(good[0], x=good[0].x + 1.0)
    assert "polygon is not its outline" in _problems([moved] + good[1:], stated)[0]
    ratio = _stated(quantity=4, mirrored_quantity=2, per_garment=(2, 1))
    placed = [_copy(ratio, c, 0.0, c >= 4) for c in range(6)]
    assert _problems(placed, ratio, {"M": 2}) == []
    assert "size M x 3 needs 6+3" in _problems(placed, ratio, {"M": 3})[0]
    assert "not in the size ratio" in _problems(placed, ratio, {"S": 2})[0]


def test_marker_with_spec_is_checked_against_its_rules():
    """The piece's own rotations allow a half turn; the spec's nap rule does not, and wins."""
    piece = Piece(id="P/M", name="P", outline=box(0, 0, 100, 50), size="M", rotations=(0.0, 180.0))
    spec = MarkerSpec(width=100.0, orientation=RuleSet(default=OrientationRule("none")))

    def marker(rotation, x, y, spec=spec):
        return Marker(pieces=(piece,), fabric=Fabric(100.0), placements=(Placement(0, 0, rotation, False, x, y),),
                      length=100.0, rules=rules.marker_rules((piece,), spec) if spec else None)

    assert violations(marker(0.0, 0.0, 0.0)) == []
    assert violations(marker(180.0, 100.0, 50.0, spec=None)) == []
    assert violations(marker(180.0, 100.0, 50.0)) == ["piece P/M copy 0: rotation 180 breaks its rotation rule none"]


@settings(max_examples=16)
@given(st.lists(non_convex_polygons(), min_size=2, max_size=4), st.floats(1.0, 60.0), st.sampled_from(["none", "180", "90"]),
       st.sampled_from([0.0, 2.0]), st.booleans(), st.floats(0.0, 40.0))
def test_nested_markers_keep_the_buffer_the_margins_and_the_rule(outlines, spacing, rule, tilt, flip, margin):
    """Whatever the pieces, the engine honours spacing, margins and rotation rules (shapely check).

    Zero-width spikes (a vertex that can move by less than a millimetre before the outline
    crosses itself) are left out: cleaning them is the pattern reader's job.
    """
    assume(all(shapely.minimum_clearance(o) > 1.0 for o in outlines))
    pieces = [Piece(id=f"P{k}", name=f"P{k}", outline=o, quantity=2, mirrored_quantity=k % 2) for k, o in enumerate(outlines)]
    spec = MarkerSpec(width=5000.0, spacing=spacing, margins=Margins(margin, margin, margin, margin),
                      orientation=RuleSet(default=OrientationRule(rule, tilt, flip)))
    marker = nest(rules.apply(pieces, spec), spec.fabric, NestConfig(iterations=1, strategy="blf", spacing=spacing))
    polygons = marker.polygons()
    slack = 1e-6 * spec.width
    assert min(shapely.distance(a, b) for i, a in enumerate(polygons) for b in polygons[i + 1:]) >= spacing - slack
    usable = box(margin - slack, margin - slack, marker.length - margin + slack, spec.width - margin + slack)
    assert all(usable.contains(p) for p in polygons)
    for placement in marker.placements:
        # A mirrored copy is reflected across its grain (x -> -x, then a half turn): same nap.
        grain_rotation = placement.rotation - (180.0 if placement.mirrored else 0.0)
        assert _distance_to_grid(grain_rotation % 360.0, _step(rule)) <= tilt + 1e-9
        if not flip:
            assert placement.mirrored == (placement.copy >= pieces[placement.piece].quantity)


def test_a_marker_longer_than_the_table_is_infeasible_not_a_bug():
    """The search does not bound the length; the engine refuses a marker the table cannot hold."""
    pieces = [_piece(outline=box(0, 0, 100, 100), quantity=4, rotations=(0.0,))]
    fabric = Fabric(150.0, max_length=350.0)  # four 100 x 100 squares, one across, need 400
    with pytest.raises(InfeasibleError, match=r"fabric\.max_length: the marker needs 400\.0 of length"):
        nest(pieces, fabric, NestConfig(iterations=1, strategy="blf"))
    marker = nest(pieces, replace(fabric, max_length=401.0), NestConfig(iterations=1, strategy="blf"))
    assert marker.length == pytest.approx(400.0, abs=0.1) and marker.fabric.max_length == 401.0


def _imports(module: str, root) -> set[str]:
    """The project modules ``module`` imports, directly or through others (read with ast)."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        path = root / (name.replace(".", "/") + ".py")
        if name in seen or not path.is_file():
            continue
        seen.add(name)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                todo += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names]
    return seen


def test_the_marker_and_the_fabric_do_not_depend_on_the_spec():
    """The engine's data carries the rules record, not the CLI-level spec: no model <-> spec cycle."""
    for module in ("nesting.model", "nesting.fabric"):
        reached = _imports(module, ROOT)
        assert module in reached and "jobs.spec" not in reached, sorted(reached)
    assert "nesting.fabric" in _imports("jobs.spec", ROOT)
