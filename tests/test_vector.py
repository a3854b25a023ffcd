"""Color and block vector quantization: exact kernels against brute force, fit, codebooks, files, errors."""

import io
import json
import struct
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

import vqimage
from vqimage import Codebook, FitWarning, VQError, _cells, _histogram_kernels, _mapping_kernels, fit
from vqimage._vectors import image_blocks, join_blocks
from vqimage.histogram import vector_histogram
from vqimage.solvers import _vector_kernels as K
from vqimage.pack.container import MAGIC
from vqimage.pack.formats import export, export_bytes
from vqimage.pack.formats import epaper
from vqimage.palettes import palette_codebook

LUMA = np.array([0.299, 0.587, 0.114])
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def astronaut():
    image = vqimage.load_image("astronaut", gray=False)
    image.flags.writeable = False
    return image


# --------------------------------------------------------------------------- brute-force references


def distances(points, centers):
    """Squared distances (n, k), summed component by component in order (as the kernels do)."""
    points = np.asarray(points, np.float64)
    centers = np.asarray(centers, np.float64)
    dist = np.zeros((points.shape[0], centers.shape[0]))
    for j in range(points.shape[1]):
        diff = points[:, None, j] - centers[None, :, j]
        dist += diff * diff
    return dist


def brute_nearest(points, centers):
    """Nearest center of each point, ties to the lowest index (argmin returns the first minimum)."""
    return distances(points, centers).argmin(axis=1)


def reference_codes(image, levels):
    """What ``encode`` must give for a color codebook: brute nearest, alpha-0 pixels to the first clear entry."""
    levels = np.asarray(levels, np.float64)
    d = levels.shape[1]
    if image.shape[-1] == 3 and d == 4:
        image = np.concatenate([image, np.full(image.shape[:-1] + (1,), 255, np.uint8)], axis=-1)
    vectors = image.reshape(-1, d)
    codes = brute_nearest(vectors, levels)
    if d == 4:
        clear = np.flatnonzero(levels[:, 3] == 0)
        if clear.size:
            codes[vectors[:, 3] == 0] = clear[0]
    return codes.reshape(image.shape[:-1])


def cell_of(vectors, bits):
    shift = 8 - bits
    ids = np.zeros(vectors.shape[0], np.int64)
    for j in range(vectors.shape[1]):
        ids = (ids << bits) | (vectors[:, j].astype(np.int64) >> shift)
    return ids


def sse(points, weights, centers):
    return float(weights @ distances(points, centers).min(axis=1))


def image_sse(image, recon):
    return float(((image.astype(np.float64) - recon.astype(np.float64)) ** 2).sum())


def psnr(image, recon):
    return vqimage.metrics.psnr(image, recon)


def tie_palette(rng, k, d):
    """Colors on a coarse grid: pixels on the half-way grid are equidistant from many of them."""
    return rng.choice([0.0, 64.0, 128.0, 192.0, 255.0], (k, d))


def tie_image(rng, shape):
    return rng.choice(np.array([0, 32, 64, 96, 128, 160, 192, 224, 255], np.uint8), shape)


# --------------------------------------------------------------------------- 1. exact remap


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(2, 256),
    d=st.sampled_from([3, 4]),
    kind=st.sampled_from(["int", "float", "ties", "duplicates", "outside"]),
    shape=st.tuples(st.integers(1, 9), st.integers(1, 9)),
)
def test_color_encode_is_the_brute_force_nearest(seed, k, d, kind, shape):
    rng = np.random.default_rng(seed)
    if kind == "ties":
        levels, image = tie_palette(rng, k, d), tie_image(rng, shape + (d,))
    else:
        image = rng.integers(0, 256, shape + (d,), dtype=np.uint8)
        if kind == "float":
            levels = rng.uniform(0, 255, (k, d))
        elif kind == "outside":  # codewords beyond the 8-bit cube are still searched exactly
            levels = rng.uniform(-300, 600, (k, d))
        elif kind == "duplicates":  # identical entries: the lowest code wins
            levels = rng.integers(0, 256, (max(1, k // 3), d)).astype(np.float64)[rng.integers(0, max(1, k // 3), k)]
        else:
            levels = rng.integers(0, 256, (k, d)).astype(np.float64)
    if d == 4 and kind != "outside":
        image[..., 3][rng.random(shape) < 0.2] = 0  # some fully transparent pixels
    cb = Codebook(levels, None, strategy="palette", reconstruction="palette", dtype=np.uint8, mode="color")
    codes = vqimage.encode(image, cb)
    assert codes.shape == shape and codes.dtype == np.uint8
    np.testing.assert_array_equal(codes, reference_codes(image, levels))


def test_encode_ties_go_to_the_lowest_code():
    # (1, 0, 0) is 1 away from both (0, 0, 0) and (2, 0, 0), (1, 1, 1) 3 away from both, in either order.
    image = np.array([[[1, 0, 0], [1, 1, 1], [3, 0, 0]]], np.uint8)
    for levels, expected in [([[0, 0, 0], [2, 0, 0]], [0, 0, 1]), ([[2, 0, 0], [0, 0, 0]], [0, 0, 0]),
                             ([[9, 9, 9], [2, 0, 0], [2, 0, 0], [0, 0, 0]], [1, 1, 1]),
                             ([[9, 9, 9], [0, 0, 0], [2, 0, 0], [2, 0, 0]], [1, 1, 2])]:
        cb = Codebook(levels, None, strategy="palette", reconstruction="palette", dtype=np.uint8)
        assert vqimage.encode(image, cb).tolist() == [expected]


def test_encode_rgb_image_with_rgba_codebook_is_opaque():
    levels = [[0, 0, 0, 0], [10, 10, 10, 255], [10, 10, 10, 0], [200, 0, 0, 255]]
    cb = Codebook(levels, None, strategy="palette", reconstruction="palette", dtype=np.uint8)
    image = np.array([[[9, 9, 9], [0, 0, 0], [255, 0, 0]]], np.uint8)
    assert vqimage.encode(image, cb).tolist() == [[1, 1, 3]]  # RGB pixels count as alpha 255
    rgba = np.array([[[250, 250, 250, 0], [10, 10, 10, 1]]], np.uint8)
    assert vqimage.encode(rgba, cb).tolist() == [[0, 2]]  # alpha 0: the first clear entry, whatever its color


def test_encode_256_colors_every_cube_corner_and_center():
    rng = np.random.default_rng(5)
    levels = rng.integers(0, 256, (256, 3)).astype(np.float64)
    grid = np.array(np.meshgrid(*[np.arange(0, 256, 15, dtype=np.uint8)] * 3, indexing="ij")).reshape(3, -1).T
    image = grid.reshape(1, -1, 3)
    cb = Codebook(levels, None, strategy="palette", reconstruction="palette", dtype=np.uint8)
    np.testing.assert_array_equal(vqimage.encode(image, cb), reference_codes(image, levels))


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.sampled_from([1, 2, 3, 4]),
    bits=st.integers(1, 6),
    k=st.integers(1, 64),
    n=st.integers(1, 200),
    ties=st.booleans(),
)
def test_nearest_codes_every_cell_resolution(seed, d, bits, k, n, ties):
    if d == 4:
        bits = min(bits, 5)  # the dense cell table has 2**(bits * d) slots
    rng = np.random.default_rng(seed)
    if ties:
        vectors, centers = tie_image(rng, (n, d)), tie_palette(rng, k, d)
    else:
        vectors, centers = rng.integers(0, 256, (n, d), dtype=np.uint8), rng.uniform(-20, 275, (k, d))
    out = np.full(n, -1, np.int64)
    _mapping_kernels.nearest_codes(vectors, centers, bits, out)
    expected = brute_nearest(vectors, centers)
    np.testing.assert_array_equal(out, expected)


def test_more_than_256_colors_use_uint16_codes(tmp_path):
    rng = np.random.default_rng(9)
    levels = rng.integers(0, 256, (300, 4)).astype(np.float64)
    image = rng.integers(0, 256, (21, 34, 4), dtype=np.uint8)
    cb = Codebook(levels, None, strategy="palette", reconstruction="palette", dtype=np.uint8, mode="color")
    codes = vqimage.encode(image, cb)
    assert codes.dtype == np.uint16 and cb.bits == 9
    np.testing.assert_array_equal(codes, reference_codes(image, levels))
    data = vqimage.compress(image, codebook=cb)
    np.testing.assert_array_equal(vqimage.decompress_image(data), vqimage.decode(codes, cb))
    with pytest.raises(ValueError, match="PNG holds at most 256 colors; this codebook has 300"):
        export_bytes("png", codes, cb)


@pytest.mark.parametrize("block", [(2, 2), (4, 4), (1, 3), (2, 4)])
@pytest.mark.parametrize("shape", [(8, 8), (9, 13), (1, 1), (5, 2)])
def test_block_encode_is_the_brute_force_nearest(block, shape):
    rng = np.random.default_rng(shape[0] * 31 + block[1])
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    d = block[0] * block[1]
    for levels in (rng.integers(0, 256, (37, d)).astype(np.float64), tie_palette(rng, 20, d)):
        cb = Codebook(levels, None, strategy="palette", reconstruction="palette", dtype=np.uint8, mode="block",
                      block=block)
        codes = vqimage.encode(image, cb)
        tiles, grid = image_blocks(image, block)
        assert codes.shape == grid == (-(-shape[0] // block[0]), -(-shape[1] // block[1]))
        np.testing.assert_array_equal(codes.reshape(-1), brute_nearest(tiles, levels))
        recon = vqimage.decode(codes, cb, shape=shape)
        assert recon.shape == shape and recon.dtype == np.uint8
        np.testing.assert_array_equal(recon, join_blocks(cb.levels_as(np.uint8)[codes.reshape(-1)], grid, block, shape))


# --------------------------------------------------------------------------- 2. unique_cells


@st.composite
def cell_vectors(draw):
    d = draw(st.integers(1, 4))
    # Table sizes: 2**(bits * d) cells and 2**((8 - bits) * d) in-cell keys stay small.
    low = {1: 1, 2: 1, 3: 3, 4: 4}[d]
    high = {1: 8, 2: 8, 3: 6, 4: 5}[d]
    bits = draw(st.integers(low, high))
    n = draw(st.integers(1, 120))
    elements = st.sampled_from([0, 1, 2, 63, 64, 127, 128, 200, 255]) if draw(st.booleans()) else st.integers(0, 255)
    vectors = draw(hnp.arrays(np.uint8, (n, d), elements=elements))
    weights = draw(hnp.arrays(np.float64, n, elements=st.floats(0, 1000, allow_nan=False)))
    return vectors, weights, bits


@FAST
@given(cell_vectors())
def test_unique_cells(case):
    vectors, weights, bits = case
    uniques, counts, cell_start, cell_ids, inverse = _histogram_kernels.unique_cells(vectors, weights, bits)
    u, m = uniques.shape[0], cell_ids.size
    assert len({tuple(r) for r in uniques.tolist()}) == u  # distinct
    assert {tuple(r) for r in uniques.tolist()} == {tuple(r) for r in vectors.tolist()}
    np.testing.assert_array_equal(uniques[inverse], vectors)
    np.testing.assert_allclose(counts, np.bincount(inverse, weights, minlength=u), rtol=1e-12)
    assert counts.sum() == pytest.approx(weights.sum(), rel=1e-12)
    assert cell_start[0] == 0 and cell_start[-1] == u and cell_start.size == m + 1
    assert (np.diff(cell_start) > 0).all() and (np.diff(cell_ids) > 0).all()
    ids = cell_of(uniques, bits)
    np.testing.assert_array_equal(ids, np.repeat(cell_ids, np.diff(cell_start)))  # grouped by increasing id
    np.testing.assert_array_equal(np.unique(cell_of(vectors, bits)), cell_ids)


@FAST
@given(
    shape=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    block=st.sampled_from([(1, 2), (1, 3), (2, 2), (2, 3), (2, 4), (3, 3), (4, 4), (1, 16)]),
    seed=st.integers(0, 2**32 - 1),
    levels=st.sampled_from([2, 4, 256]),
)
def test_block_histogram_is_the_distinct_tiles_grouped_by_cell(shape, block, seed, levels):
    from vqimage._cells import cell_bits as _cell_bits

    rng = np.random.default_rng(seed)
    image = rng.choice(np.linspace(0, 255, levels).astype(np.uint8), shape)
    h = vector_histogram(image, mode="block", block=block)
    tiles, _ = image_blocks(image, block)
    rows, counts = np.unique(tiles, axis=0, return_counts=True)
    d = block[0] * block[1]
    assert h.mode == "block" and h.block == block and h.n_components == d and h.bits == _cell_bits(d)
    assert h.total == tiles.shape[0] and h.transparent == 0
    got = {tuple(v): c for v, c in zip(h.vectors.tolist(), h.counts.tolist())}
    assert got == {tuple(v): float(c) for v, c in zip(rows.tolist(), counts.tolist())}
    ids = cell_of(h.vectors, h.bits)
    np.testing.assert_array_equal(ids, np.repeat(h.cell_ids, np.diff(h.cell_start)))
    assert (np.diff(h.cell_ids) > 0).all() and h.cell_start[0] == 0 and h.cell_start[-1] == h.n_vectors


# --------------------------------------------------------------------------- 3. cell_candidates


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
    start, items, radius = _cells.cell_candidates(centers, cell_ids, bits, 0.0, margin)
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
    start, items, _ = _cells.cell_candidates(centers, cell_ids, bits, 1.0, 0.0)
    dist = distances(points, centers)
    for i, t in enumerate(np.searchsorted(cell_ids, cells)):
        assert nearest_set(dist[i]) <= set(listed(start, items, t).tolist())


def test_cell_candidates_prune():
    # Far-apart codewords: a cell in one corner only needs the codeword in that corner.
    centers = np.array([[0.0, 0, 0], [255, 255, 255], [0, 255, 0], [255, 0, 0]])
    start, items, _ = _cells.cell_candidates(centers, np.array([0], np.int64), 6, 0.0, 0.0)
    assert items[start[0] : start[1]].tolist() == [0]


# --------------------------------------------------------------------------- 4. lloyd


def histogram_points(vectors, weights, bits):
    uniques, counts, cell_start, cell_ids, _ = _histogram_kernels.unique_cells(vectors, weights, bits)
    return uniques.astype(np.float64), counts, cell_start, cell_ids


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.sampled_from([1, 3, 4]),
    k=st.integers(1, 24),
    n=st.integers(1, 300),
    integer_weights=st.booleans(),
    n_fixed=st.integers(0, 3),
)
def test_lloyd_returns_a_fixed_point(seed, d, k, n, integer_weights, n_fixed):
    rng = np.random.default_rng(seed)
    bits = {1: 6, 3: 6, 4: 5}[d]
    centers_of_mass = rng.integers(0, 256, (4, d))
    vectors = np.clip(centers_of_mass[rng.integers(0, 4, n)] + rng.normal(0, 25, (n, d)), 0, 255).astype(np.uint8)
    weights = rng.integers(1, 5, n).astype(np.float64) if integer_weights else rng.uniform(0.01, 3, n)
    points, counts, cell_start, cell_ids = histogram_points(vectors, weights, bits)
    start = rng.uniform(0, 255, (k, d))
    fixed = np.zeros(k, np.bool_)
    fixed[: min(n_fixed, k)] = True
    stats = np.zeros(3, np.int64)
    centers, labels, n_iter = K.lloyd(points, counts, cell_start, cell_ids, bits, start, fixed, 1000, 0.0, stats)
    assert n_iter < 1000
    np.testing.assert_array_equal(centers[fixed], start[fixed])  # fixed centers never move
    dist = distances(points, centers)
    np.testing.assert_allclose(dist[np.arange(points.shape[0]), labels], dist.min(axis=1), rtol=1e-9, atol=1e-9)
    for c in np.flatnonzero(~fixed):
        mine = labels == c
        if mine.any():
            mean = counts[mine] @ points[mine] / counts[mine].sum()
            np.testing.assert_allclose(centers[c], mean, rtol=0, atol=1e-6)
        else:  # a center without points stays where it was
            assert np.isfinite(centers[c]).all() and (np.abs(centers[c]) < 1e6).all()
    assert sse(points, counts, centers) <= sse(points, counts, start) * (1 + 1e-12) + 1e-9


@FAST
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 24), n=st.integers(2, 300), relax=st.sampled_from([1.0, 1.7]))
def test_hartigan_lowers_the_error_of_a_lloyd_fixed_point(seed, k, n, relax):
    rng = np.random.default_rng(seed)
    vectors = np.clip(rng.integers(0, 256, (4, 3))[rng.integers(0, 4, n)] + rng.normal(0, 30, (n, 3)), 0, 255)
    points, counts, cell_start, cell_ids = histogram_points(vectors.astype(np.uint8), rng.uniform(0.5, 3, n), 6)
    start = rng.uniform(0, 255, (k, 3))
    fixed = np.zeros(k, np.bool_)
    fixed[0] = True
    stats = np.zeros(3, np.int64)
    centers, labels, _ = K.lloyd(points, counts, cell_start, cell_ids, 6, start, fixed, 1000, 0.0, stats, relax)
    before = sse(points, counts, centers) if relax == 1.0 else None
    moved = K.hartigan(points, counts, cell_start, cell_ids, 6, centers, labels, fixed, 50, np.zeros(2, np.int64))
    np.testing.assert_array_equal(moved[0], start[0])  # a fixed center neither moves nor trades points
    for c in range(1, k):  # every other center is the centroid of its points
        mine = labels == c
        if mine.any():
            np.testing.assert_allclose(moved[c], counts[mine] @ points[mine] / counts[mine].sum(), atol=1e-6)
    after = float((counts * ((points - moved[labels]) ** 2).sum(axis=1)).sum())
    if before is not None:
        assert after <= before * (1 + 1e-12) + 1e-9


def test_lloyd_labels_are_nearest_after_a_far_fallback_search():
    """Regression: a search past the list's reach must keep the lower bound capped at reach.

    Found by the property test above: with the exact second distance as the bound, centers outside the
    cell's list moved without lowering it, (26, 79, 223) kept center 0 (138.3 away, center 1 at 84.8) and
    lloyd stopped at [[163.75, 79.75, 210.5], [10, 72, 140], [81, 217, 79]], not a fixed point.
    """
    vectors = np.array([[26, 79, 223], [206, 24, 206], [251, 112, 245], [172, 104, 168], [10, 72, 140]], np.uint8)
    points, counts, cell_start, cell_ids = histogram_points(vectors, np.ones(5), 6)
    start = np.array([[93.0, 64, 228], [67, 163, 72], [81, 217, 79]])
    centers, labels, _ = K.lloyd(points, counts, cell_start, cell_ids, 6, start, np.zeros(3, np.bool_), 100, 0.0,
                                 np.zeros(3, np.int64))
    # Plain Lloyd from the same start: labels [1, 1, 0, 0, 0] on the sorted points, these centers.
    np.testing.assert_array_equal(labels, brute_nearest(points, centers))
    np.testing.assert_allclose(centers, [[629 / 3, 80, 619 / 3], [18, 75.5, 181.5], [81, 217, 79]], rtol=1e-12)


def test_lloyd_leaves_a_center_without_points_where_it_is():
    points = np.array([[0.0], [1.0], [2.0]])
    vectors = points.astype(np.uint8)
    pts, counts, cell_start, cell_ids = histogram_points(vectors, np.ones(3), 6)
    start = np.array([[1.0], [250.0]])
    centers, labels, _ = K.lloyd(pts, counts, cell_start, cell_ids, 6, start, np.zeros(2, np.bool_), 100, 0.0,
                                 np.zeros(3, np.int64))
    assert centers.tolist() == [[1.0], [250.0]] and labels.tolist() == [0, 0, 0]


# --------------------------------------------------------------------------- 5. merge_clusters


def brute_ward(centers, weights, k):
    """Greedy Ward agglomeration: merge the cheapest pair until k clusters are left."""
    clusters = [(c.astype(np.float64), float(w)) for c, w in zip(centers, weights)]
    while len(clusters) > k:
        best, pair = np.inf, None
        for i in range(len(clusters)):
            for j in range(i + 1, len(clusters)):
                (ci, wi), (cj, wj) = clusters[i], clusters[j]
                dist = 0.0
                for q in range(ci.size):
                    dist += (ci[q] - cj[q]) ** 2
                cost = dist * wi * wj / (wi + wj)
                if cost < best:
                    best, pair = cost, (i, j)
        i, j = pair
        (ci, wi), (cj, wj) = clusters[i], clusters[j]
        clusters[i] = ((wi * ci + wj * cj) / (wi + wj), wi + wj)
        del clusters[j]
    return np.array([c for c, _ in clusters]), np.array([w for _, w in clusters])


def by_rows(array, *others):
    order = np.lexsort(array.T[::-1])
    return (array[order], *(o[order] for o in others))


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(1, 14),
    d=st.integers(1, 3),
    data=st.data(),
)
def test_merge_clusters_is_greedy_ward(seed, m, d, data):
    k = data.draw(st.integers(1, m))
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0, 255, (m, d))
    weights = rng.uniform(0.5, 50, m)
    merged = K.merge_clusters(centers, weights, k)
    assert merged.shape == (k, d)
    expected, expected_w = brute_ward(centers, weights, k)
    got, = by_rows(merged)
    expected, expected_w = by_rows(expected, expected_w)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    # Weight is conserved: the merged centroids, weighted by their clusters' weights, keep the mean.
    np.testing.assert_allclose(expected_w @ got / expected_w.sum(), weights @ centers / weights.sum(), rtol=1e-9)
    if k == m:
        np.testing.assert_array_equal(merged, centers)


def test_merge_clusters_known_values():
    centers = np.array([[0.0], [1.0], [10.0], [30.0]])
    weights = np.array([1.0, 3.0, 1.0, 1.0])
    assert K.merge_clusters(centers, weights, 3).tolist() == [[0.75], [10.0], [30.0]]
    # Then 0.75 (weight 4) + 10 costs 9.25**2 * 4 / 5 = 68.45 < 10 + 30's 400 / 2: (3 + 10) / 5.
    assert K.merge_clusters(centers, weights, 2).tolist() == [[2.6], [30.0]]
    assert K.merge_clusters(centers, weights, 1).tolist() == [[(0.0 + 3.0 + 10.0 + 30.0) / 6]]


# --------------------------------------------------------------------------- 6. split_boxes


def box_gain(w, s, members, axis_values, plane):
    """Squared-error removed by cutting ``members`` after ``plane`` on one axis (-1: not a cut)."""
    left, right = members[axis_values <= plane], members[axis_values > plane]
    if left.size == 0 or right.size == 0:
        return -1.0, None
    def term(group):
        total = s[group].sum(axis=0)
        return total @ total / w[group].sum()
    return term(left) + term(right) - term(members), (frozenset(left.tolist()), frozenset(right.tolist()))


def best_cut(coords, w, s, members):
    best, parts = -1.0, None
    for axis in range(coords.shape[1]):
        values = coords[members, axis]
        for plane in np.unique(values)[:-1]:
            gain, cut = box_gain(w, s, members, values, plane)
            if gain > best:
                best, parts = gain, cut
    return best, parts


def within_sse(w, s, boxes):
    """Sum over boxes of sum_i |s_i|^2 / w_i - |S|^2 / W: the error the cell means keep within each box."""
    total = 0.0
    for members in boxes:
        members = np.array(sorted(members))
        big = s[members].sum(axis=0)
        total += (np.einsum("ij,ij->i", s[members], s[members]) / w[members]).sum() - big @ big / w[members].sum()
    return total


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 25),
    d=st.integers(1, 3),
    levels=st.sampled_from([4, 8, 64]),
    k=st.integers(1, 6),
)
def test_split_boxes_is_greedy_best_cuts(seed, n, d, levels, k):
    rng = np.random.default_rng(seed)
    coords = rng.integers(0, levels, (n, d)).astype(np.int64)
    w = rng.uniform(0.5, 10, n)
    s = w[:, None] * (coords + rng.uniform(0, 1, (n, d)))  # weighted sums of points inside each cell
    labels, nbox = K.split_boxes(coords, w, s, k, levels)
    assert 1 <= nbox <= k and set(labels.tolist()) == set(range(nbox))
    got = [frozenset(np.flatnonzero(labels == b).tolist()) for b in range(nbox)]
    # Greedy by brute force: cut the box whose best axis-aligned cut removes the most error.
    boxes = [frozenset(range(n))]
    while len(boxes) < k:
        gains = [best_cut(coords, w, s, np.array(sorted(b))) for b in boxes]
        b = int(np.argmax([g for g, _ in gains]))
        if gains[b][0] < 0:
            break
        boxes = boxes[:b] + list(gains[b][1]) + boxes[b + 1 :]
    assert nbox == len(boxes)
    assert within_sse(w, s, got) == pytest.approx(within_sse(w, s, boxes), rel=1e-9, abs=1e-6)
    for box in got:  # every box is an axis-aligned box of the grid: no other point inside its bounds
        members = np.array(sorted(box))
        lo, hi = coords[members].min(axis=0), coords[members].max(axis=0)
        inside = np.flatnonzero(((coords >= lo) & (coords <= hi)).all(axis=1))
        assert set(inside.tolist()) <= box  # no other box's point lies within its bounds


def test_split_boxes_first_cut_is_the_best_by_brute_force():
    rng = np.random.default_rng(3)
    coords = rng.integers(0, 8, (12, 3)).astype(np.int64)
    w = rng.uniform(1, 5, 12)
    s = w[:, None] * (coords + 0.5)
    labels, nbox = K.split_boxes(coords, w, s, 2, 8)
    assert nbox == 2
    members = np.arange(12)
    gain, parts = best_cut(coords, w, s, members)
    got = {frozenset(np.flatnonzero(labels == b).tolist()) for b in range(2)}
    assert got == set(parts)
    assert gain > 0


def test_split_boxes_stops_when_nothing_can_be_cut():
    coords = np.array([[1, 1], [1, 1], [3, 0]], np.int64)
    w = np.ones(3)
    labels, nbox = K.split_boxes(coords, w, coords.astype(np.float64), 5, 4)
    assert nbox == 2 and labels[0] == labels[1] != labels[2]


# --------------------------------------------------------------------------- 7. fit, colors


def test_fit_color_is_deterministic(astronaut):
    image = astronaut[::2, ::2]
    a, b = fit(image, 32, mode="color"), fit(image, 32, mode="color")
    assert a == b and a.mode == "color" and a.n_levels == 32 and a.strategy == "kmeans"
    np.testing.assert_array_equal(vqimage.encode(image, a), vqimage.encode(image, b))
    np.testing.assert_array_equal(a.levels, np.rint(a.levels))  # integers
    assert a.levels.min() >= 0 and a.levels.max() <= 255
    luma = a.levels @ LUMA
    assert (np.diff(luma) >= 0).all()  # ordered by BT.601 luma
    assert len({tuple(r) for r in a.levels.tolist()}) == 32


def test_fit_auto_mode_and_docstring_values():
    rgb = np.array([[[250, 0, 0], [255, 0, 0], [0, 0, 250], [0, 0, 255]]], dtype=np.uint8)
    cb = fit(rgb, 2, mode="auto")
    assert cb.mode == "color" and cb.levels.tolist() == [[0, 0, 252], [252, 0, 0]]  # 252.5 rounds to even
    assert vqimage.encode(rgb, cb).tolist() == [[1, 1, 0, 0]]


@pytest.mark.parametrize("d", [3, 4])
def test_fewer_colors_than_levels_is_lossless_with_a_warning(d):
    rng = np.random.default_rng(d)
    colors = rng.integers(1, 256, (5, d), dtype=np.uint8)
    image = colors[rng.integers(0, 5, (13, 11))]
    with pytest.warns(FitWarning, match="only 5 distinct vector"):
        cb = fit(image, 16, mode="color")
    assert cb.n_levels == 5
    np.testing.assert_array_equal(vqimage.decode(vqimage.encode(image, cb), cb), image)
    # Exactly k distinct colors: no warning, still lossless.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cb = fit(image, 5, mode="color")
    np.testing.assert_array_equal(vqimage.decode(vqimage.encode(image, cb), cb), image)


def test_kmeans_beats_wu_and_pillow(astronaut):
    results = {}
    for k in (16, 64):
        for strategy in ("kmeans", "wu"):
            cb = fit(astronaut, k, mode="color", strategy=strategy)
            assert cb.n_levels == k and cb.strategy == strategy
            results[k, strategy] = vqimage.decode(vqimage.encode(astronaut, cb), cb)
        pillow = np.asarray(Image.fromarray(astronaut).quantize(k, method=Image.Quantize.MEDIANCUT).convert("RGB"))
        assert psnr(astronaut, results[k, "kmeans"]) > psnr(astronaut, pillow) + 1.0
        assert psnr(astronaut, results[k, "wu"]) > psnr(astronaut, pillow)
        assert image_sse(astronaut, results[k, "kmeans"]) <= image_sse(astronaut, results[k, "wu"])
    assert psnr(astronaut, results[64, "kmeans"]) > psnr(astronaut, results[16, "kmeans"]) + 3


def test_fixed_colors_come_first_and_unchanged(astronaut):
    image = astronaut[::4, ::4]
    fixed = np.array([[255, 0, 255], [0, 0, 0], [1, 2, 3]], np.uint8)
    cb = fit(image, 12, mode="color", fixed=fixed)
    assert cb.n_levels == 12
    np.testing.assert_array_equal(cb.levels[:3], fixed)
    luma = cb.levels[3:] @ LUMA
    assert (np.diff(luma) >= 0).all()
    assert (vqimage.encode(np.array([[[255, 0, 255], [0, 0, 0]]], np.uint8), cb) == [[0, 1]]).all()
    wu = fit(image, 12, mode="color", fixed=fixed, strategy="wu")
    np.testing.assert_array_equal(wu.levels[:3], fixed)


def test_kmeans_plus_plus_depends_on_the_seed_deterministically(astronaut):
    image = astronaut[::4, ::4]
    a = fit(image, 16, mode="color", init="k-means++", random_state=0)
    b = fit(image, 16, mode="color", init="k-means++", random_state=0)
    c = fit(image, 16, mode="color", init="k-means++", random_state=7)
    assert a == b and a != c and a.n_levels == c.n_levels == 16
    split = fit(image, 16, mode="color")
    assert fit(image, 16, mode="color", random_state=7) == split  # the default start has no random step
    for cb in (a, c):
        assert image_sse(image, vqimage.decode(vqimage.encode(image, cb), cb)) < 1.15 * image_sse(image, vqimage.decode(vqimage.encode(image, split), split))


def test_rgba_transparent_pixels_take_entry_zero_and_do_not_move_the_palette(astronaut):
    rng = np.random.default_rng(0)
    rgb = astronaut[::4, ::4].reshape(-1, 3)
    alpha = rng.choice(np.array([255, 128, 30], np.uint8), rgb.shape[0])
    clear = rng.random(rgb.shape[0]) < 0.25
    rgba = np.column_stack([rgb, alpha])
    rgba[clear] = np.column_stack([rng.integers(0, 256, (clear.sum(), 3)), np.zeros(clear.sum())])
    image = rgba.reshape(128, 128, 4)
    cb = fit(image, 17, mode="color")
    assert cb.levels[0].tolist() == [0, 0, 0, 0] and (cb.levels[1:, 3] > 0).all()
    codes = vqimage.encode(image, cb)
    assert (codes[image[..., 3] == 0] == 0).all() and (codes[image[..., 3] > 0] > 0).all()
    opaque_only = fit(rgba[~clear].reshape(1, -1, 4), 16, mode="color")  # the same pixels, clear ones deleted
    np.testing.assert_array_equal(cb.levels[1:], opaque_only.levels)
    np.testing.assert_array_equal(vqimage.decode(codes, cb)[image[..., 3] == 0], 0)
    locked = fit(image, 17, mode="color", fixed=np.array([[255, 0, 0, 255], [0, 0, 255, 128]], np.uint8))
    assert locked.levels[:3].tolist() == [[0, 0, 0, 0], [255, 0, 0, 255], [0, 0, 255, 128]]  # clear, locked, learned


def test_all_transparent_image_is_an_error():
    image = np.zeros((4, 4, 4), np.uint8)
    image[..., :3] = 200
    with pytest.raises(ValueError, match="every pixel is fully transparent"):
        fit(image, 4, mode="color")


def test_histograms_add_like_concatenated_images(astronaut):
    a, b = astronaut[:64, :96], astronaut[200:264, 300:396]
    h_sum = vector_histogram(a) + vector_histogram(b)
    h_cat = vector_histogram(np.concatenate([a, b]))
    for name in ("vectors", "counts", "cell_start", "cell_ids"):
        np.testing.assert_array_equal(getattr(h_sum, name), getattr(h_cat, name))
    assert h_sum.total == a.shape[0] * a.shape[1] * 2
    assert sum([vector_histogram(a), vector_histogram(b)]).counts.tolist() == h_sum.counts.tolist()
    shared = fit(h_sum, 16, mode="color")
    assert shared == fit(np.concatenate([a, b]), 16, mode="color")
    assert fit(h_sum, 16, mode="auto") == shared
    with pytest.raises(ValueError, match="Cannot add a RGB histogram and a RGBA histogram"):
        vector_histogram(a) + vector_histogram(np.dstack([a, np.full(a.shape[:2], 255, np.uint8)]))


def test_vector_histogram_weights_and_transparency():
    image = np.array([[[1, 2, 3, 255], [1, 2, 3, 255], [9, 9, 9, 0]], [[1, 2, 3, 255], [4, 5, 6, 7], [0, 0, 0, 0]]],
                     np.uint8)
    h = vector_histogram(image, weights=np.array([[1.0, 2.0, 3.0], [0.5, 0.0, 4.0]]))
    assert h.vectors.tolist() == [[1, 2, 3, 255]] and h.counts.tolist() == [3.5]  # zero weight dropped
    assert h.transparent == 7.0 and h.total == 10.5
    assert (h + h).transparent == 14.0 and (h + h).counts.tolist() == [7.0]
    assert "RGBA" in repr(h) and "n_vectors=1" in repr(h)


def test_weighted_fit_follows_the_weights():
    image = np.array([[[0, 0, 0], [10, 0, 0], [200, 0, 0], [255, 0, 0]]], np.uint8)
    heavy_left = fit(image, 3, mode="color", weights=np.array([[1, 1, 100, 1]]))
    assert heavy_left.levels[:, 0].tolist() == [5, 200, 255]


# --------------------------------------------------------------------------- 8. blocks


@FAST
@given(
    shape=st.tuples(st.integers(1, 19), st.integers(1, 19)),
    block=st.sampled_from([(2, 2), (4, 4), (1, 2), (2, 1), (3, 5), (2, 8), (16, 1)]),
    seed=st.integers(0, 2**32 - 1),
)
def test_image_blocks_round_trip(shape, block, seed):
    image = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    tiles, grid = image_blocks(image, block)
    assert grid == (-(-shape[0] // block[0]), -(-shape[1] // block[1]))
    assert tiles.shape == (grid[0] * grid[1], block[0] * block[1]) and tiles.dtype == np.uint8
    np.testing.assert_array_equal(join_blocks(tiles, grid, block, shape), image)
    padded = np.pad(image, ((0, grid[0] * block[0] - shape[0]), (0, grid[1] * block[1] - shape[1])), mode="edge")
    np.testing.assert_array_equal(join_blocks(tiles, grid, block), padded)  # edges repeat the last row/column
    # Tile (i, j) holds rows i*r..(i+1)*r and columns j*c..(j+1)*c, flattened row by row.
    i, j = grid[0] - 1, grid[1] - 1
    np.testing.assert_array_equal(
        tiles[i * grid[1] + j], padded[i * block[0] : (i + 1) * block[0], j * block[1] : (j + 1) * block[1]].ravel()
    )


@pytest.mark.parametrize("block", [(2, 2), (4, 4)])
def test_fit_blocks_on_camera(camera, block):
    image = camera[:203, :301]  # not a multiple of either block
    cb = fit(image, 64, mode="block", block=block)
    assert cb.mode == "block" and cb.block == block and cb.levels.shape == (64, block[0] * block[1])
    assert fit(image, 64, mode="block", block=block) == cb
    codes = vqimage.encode(image, cb)
    assert codes.shape == (-(-203 // block[0]), -(-301 // block[1]))
    recon = vqimage.decode(codes, cb, shape=image.shape)
    assert recon.shape == image.shape and recon.dtype == np.uint8
    tiles, _ = image_blocks(image, block)
    np.testing.assert_array_equal(codes.reshape(-1), brute_nearest(tiles, cb.levels))
    assert psnr(image, recon) > (24 if block == (2, 2) else 20)
    assert (np.diff(cb.levels.mean(axis=1)) >= 0).all()  # learned blocks in order of mean brightness
    wu = fit(image, 64, mode="block", block=block, strategy="wu")
    assert image_sse(image, recon) <= image_sse(image, vqimage.decode(vqimage.encode(image, wu), wu, shape=image.shape))
    assert vqimage.decode(codes, cb).shape == (codes.shape[0] * block[0], codes.shape[1] * block[1])


def test_blocks_lossless_when_there_are_few_distinct_blocks():
    rng = np.random.default_rng(2)
    image = rng.choice(np.array([0, 255], np.uint8), (7, 9))
    tiles, _ = image_blocks(image, (2, 2))
    distinct = len({tuple(t) for t in tiles.tolist()})
    with pytest.warns(FitWarning, match=f"only {distinct} distinct"):
        cb = fit(image, distinct + 3, mode="block", block=(2, 2))
    np.testing.assert_array_equal(vqimage.decode(vqimage.encode(image, cb), cb, shape=image.shape), image)
    flat = rng.integers(0, 256, (5, 6), dtype=np.uint8)
    big = np.kron(flat, np.ones((4, 4), np.uint8))[:19, :22]  # 4x4 flat tiles, cropped
    cb = fit(big, np.unique(flat).size, mode="block", block=4)
    np.testing.assert_array_equal(vqimage.decode(vqimage.encode(big, cb), cb, shape=big.shape), big)


# --------------------------------------------------------------------------- 9. Codebook configs


def test_vector_config_round_trip(camera):
    rng = np.random.default_rng(0)
    color = fit(rng.integers(0, 256, (20, 20, 4), dtype=np.uint8), 9, mode="color")
    block = fit(camera[:64, :64], 8, mode="block", block=(2, 4))
    palette = palette_codebook("epaper7")
    for cb in (color, block, palette):
        config = cb.to_config()
        assert config["type"] == "vector" and config["mode"] == cb.mode
        again = Codebook.from_config(config)
        assert again == cb and again.mode == cb.mode and again.block == cb.block and again.dtype == cb.dtype
        np.testing.assert_array_equal(again.levels, cb.levels)
        assert Codebook.from_config(json.dumps(config)) == cb
    assert block.to_config()["block"] == [2, 4] and "block" not in color.to_config()
    assert repr(color) == ("Codebook(n_levels=9, mode='color', n_components=4, strategy='kmeans', "
                           "reconstruction='centroid', dtype=uint8)")
    assert repr(block) == ("Codebook(n_levels=8, mode='block', n_components=8, block=(2, 4), strategy='kmeans', "
                           "reconstruction='centroid', dtype=uint8)")
    assert color != block and color.bits == 4 and block.n_components == 8


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mode": "gray"}, "vector mode 'gray' is not 'color' or 'block'"),
        ({"mode": None}, "vector mode None"),
        ({"levels": [[1, 2, 3, 4, 5]]}, r"RGB \(3\) or RGBA \(4\) levels"),
        ({"levels": [1, 2, 3]}, r"levels have shape \(k, d\)"),
        ({"levels": [[0, 0, float("inf")]]}, "must be finite"),
        ({"levels": [[0, 0, "x"]]}, "Invalid codebook config"),
        ({"dtype": "object"}, "is not numeric"),
        ({"version": 2}, "Unsupported codebook config version 2"),
        ({"type": "matrix"}, "Not a codebook config"),
        ({"strategy": None, "levels": None}, "Invalid codebook config"),
    ],
)
def test_invalid_color_configs(change, message):
    config = palette_codebook("#000000,#ffffff,#ff0000").to_config() | change
    with pytest.raises(VQError, match=message):
        Codebook.from_config(config)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"block": None}, r"needs block=\(rows, cols\)"),
        ({"block": [2, 3]}, "has 6 pixels; the levels have 4"),
        ({"block": [0, 4]}, r"needs block=\(rows, cols\)"),
        ({"mode": "color"}, "block= is for block codebooks; this one is color"),
    ],
)
def test_invalid_block_configs(change, message):
    config = Codebook([[0, 1, 2, 3], [4, 5, 6, 7]], None, strategy="kmeans", reconstruction="centroid",
                      dtype=np.uint8, mode="block", block=(2, 2)).to_config() | change
    with pytest.raises(VQError, match=message):
        Codebook.from_config(config)


def test_config_that_is_not_json():
    with pytest.raises(VQError, match="not valid JSON"):
        Codebook.from_config('{"type": "vector",')


# --------------------------------------------------------------------------- 10. .vq files


def rgba_image(seed=0, shape=(23, 17)):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, shape + (4,), dtype=np.uint8)
    image[..., 3] = rng.choice(np.array([0, 255, 100], np.uint8), shape)
    return image


@pytest.mark.parametrize("coder", ["context", "packed"])
@pytest.mark.parametrize("kind", ["rgb", "rgba", "block22", "block44"])
def test_vq_round_trip(coder, kind, astronaut):
    if kind == "rgb":
        image, options = astronaut[100:161, 50:133], {"mode": "color"}
    elif kind == "rgba":
        image, options = rgba_image(), {"mode": "color"}
    else:
        side = 2 if kind == "block22" else 4
        image, options = vqimage.load_image("camera")[:37, :51], {"mode": "block", "block": (side, side)}
    cb = fit(image, 12, **options)
    data = vqimage.compress(image, 12, coder=coder, **options)
    codes, restored = vqimage.decompress(data)
    assert restored == cb
    np.testing.assert_array_equal(codes, vqimage.encode(image, cb))
    recon = vqimage.decompress_image(data)
    assert recon.shape == image.shape and recon.dtype == np.uint8
    expected = vqimage.decode(vqimage.encode(image, cb), cb, shape=image.shape if cb.mode == "block" else None)
    np.testing.assert_array_equal(recon, expected)
    assert vqimage.compress(image, codebook=cb, coder=coder) == data
    info = vqimage.vq_info(data)
    assert info["mode"] == cb.mode and info["image_shape"] == list(image.shape)
    assert info["shape"] == list(codes.shape) and info["n_levels"] == 12 and info["bytes"] == len(data)
    assert info["coder"] == coder and info["original_bytes"] == image.size
    pixels = image.shape[0] * image.shape[1]
    assert info["bits_per_pixel"] == pytest.approx(8 * len(data) / pixels)


def reseal(data: bytes, header: dict) -> bytes:
    """The file with another JSON header, its magic/version/flags kept and its CRC made valid again."""
    hlen, plen = struct.unpack_from("<IQ", data, 12)
    payload = data[24 + hlen : 24 + hlen + plen]
    raw = zlib.compress(json.dumps(header).encode())
    body = data[:12] + struct.pack("<IQ", len(raw), len(payload)) + raw + payload
    return body + struct.pack("<I", zlib.crc32(body))


def header_of(data: bytes) -> dict:
    (hlen,) = struct.unpack_from("<I", data, 12)
    return json.loads(zlib.decompress(data[24 : 24 + hlen]))


@pytest.mark.parametrize("bad", [[100, 51], [37], [37, 51, 1], ["37", 51], [0, 51], None, [37, 56]])
def test_damaged_image_shape_is_refused(bad, camera):
    image = camera[:37, :51]
    data = vqimage.compress(image, 4, mode="block", block=(2, 2), coder="packed")
    header = header_of(data)
    assert header["image_shape"] == [37, 51] and header["shape"] == [19, 26] and data[:8] == MAGIC
    assert vqimage.decompress_image(reseal(data, header)).shape == (37, 51)  # resealing alone is harmless
    header["image_shape"] = bad
    if bad is None:
        del header["image_shape"]
    with pytest.raises(VQError, match="invalid image_shape"):
        vqimage.decompress_image(reseal(data, header))
    with pytest.raises(VQError, match="invalid image_shape"):
        vqimage.vq_info(reseal(data, header))


def test_block_vq_needs_the_image_shape(camera):
    from vqimage.pack.container import write_vq

    cb = fit(camera[:8, :8], 4, mode="block", block=(2, 2))
    codes = vqimage.encode(camera[:8, :8], cb)
    with pytest.raises(ValueError, match=r"needs the image's shape \(image_shape=\)"):
        write_vq(codes, cb)
    with pytest.raises(ValueError, match="needs the image's shape"):
        write_vq(codes, cb, image_shape=(9, 8))
    with pytest.raises(ValueError, match="image_shape= is for block codebooks only"):
        write_vq(codes, vqimage.fit(camera, 4), image_shape=(8, 8))


# --------------------------------------------------------------------------- 11. exports


def png_chunks(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        out.setdefault(kind, b"")
        out[kind] += data[at + 8 : at + 8 + length]
        at += 12 + length
    return out


@pytest.mark.parametrize(("k", "depth"), [(2, 1), (3, 2), (4, 2), (7, 4), (16, 4), (17, 8), (200, 8)])
@pytest.mark.parametrize("alpha", [False, True])
def test_png8_of_a_color_codebook(tmp_path, astronaut, k, depth, alpha):
    image = astronaut[::8, ::8]
    if alpha:
        image = np.dstack([image, np.where(np.arange(64)[:, None] < 20, 0, np.where(np.arange(64) < 30, 128, 255))
                           .astype(np.uint8)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        cb = fit(image, k, mode="color")
    assert cb.n_levels == k
    codes = vqimage.encode(image, cb)
    info = export(tmp_path / "x.png", codes, cb)
    data = (tmp_path / "x.png").read_bytes()
    assert info["bytes"] == len(data) and info["format"] == "png"
    chunks = png_chunks(data)
    width, height, bit_depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (width, height, bit_depth, color_type) == (image.shape[1], image.shape[0], depth, 3)
    assert len(chunks[b"PLTE"]) == 3 * k
    assert (b"tRNS" in chunks) == alpha
    with Image.open(tmp_path / "x.png") as img:
        assert img.mode == "P"
        np.testing.assert_array_equal(np.asarray(img), codes)
        np.testing.assert_array_equal(np.asarray(img.convert("RGBA" if alpha else "RGB")), vqimage.decode(codes, cb))


def test_gif_round_trip(tmp_path, astronaut):
    image = astronaut[::8, ::8]
    cb = fit(image, 13, mode="color")
    codes = vqimage.encode(image, cb)
    export(tmp_path / "x.gif", codes, cb)
    with Image.open(tmp_path / "x.gif") as img:
        assert img.mode == "P"
        np.testing.assert_array_equal(np.asarray(img), codes)
        np.testing.assert_array_equal(np.array(img.getpalette()[: 3 * 13]).reshape(13, 3), cb.levels)
        np.testing.assert_array_equal(np.asarray(img.convert("RGB")), vqimage.decode(codes, cb))
    clear = image.copy()
    rgba = np.dstack([clear, np.where(np.arange(64)[:, None] < 10, 0, 255).repeat(64, 1).astype(np.uint8)])
    cb = fit(rgba, 9, mode="color")
    export(tmp_path / "y.gif", vqimage.encode(rgba, cb), cb)
    with Image.open(tmp_path / "y.gif") as img:
        assert img.info["transparency"] == 0
        np.testing.assert_array_equal(np.asarray(img), vqimage.encode(rgba, cb))


@pytest.mark.parametrize(("palette", "bits"), [("#000000,#ffffff", 1), ("gray4", 2), ("epaper-bwr", 2),
                                               ("epaper7", 4), ("websafe", 8)])
def test_raw_is_the_epaper_buffer(tmp_path, astronaut, palette, bits):
    cb = palette_codebook(palette)
    image = astronaut[:31, :45]
    codes = vqimage.encode(image, cb)
    np.testing.assert_array_equal(codes, reference_codes(image, cb.levels))
    data, description = export_bytes("raw", codes, cb)
    assert data == epaper(codes, bits) and f"{bits} bit(s) per pixel" in description
    assert len(data) == 31 * -(-45 * bits // 8)


def test_exports_refuse_block_codebooks_where_they_must(tmp_path, camera):
    cb = fit(camera[:16, :16], 4, mode="block", block=(2, 2))
    codes = vqimage.encode(camera[:16, :16], cb)
    for fmt in ("gif", "raw"):
        with pytest.raises(ValueError, match="block|one code"):
            export_bytes(fmt, codes, cb)
    png, description = export_bytes("png", codes, cb, image_shape=(15, 16))
    assert "gray PNG of the reconstruction" in description
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), vqimage.decode(codes, cb, shape=(15, 16)))


# --------------------------------------------------------------------------- 12. palette_codebook


def test_gray_preset_on_camera(camera):
    cb = palette_codebook("gray4", mode="gray")
    assert cb.mode == "gray" and cb.levels.tolist() == [0, 85, 170, 255]
    expected = np.abs(camera.astype(np.float64)[..., None] - np.array([0, 85, 170, 255])).argmin(-1)
    np.testing.assert_array_equal(vqimage.encode(camera, cb), expected)
    np.testing.assert_array_equal(vqimage.decode(vqimage.encode(camera, cb), cb), np.array([0, 85, 170, 255], np.uint8)[expected])


def test_color_palette_keeps_the_users_order():
    cb = palette_codebook("#ffffff, #000000 #ff0000")
    assert cb.mode == "color" and cb.levels.tolist() == [[255, 255, 255], [0, 0, 0], [255, 0, 0]]
    assert cb.strategy == "palette" and cb.reconstruction == "palette"
    image = np.array([[[250, 250, 250], [10, 0, 0], [200, 10, 10]]], np.uint8)
    assert vqimage.encode(image, cb).tolist() == [[0, 1, 2]]
    assert palette_codebook(["#f00", "#0f0"]).levels.tolist() == [[255, 0, 0], [0, 255, 0]]


@pytest.mark.parametrize(
    ("palette", "message"),
    [
        ("#ffffff,#000000", "keeps the palette's order only when it increases"),
        ("#000000,#808080,#808081", "needs a gray palette"),
        ("#000000,#ff0000", r"needs a gray palette \(R = G = B, opaque\)"),
        ("#00000080,#ffffffff", "needs a gray palette"),
    ],
)
def test_gray_palette_errors(palette, message):
    with pytest.raises(ValueError, match=message):
        palette_codebook(palette, mode="gray")
    assert palette_codebook(palette, mode="color").n_levels == palette.count(",") + 1


def test_palette_codebook_bad_mode():
    with pytest.raises(ValueError, match="'mode' parameter of palette_codebook"):
        palette_codebook("gray4", mode="block")


# --------------------------------------------------------------------------- 13. errors


def test_errors(camera, astronaut):
    rgb = astronaut[:8, :8]
    with pytest.raises(ValueError, match=r"3 \(RGB\) or 4 \(RGBA\) channels on its last axis for mode='color'"):
        fit(camera, 4, mode="color")
    with pytest.raises(TypeError, match=r"8-bit \(uint8\) RGB/RGBA image.*Got dtype uint16.*image >> 8"):
        fit(rgb.astype(np.uint16), 4, mode="color")
    with pytest.raises(TypeError, match="8-bit"):
        fit(rgb.astype(np.float32), 4, mode="color")
    with pytest.raises(ValueError, match="'strategy' parameter of fit with mode='color'.*NP-hard"):
        fit(rgb, 4, mode="color", strategy="optimal")
    with pytest.raises(ValueError, match="'strategy' parameter of fit with mode='block'.*quantile"):
        fit(camera, 4, mode="block", block=2, strategy="quantile")
    with pytest.raises(ValueError, match="'strategy' parameter"):
        fit(rgb, 4, mode="color", strategy="median-cut")
    for block in [(5, 5), (1, 1), 0, (2, 0), (2, 2, 2), 1, True, (2.0, 2.0), None, "2x2"]:
        with pytest.raises(ValueError, match=r"'block' parameter of .* must be \(rows, cols\)"):
            fit(camera, 4, mode="block", block=block)
    with pytest.raises(ValueError, match="'block' parameter of vector_histogram applies to mode='block' only"):
        fit(rgb, 4, mode="color", block=(2, 2))
    with pytest.raises(ValueError, match="2-D gray image for mode='block'"):
        fit(rgb, 4, mode="block", block=(2, 2))
    with pytest.raises(ValueError, match="'weights' parameter of vector_histogram applies to mode='color' only"):
        fit(camera, 4, mode="block", block=(2, 2), weights=np.ones(camera.shape))
    with pytest.raises(ValueError, match=r"'weights' parameter of vector_histogram must have shape \(8, 8\)"):
        fit(rgb, 4, mode="color", weights=np.ones(8))
    with pytest.raises(ValueError, match="finite and non-negative"):
        fit(rgb, 4, mode="color", weights=-np.ones((8, 8)))
    with pytest.raises(ValueError, match="must leave room for at least one learned entry: 3 levels, 3 locked"):
        fit(rgb, 3, mode="color", fixed=np.zeros((3, 3), np.uint8))
    with pytest.raises(ValueError, match="2 levels, 1 locked color\\(s\\), 1 transparent entry"):
        fit(rgba_image(), 2, mode="color", fixed=np.full((1, 4), 255, np.uint8))
    with pytest.raises(ValueError, match=r"'fixed' parameter of fit must be integer colors of shape \(n, 3\)"):
        fit(rgb, 4, mode="color", fixed=np.zeros((2, 4), np.uint8))
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        fit(rgb, 4, mode="color", fixed=np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match=r"shape \(n, 3\). Got float64"):
        fit(rgb, 4, mode="color", fixed=np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"values in \[0, 255\]"):
        fit(rgb, 4, mode="color", fixed=np.array([[0, 0, 256]]))
    with pytest.raises(ValueError, match="'n_levels' parameter of fit must be an int in \\[2, 65536\\]. Got 1"):
        fit(rgb, 1, mode="color")
    with pytest.raises(ValueError, match="'init' parameter of fit"):
        fit(rgb, 4, mode="color", init="random")
    with pytest.raises(ValueError, match="'mode' parameter of fit"):
        fit(rgb, 4, mode="rgb")
    with pytest.raises(ValueError, match="A VectorHistogram fits color or block codebooks"):
        fit(vector_histogram(rgb), 4, mode="gray")
    with pytest.raises(ValueError, match="A gray Histogram cannot fit a color codebook"):
        fit(vqimage.histogram(camera), 4, mode="color")
    with pytest.raises(ValueError, match="'weights' parameter of fit applies to images, not histograms"):
        fit(vector_histogram(rgb), 4, mode="color", weights=np.ones((8, 8)))


def test_encode_decode_errors(camera, astronaut):
    rgb = palette_codebook("#000000,#ffffff")
    rgba = palette_codebook("#00000000,#ffffffff")
    with pytest.raises(ValueError, match=r"holds RGB colors; the image has 4 channels.*image\[..., :3\]"):
        vqimage.encode(np.zeros((2, 2, 4), np.uint8), rgb)
    # Opaque black is 255 away from transparent black (alpha is a component) and 255 * sqrt(3) from white.
    assert vqimage.encode(np.zeros((2, 2, 3), np.uint8), rgba).tolist() == [[0, 0], [0, 0]]
    with pytest.raises(TypeError, match="8-bit"):
        vqimage.encode(np.zeros((2, 2, 3), np.uint16), rgb)
    block = fit(camera[:8, :8], 4, mode="block", block=(2, 2))
    codes = vqimage.encode(camera[:8, :8], block)
    with pytest.raises(ValueError, match=r"a 2-D shape tiled by \(4, 4\) blocks of 2x2. Got \(9, 8\)"):
        vqimage.decode(codes, block, shape=(9, 8))
    with pytest.raises(ValueError, match="Block codes are 2-D"):
        vqimage.decode(codes.reshape(-1), block)
    with pytest.raises(ValueError, match="'shape' parameter of decode applies to block codebooks only"):
        vqimage.decode(np.zeros((2, 2), np.uint8), rgb, shape=(2, 2))
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        vqimage.decode(np.array([[2]], np.uint8), rgb)
    with pytest.raises(ValueError, match="Dithering applies to gray and color codebooks, not to blocks"):
        vqimage.encode(camera[:8, :8], block, dither="floyd-steinberg")


def test_dithered_rgba_keeps_clear_pixels_on_the_transparent_entry():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (24, 24, 4), dtype=np.uint8)
    image[..., 3] = 255
    image[:8, :, 3] = 0  # clear rows with random colors
    cb = vqimage.fit(image, 8, mode="color")
    assert cb.levels[0].tolist() == [0, 0, 0, 0]
    for selective in (False, True):
        codes = vqimage.encode(image, cb, dither="floyd-steinberg", selective=selective)
        assert (codes[:8] == 0).all()
    with pytest.raises(ValueError, match="The 'dither' parameter of encode must be one of"):
        vqimage.encode(image, cb, dither="bayer")
