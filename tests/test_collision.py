"""The collision core against shapely: depth, line search, the NFP mirror, the loss caches."""

import concurrent.futures
import math

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import LinearRing, Point, Polygon

from nesting import Fabric, NestConfig, nest
from nesting.geometry import clean_ring, prepare
from nesting.kernels import separate
from nesting.kernels.polygon import depth_in_rings
from nesting.nfp import NFPCache, nfp_rings
from nesting.search import compaction
from nesting.search.base import Problem, Stop
from nesting.search.bottom_left import area_order, bottom_left
from patterns.instances import load_instance
from patterns.piece import Piece
from tests.conftest import INSTANCES
from tests.naive import holed_polygons, non_convex_polygons


def _ring_set(polygon):
    """A shapely polygon as the kernels' flat ring set (outer ring and holes, even-odd)."""
    rings = [np.asarray(polygon.exterior.coords[:-1])] + [np.asarray(h.coords[:-1]) for h in polygon.interiors]
    offsets = np.cumsum([0] + [len(r) for r in rings]).astype(np.int64)
    return np.ascontiguousarray(np.concatenate(rings), dtype=np.float64), offsets, len(rings)


@given(st.one_of(non_convex_polygons(), holed_polygons()), st.integers(0, 2**32 - 1))
def test_depth_in_rings_is_the_distance_to_the_boundary_inside_and_zero_outside(polygon, seed):
    xy, offsets, n = _ring_set(polygon)
    x0, y0, x1, y1 = polygon.bounds
    for px, py in np.random.default_rng(seed).uniform((x0 - 50, y0 - 50), (x1 + 50, y1 + 50), size=(40, 2)):
        point = Point(px, py)
        to_boundary = polygon.boundary.distance(point)
        if to_boundary < 1e-9 * polygon.length:
            continue  # on the boundary either answer is right
        expected = to_boundary if polygon.contains(point) else 0.0
        assert depth_in_rings(px, py, xy, offsets, 0, n) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def _int_ring(polygon):
    ring = clean_ring(np.round(np.asarray(shapely.orient_polygons(polygon).exterior.coords[:-1])).astype(np.int64))
    assume(len(ring) >= 3 and Polygon(ring).is_valid and Polygon(ring).area > 1.0)
    return ring


def _inside(rings, point):
    """Even-odd membership of a point in a ring set, and its distance to the rings (shapely)."""
    inside = sum(Polygon(r).contains(Point(point)) for r in rings) % 2 == 1
    return inside, min(LinearRing(r).distance(Point(point)) for r in rings)


@given(non_convex_polygons(), non_convex_polygons(), st.integers(0, 2**32 - 1))
def test_nfp_of_b_and_a_is_the_mirror_of_nfp_of_a_and_b(a, b, seed):
    """NFP(B, A) = -NFP(A, B), each computed on its own (the cache stores only one of the two)."""
    ra, rb = _int_ring(a), _int_ring(b)
    forward, backward = nfp_rings(ra, rb), nfp_rings(rb, ra)
    signed = lambda rings: sum(Polygon(r).area * (1 if shapely.is_ccw(LinearRing(r)) else -1) for r in rings)  # noqa: E731
    # The union rounds the loops' crossing points to the grid, each way on its own: the two
    # regions may differ by a band of about a grid unit along the boundary.
    perimeter = sum(LinearRing(r).length for r in forward)
    assert abs(signed(backward) - signed(forward)) <= 1.0 * perimeter
    lo = np.minimum(np.concatenate(forward).min(axis=0), -np.concatenate(backward).max(axis=0)) - 20
    hi = np.maximum(np.concatenate(forward).max(axis=0), -np.concatenate(backward).min(axis=0)) + 20
    for point in np.random.default_rng(seed).uniform(lo, hi, size=(40, 2)):
        inside_forward, distance = _inside(forward, point)
        if distance < 1.0:
            continue
        assert _inside(backward, -point)[0] == inside_forward


def _random_problem(outlines, copies, zone=False):
    pieces = [Piece(id=str(k), name=str(k), outline=affinity.scale(o, 0.01, 0.01), quantity=copies, rotations=(0.0, 180.0))
              for k, o in enumerate(outlines)]
    width = 1.5 * max(max(p.outline.bounds[3] - p.outline.bounds[1], p.outline.bounds[2] - p.outline.bounds[0]) for p in pieces)
    zones = (shapely.box(0.3 * width, 0.0, 0.4 * width, 0.2 * width),) if zone else ()
    config = NestConfig()
    prep = prepare(pieces, Fabric(width, zones=zones), config)
    cache = NFPCache([(s.ring, s.holes) for s in prep.shapes] + [(z, ()) for z in prep.zones])
    return Problem(prep, cache, config)


def _collision_polygon(problem, shape, x, y):
    if shape >= len(problem.prep.shapes):  # a clear zone, in the marker frame
        return Polygon(problem.prep.zones[shape - len(problem.prep.shapes)])
    s = problem.prep.shapes[shape]
    return affinity.translate(Polygon(s.ring, s.holes), x, y)


def _overlap_area(problem, state, item, shape, x, y):
    """Area shared with the other placed items' collision shapes (shapely): the naive oracle."""
    mine = _collision_polygon(problem, shape, x, y)
    return sum(shapely.intersection(mine, _collision_polygon(problem, state.shape_of[j], *state.position[j])).area
               for j in range(len(state.shape_of)) if j != item)


def _random_state(problem, seed):
    rng = np.random.default_rng(seed)
    core = problem.collision
    shapes = np.array([rng.choice(allowed) for allowed in problem.prep.item_shapes])
    length = 2.0 * problem.prep.width
    position = np.array([rng.uniform(core.inner_fit(length, s)[:2], np.maximum(core.inner_fit(length, s)[2:], core.inner_fit(length, s)[:2]))
                         for s in shapes])
    return core.layout_state(shapes, position, length), rng


@settings(max_examples=15, deadline=None)
@given(st.lists(non_convex_polygons(), min_size=2, max_size=3), st.booleans(), st.integers(0, 2**32 - 1))
def test_line_search_finds_the_nearest_free_position_on_the_line(outlines, zone, seed):
    problem = _random_problem(outlines, 2, zone)
    core = problem.collision
    state, rng = _random_state(problem, seed)
    item = int(rng.integers(core.n_movable))
    shape = int(state.shape_of[item])
    x0, y0, x1, y1 = core.inner_fit(state.length, shape)
    x, y = rng.uniform(x0, max(x1, x0)), rng.uniform(y0, max(y1, y0))
    area = _collision_polygon(problem, shape, 0, 0).area
    for axis in (1, 0):
        found, c = core.line_search(state, item, shape, x, y, axis)
        target, lo, hi = (x, x0, x1) if axis == 1 else (y, y0, y1)
        pose = (lambda t: (t, y)) if axis == 1 else (lambda t: (x, t))  # noqa: E731
        if found:
            assert lo - 1e-9 <= c <= hi + 1e-9
            assert _overlap_area(problem, state, item, shape, *pose(c)) <= 1e-6 * area
        # Every position strictly nearer the target (by more than 2 grid units) collides.
        reach = abs(c - target) - 2.0 if found else max(hi - target, target - lo)
        for t in target + np.linspace(-reach, reach, 15):
            if reach > 0 and lo <= t <= hi:
                assert _overlap_area(problem, state, item, shape, *pose(t)) > 0.0, (axis, t, c, found)


def _naive_losses(problem, state):
    """Pair and container losses recomputed with shapely (point in NFP, distance to its rings)."""
    core, inst = problem.collision, problem.collision.instance
    n_items = len(state.shape_of)
    pair, container, near_boundary = np.zeros((n_items, n_items)), np.zeros(n_items), set()
    for i in range(core.n_movable):
        si, (xi, yi) = state.shape_of[i], state.position[i]
        x0, y0, x1, y1 = core.inner_fit(state.length, si)
        over = max(x0 - xi, 0) + max(xi - x1, 0) + max(y0 - yi, 0) + max(yi - y1, 0)
        container[i] = (over + inst.epsilon[si]) * inst.loss_scale[si] ** 2 if over > 0 else 0.0
        for j in range(n_items):
            sj = state.shape_of[j]
            if j == i or (j < core.n_movable and j < i):
                continue
            rings = problem.cache.rings(sj, si)
            if not rings:
                continue
            inside, distance = _inside([np.asarray(r) for r in rings], (xi - state.position[j, 0], yi - state.position[j, 1]))
            if abs(distance - inst.contact) < 1e-6 or distance < 1e-6:
                near_boundary.add((i, j))
            depth = distance if inside else 0.0
            if depth > inst.contact:
                loss = (depth + max(inst.epsilon[si], inst.epsilon[sj])) * inst.loss_scale[si] * inst.loss_scale[sj]
                pair[i, j] = pair[j, i] = loss
    return pair, container, near_boundary


@settings(max_examples=10, deadline=None)
@given(st.lists(non_convex_polygons(), min_size=2, max_size=3), st.booleans(), st.integers(0, 2**32 - 1))
def test_incremental_losses_match_a_shapely_recomputation_after_moves(outlines, zone, seed):
    problem = _random_problem(outlines, 2, zone)
    layout = bottom_left(problem, area_order(problem))
    sep = compaction.Separator(problem, layout, seed)
    sep.fit()
    sep.shrink(0.3)
    for _ in range(3):
        sep.iterate(Stop())
    pair, container, near_boundary = _naive_losses(problem, sep.state)
    cached = sep.state
    assert cached.container_loss[: sep.n_movable] == pytest.approx(container[: sep.n_movable], rel=1e-9)
    for i in range(sep.n_movable):
        for j in range(len(pair)):
            if j != i and (i, j) not in near_boundary and (j, i) not in near_boundary:
                assert cached.pair_loss[i, j] == pytest.approx(pair[i, j], rel=1e-9, abs=1e-9), (i, j)
    assert problem.collision.loss_mismatch(cached) <= 1e-9 * max(1.0, cached.pair_loss.max())


@settings(max_examples=10, deadline=None)
@given(st.lists(non_convex_polygons(), min_size=2, max_size=4), st.integers(1, 3), st.booleans())
def test_bottom_left_fill_leaves_no_overlap_the_separator_would_see(outlines, copies, zone):
    """One collision model: a bottom-left layout has zero separator loss at its own length."""
    problem = _random_problem(outlines, copies, zone)
    layout = bottom_left(problem, area_order(problem))
    core = problem.collision
    state = core.layout_state(layout.shape_of, layout.position, problem.length_of(layout) + core.instance.margin_end)
    assert core.total_loss(state) == 0.0
    for item in range(core.n_movable):
        shape, (x, y) = state.shape_of[item], state.position[item]
        assert core.overlap_depth(state, item, shape, x, y) <= core.instance.contact
        area = _collision_polygon(problem, shape, 0, 0).area
        assert _overlap_area(problem, state, item, shape, x, y) <= 1e-6 * area


def test_snapshot_and_restore_return_to_the_same_losses():
    problem = _random_problem([shapely.box(0, 0, 300, 200), shapely.box(0, 0, 150, 250)], 3)
    sep = compaction.Separator(problem, bottom_left(problem, area_order(problem)), 1)
    sep.fit()
    before, losses = sep.snapshot(), sep.state.pair_loss.copy()
    sep.shrink(0.3)
    sep.iterate(Stop())
    assert not np.array_equal(sep.state.position[: sep.n_movable], before.position)
    sep.restore(before)
    assert np.array_equal(sep.state.position[: sep.n_movable], before.position)
    assert sep.length == before.length and np.array_equal(sep.state.pair_loss, losses)


def test_a_shrink_resets_the_weights_of_every_thread_copy():
    """Weights learnt at one length do not carry over to the next; the threads' copies share them."""
    problem = _random_problem([shapely.box(0, 0, 300, 200), shapely.box(0, 0, 150, 250)], 3)
    with concurrent.futures.ThreadPoolExecutor(1) as threads:
        sep = compaction.Separator(problem, bottom_left(problem, area_order(problem)), 1, threads, n_threads=2)
        sep.fit()
        sep.shrink(0.3)
        for _ in range(5):
            sep.iterate(Stop())
        assert sep.state.pair_weight.max() > 1.0, "no weight grew: the test proves nothing"
        sep.shrink(0.01)
        copy = sep._thread_copies()[0]
        for state in (sep.state, copy):
            assert np.all(state.pair_weight == 1.0) and np.all(state.container_weight == 1.0)


def _weighted_loss(state) -> float:
    """The total weighted loss, summed plainly: each movable pair once, and each container loss."""
    n = state.n_movable
    pairs = np.triu(state.pair_loss * state.pair_weight, 1)[:n].sum()
    return float(pairs + (state.container_loss * state.container_weight)[:n].sum())


def _state_copy(state):
    arrays = ("shape_of", "position", "pair_loss", "container_loss", "pair_weight", "container_weight")
    return state._replace(**{name: getattr(state, name).copy() for name in arrays})


def test_a_shared_round_goes_on_with_the_thread_copy_of_least_weighted_loss():
    """Each thread moves the colliding pieces of its own copy; the copy whose weighted loss is
    least (summed here independently) is the state the search goes on with."""
    problem = _random_problem([shapely.box(0, 0, 300, 200), shapely.box(0, 0, 150, 250), shapely.box(0, 0, 90, 60)], 4)
    winners = []
    with concurrent.futures.ThreadPoolExecutor(2) as threads:
        sep = compaction.Separator(problem, bottom_left(problem, area_order(problem)), 3, threads, n_threads=3)
        sep.fit()
        sep.shrink(0.3)
        for _ in range(8):
            replays = []
            for rng in sep.rngs:  # each thread's round replayed alone, on its own copy
                state, rng = _state_copy(sep.state), rng.copy()
                order = separate.shuffled(sep.n_movable, rng)
                separate.move_items(problem.collision.instance, state, sep.moves, rng, order)
                replays.append(state)
            losses = [_weighted_loss(state) for state in replays]
            sep.iterate(Stop())
            winner = replays[int(np.argmin(losses))]
            winners.append(int(np.argmin(losses)))
            assert np.array_equal(sep.state.position, winner.position)
            assert np.array_equal(sep.state.shape_of, winner.shape_of)
            assert np.array_equal(sep.state.pair_loss, winner.pair_loss)
    assert set(winners) - {0}, "the other threads' copies won no round: the test proves nothing"


def test_debug_check_raises_on_a_stale_loss_cache():
    problem = _random_problem([shapely.box(0, 0, 300, 200), shapely.box(0, 0, 150, 250)], 3)
    sep = compaction.Separator(problem, bottom_left(problem, area_order(problem)), 1)
    sep.fit()
    sep.shrink(0.4)
    state = sep.state
    colliding = [i for i in range(sep.n_movable) if state.pair_loss[i].any() or state.container_loss[i] > 0]
    assert colliding, "the shrink leaves some piece colliding"
    moving = colliding[0]
    others = [i for i in range(sep.n_movable) if i != moving]
    stale = 1e-3 * state.pair_loss.max()
    state.pair_loss[others[0], others[1]] += stale  # an entry the move does not touch
    assert problem.collision.loss_mismatch(state) >= stale
    checked = sep.moves._replace(check_losses=True)
    with pytest.raises(AssertionError, match="differ from a recomputation"):
        separate.move_items(problem.collision.instance, state, checked, sep.rng, np.array([moving]))


def test_the_debug_check_holds_through_a_whole_compaction(monkeypatch):
    """NESTING_CHECK_LOSSES=1: every move of a real search is checked against a recomputation."""
    monkeypatch.setenv(compaction.CHECK_LOSSES_VARIABLE, "1")
    instance = load_instance(INSTANCES / "shapes1.json")
    zone = shapely.box(5.0, 0.0, 7.0, 3.0)
    marker = nest(list(instance.pieces), Fabric(instance.width, zones=(zone,)), NestConfig(seed=3, iterations=25, strategy="compact"))
    assert len(marker.placements) == sum(p.demand for p in instance.pieces)



@settings(max_examples=10, deadline=None)
@given(st.lists(non_convex_polygons(), min_size=2, max_size=3), st.booleans())
def test_windowed_lowest_position_agrees_with_the_whole_strip(outlines, zone):
    """Bottom-left fill windows each query right of the shape's last answer, narrow first: at
    every step the answer is the one the query over the whole strip (every placed NFP, no
    window) gives, to a grid unit: the set of clipped NFPs changes how clipper rounds edge
    intersections."""
    problem = _random_problem(outlines, 3, zone)
    prep, core = problem.prep, problem.collision
    state = core.empty_state()
    frontier = {}
    for item in area_order(problem):
        for s in prep.item_shapes[item]:
            x0, y0, x1, y1 = core._open_fit[s]
            whole = core._lowest_in(state, item, s, (math.ceil(x0), math.ceil(y0), math.floor(x1), math.floor(y1)))
            windowed = core.lowest_position(state, item, s, frontier.get(s, -np.inf))
            # the same position, up to clipper's rounding of edge intersections to the grid
            assert (windowed is None) == (whole is None)
            assert whole is None or max(abs(windowed[0] - whole[0]), abs(windowed[1] - whole[1])) <= 1.0
            if whole is not None:
                frontier[s] = whole[0]
                mine = _collision_polygon(problem, s, *whole)
                shared = sum(shapely.intersection(mine, _collision_polygon(problem, state.shape_of[j], *state.position[j])).area
                             for j in np.flatnonzero(state.shape_of >= 0))
                assert shared <= core.instance.contact * mine.length  # the naive oracle: at most a touch
        s = prep.item_shapes[item][0]
        found = core.lowest_position(state, item, s)
        assert found is not None
        core.place(state, item, s, *found)
