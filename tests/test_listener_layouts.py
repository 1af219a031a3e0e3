"""`Listener.improved_layout`: every improvement the engine reports comes with its layout.

The oracle is shapely on the layouts turned into markers: each is a complete, overlap-free
marker on the fabric whose length is the one reported; the last one is the marker returned.
"""

import pytest

from nesting import Fabric, NestConfig, nest
from nesting.engine import to_marker
from nesting.geometry import prepare
from nesting.search.base import Listener, Problem
from patterns import read_pieces
from tests.conftest import EXAMPLE
from tests.test_search import _independent_overlaps, _outside_the_fabric


class _Layouts(Listener):
    def __init__(self):
        self.reports = []

    def improved_layout(self, elapsed, length, utilization, phase, layout):
        self.reports.append((length, utilization, layout))


class _Lengths(Listener):
    """A listener of lengths only, as every listener was before layouts were reported."""

    def __init__(self):
        self.lengths = []

    def improved(self, elapsed, length, utilization, phase):
        self.lengths.append(length)


@pytest.mark.parametrize("workers", [1, 2])
def test_every_improvement_comes_with_its_layout(workers):
    pieces, _ = read_pieces(EXAMPLE)
    fabric = Fabric(1500.0)
    config = NestConfig(iterations=3000, workers=workers)
    heard = _Layouts()
    marker = nest(pieces, fabric, config, listener=heard)
    problem = Problem(prepare(pieces, fabric, config), None, config)
    assert len(heard.reports) > 1
    lengths = [length for length, _, _ in heard.reports]
    assert lengths == sorted(lengths, reverse=True)
    for length, utilization, layout in heard.reports:
        drawn = to_marker(problem, layout)
        copies = sorted((p.piece, p.copy) for p in drawn.placements)
        assert copies == sorted((p.piece, p.copy) for p in marker.placements)
        assert _outside_the_fabric(drawn) == [] and _independent_overlaps(drawn) == []
        assert problem.length_of(layout) / problem.prep.scale == pytest.approx(length)
        assert problem.utilization_at(problem.length_of(layout)) == pytest.approx(utilization)
    if workers == 1:  # the search's best is its last report (a portfolio may break a tie the other way)
        assert to_marker(problem, heard.reports[-1][2]).placements == marker.placements


def test_a_listener_of_lengths_still_hears_every_improvement():
    pieces, _ = read_pieces(EXAMPLE)
    config = NestConfig(iterations=3000)
    with_layouts, lengths_only = _Layouts(), _Lengths()
    nest(pieces, Fabric(1500.0), config, listener=with_layouts)
    nest(pieces, Fabric(1500.0), config, listener=lengths_only)
    assert lengths_only.lengths == [length for length, _, _ in with_layouts.reports]
