"""The kernels' one sort against numpy's."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from nesting.kernels.sorting import sort_prefix


@given(st.lists(st.integers(-5, 5) | st.integers(-2**62, 2**62), max_size=60), st.data())
def test_sort_prefix_sorts_the_prefix_of_int64_and_leaves_the_rest(values, data):
    n = data.draw(st.integers(0, len(values)))
    array = np.array(values, dtype=np.int64)
    expected = np.concatenate([np.sort(array[:n]), array[n:]])
    sort_prefix(array, n)
    assert np.array_equal(array, expected)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=True, width=64), max_size=60))
def test_sort_prefix_sorts_float64_like_numpy(values):
    array = np.array(values, dtype=np.float64)
    expected = np.sort(array)
    sort_prefix(array, len(array))
    assert np.array_equal(array, expected)
