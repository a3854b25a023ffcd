"""cell_candidates: a cell lists every codeword that can be nearest to its points (brute force)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conftest import FAST, cell_of, distances, tie_image
from vqimage import _cells_kernels


def listed(start, items, t):
    return items[start[t] : start[t + 1]]


@st.composite
def candidate_case(draw):
    d = draw(st.integers(1, 4))
    bits = draw(st.integers(1, {1: 6, 2: 6, 3: 6, 4: 4}[d]))
    k = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    spread = draw(st.sampled_from(["inside", "outside", "grid"]))
    margin = draw(st.sampled_from([0.0, 0.5, 3.0, 20.0]))
    return d, bits, k, seed, spread, margin


def candidate_centers(rng, k, d, spread):
    if spread == "grid":
        return rng.choice([0.0, 64.0, 128.0, 192.0, 255.0], (k, d))
    if spread == "outside":
        return rng.uniform(-100, 355, (k, d))
    return rng.uniform(0, 255, (k, d))


def nearest_set(dist_row):
    return set(np.flatnonzero(dist_row == dist_row.min()).tolist())


@FAST
@given(candidate_case())
def test_cell_candidates_hold_every_possible_nearest(case):
    d, bits, k, seed, spread, margin = case
    rng = np.random.default_rng(seed)
    centers = candidate_centers(rng, k, d, spread)
    points = rng.integers(0, 256, (150, d), dtype=np.uint8)
    if spread == "grid":
        points[:50] = tie_image(rng, (50, d))
    cells = cell_of(points, bits)
    cell_ids = np.unique(cells)
    start, items, radius = _cells_kernels.cell_candidates(centers, cell_ids, bits, 0.0, margin)
    assert start.size == cell_ids.size + 1 and radius.size == cell_ids.size
    # Codewords moved by at most ``margin`` each, in random directions.
    step = rng.normal(size=(k, d))
    length = np.where(rng.random(k) < 0.5, margin, rng.uniform(0, margin, k))
    step *= (length / np.maximum(np.linalg.norm(step, axis=1), 1e-300))[:, None]
    moved = centers + step
    dist, dist_moved = distances(points, centers), distances(points, moved)
    for i, t in enumerate(np.searchsorted(cell_ids, cells)):
        candidates = listed(start, items, t)
        assert candidates.size >= 1 and (np.diff(candidates) > 0).all()  # increasing: ties stay exact
        assert nearest_set(dist[i]) <= set(candidates.tolist())
        assert nearest_set(dist_moved[i]) <= set(candidates.tolist())
        out = np.setdiff1d(np.arange(k), candidates)
        if out.size:  # left out: beyond radius from the box, beyond radius - margin after moving
            assert np.sqrt(dist[i, out]).min() > radius[t]
            assert np.sqrt(dist_moved[i, out]).min() > radius[t] - margin - 1e-9
            if margin:  # the worst case: listed codewords move away from the point, the others towards it
                toward = points[i] - centers
                toward /= np.maximum(np.linalg.norm(toward, axis=1), 1e-300)[:, None]
                sign = np.where(np.isin(np.arange(k), candidates), -1.0, 1.0)[:, None]
                worst = distances(points[i : i + 1], centers + sign * (margin * (1 - 1e-12)) * toward)[0]
                assert nearest_set(worst) <= set(candidates.tolist())


@FAST
@given(candidate_case())
def test_cell_candidates_extent_one_covers_real_points(case):
    d, bits, k, seed, spread, _ = case
    rng = np.random.default_rng(seed)
    centers = candidate_centers(rng, k, d, spread)
    points = rng.uniform(0, 256, (150, d))
    points[:10] = np.floor(points[:10]) + (1 - 2.0**-30)  # near the far edge of a pixel's unit cube
    assert points.max() < 256
    cells = cell_of(np.floor(points).astype(np.uint8), bits)
    cell_ids = np.unique(cells)
    start, items, _ = _cells_kernels.cell_candidates(centers, cell_ids, bits, 1.0, 0.0)
    dist = distances(points, centers)
    for i, t in enumerate(np.searchsorted(cell_ids, cells)):
        assert nearest_set(dist[i]) <= set(listed(start, items, t).tolist())


def test_cell_candidates_prune():
    # Far-apart codewords: a cell in one corner only needs the codeword in that corner.
    centers = np.array([[0.0, 0, 0], [255, 255, 255], [0, 255, 0], [255, 0, 0]])
    start, items, _ = _cells_kernels.cell_candidates(centers, np.array([0], np.int64), 6, 0.0, 0.0)
    assert items[start[0] : start[1]].tolist() == [0]
