"""Histograms: exact gray counts for every dtype, weights, binning, merging; vector histograms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vqimage
from conftest import FAST, cell_of
from vqimage import Histogram, _histogram_kernels, fit
from vqimage._vectors import image_blocks
from vqimage.histogram import importance_map, vector_histogram

# --------------------------------------------------------------------------- gray histograms


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"])
def test_integer_counts_are_exact(dtype):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype)
    image = rng.integers(max(info.min, -40000), min(info.max, 40000), (50, 70), endpoint=True).astype(dtype)
    hist = vqimage.histogram(image)
    values, counts = np.unique(image, return_counts=True)
    np.testing.assert_array_equal(hist.values, values.astype(float))
    np.testing.assert_array_equal(hist.counts, counts)
    assert hist.dtype == image.dtype and hist.total == image.size
    assert (hist.low, hist.high) == (values[0], values[-1])


def test_wide_integer_span_uses_unique():
    image = np.array([-(2**40), 0, 0, 2**40], dtype=np.int64)
    hist = vqimage.histogram(image)
    assert hist.values.tolist() == [-(2**40), 0, 2**40] and hist.counts.tolist() == [1, 2, 1]


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float32, st.integers(1, 200), elements=st.floats(-1e6, 1e6, width=32)))
def test_float_histogram_is_exact_on_unique_values(image):
    hist = vqimage.histogram(image)
    values, counts = np.unique(image, return_counts=True)
    np.testing.assert_array_equal(hist.values, values.astype(np.float64))
    np.testing.assert_array_equal(hist.counts, counts)


def test_weights_and_zero_weights():
    image = np.array([1, 2, 2, 3], dtype=np.uint8)
    hist = vqimage.histogram(image, weights=[0.5, 1, 2, 0])
    assert hist.values.tolist() == [1, 2] and hist.counts.tolist() == [0.5, 3]
    assert hist.high == 2  # the zero-weight 3 is not counted


def test_binned_keeps_exact_means_and_merges_on_the_same_grid():
    rng = np.random.default_rng(1)
    a, b = rng.random(1000), rng.random(500)
    ha = vqimage.histogram(a, bins=10, data_range=(0, 1))
    hb = vqimage.histogram(b, bins=10, data_range=(0, 1))
    merged = ha + hb
    whole = vqimage.histogram(np.concatenate([a, b]), bins=10, data_range=(0, 1))
    np.testing.assert_allclose(merged.values, whole.values)
    np.testing.assert_array_equal(merged.counts, whole.counts)
    assert merged.mean() == pytest.approx(np.concatenate([a, b]).mean())
    with pytest.raises(ValueError, match="different binning"):
        ha + vqimage.histogram(b, bins=20, data_range=(0, 1))
    with pytest.raises(ValueError, match="different binning"):
        ha + vqimage.histogram(b)


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(np.uint16, st.integers(1, 300), elements=st.integers(0, 2000)),
    hnp.arrays(np.uint16, st.integers(1, 300), elements=st.integers(0, 2000)),
)
def test_sum_of_histograms_is_the_histogram_of_the_union(a, b):
    merged = vqimage.histogram(a) + vqimage.histogram(b)
    whole = vqimage.histogram(np.concatenate([a, b]))
    np.testing.assert_array_equal(merged.values, whole.values)
    np.testing.assert_array_equal(merged.counts, whole.counts)


def test_mixed_dtypes_promote():
    merged = vqimage.histogram(np.array([1], np.uint8)) + vqimage.histogram(np.array([300], np.uint16))
    assert merged.dtype == np.uint16 and merged.values.tolist() == [1, 300]


def test_repr_and_errors():
    hist = vqimage.histogram(np.arange(4, dtype=np.uint8))
    assert repr(hist) == "Histogram(n_values=4, total=4, dtype=uint8, range=[0, 3], exact)"
    assert isinstance(hist, Histogram)
    with pytest.raises(ValueError, match=r"The 'bins' parameter of histogram must be None or an int"):
        vqimage.histogram(np.ones(3), bins=0)
    with pytest.raises(ValueError, match=r"'data_range' parameter of histogram must be a pair"):
        vqimage.histogram(np.ones(3), bins=3, data_range=(0, np.nan))
    with pytest.raises(ValueError, match="Use vqimage.histogram|apply to images"):
        vqimage.fit(hist, 2, weights=np.ones(4))


# --------------------------------------------------------------------------- vector histograms: unique_cells


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
    uniques, counts, cell_start, cell_ids, inverse = _histogram_kernels.unique_cells(vectors, weights, bits, with_inverse=True)
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
    # Within a cell, uniques come in order of first appearance (the fit's visiting order).
    first = {}
    for i, row in enumerate(vectors.tolist()):
        first.setdefault(tuple(row), i)
    for a, b in zip(cell_start[:-1], cell_start[1:]):
        seen = [first[tuple(row)] for row in uniques[a:b].tolist()]
        assert seen == sorted(seen)
    assert _histogram_kernels.unique_cells(vectors, weights, bits)[4] is None  # no inverse unless asked
    unweighted = _histogram_kernels.unique_cells(vectors, None, bits)  # None: 1 each
    np.testing.assert_array_equal(unweighted[1], np.bincount(inverse, minlength=u))
    np.testing.assert_array_equal(unweighted[0], uniques)


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


# --------------------------------------------------------------------------- vector histograms: colors


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


# --------------------------------------------------------------------------- importance


def test_importance_map_weights_flat_areas_over_texture_and_keeps_thin_lines():
    rng = np.random.default_rng(0)
    image = np.full((48, 96), 120, np.uint8)
    image[:, 48:] = rng.integers(0, 256, (48, 48))      # noise on the right
    image[20, 8:40] = 30                                # a one-pixel dark line in the flat half
    w = importance_map(image)
    assert w.shape == image.shape and w.dtype == np.float64
    assert w[:, :36].min() >= 0.89 and w[:8, :36].min() == 1.0  # a thin line in a flat area costs it 0.1 at most
    assert w[4:-4, 60:-4].mean() < 0.31 and w.min() >= 0.3  # busy texture down to the floor (0.303), never below
    assert importance_map(image, floor=0.0)[4:-4, 60:-4].mean() < 0.006  # measured 0.0049
    step = np.zeros((32, 32, 3), np.uint8)
    step[:, 16:] = 200                                  # a clean edge: one direction only counts half
    noisy = rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)
    assert importance_map(step)[8:-8, 12:20].mean() > importance_map(noisy)[8:-8, 12:20].mean() + 0.69  # 0.70
    deep = (image.astype(np.uint16) * 257)
    np.testing.assert_allclose(importance_map(deep), w, atol=1e-6)  # 16-bit: the same map, scaled
    with pytest.raises(ValueError, match=r"The 'image' parameter of importance_map must be an 8- or 16-bit image"):
        importance_map(image.astype(np.float32))
    with pytest.raises(ValueError, match=r"The 'floor' parameter of importance_map must be a finite float in \[0"):
        importance_map(image, floor=1.5)


def test_quantize_importance_is_a_weighted_fit(astronaut):
    image = astronaut[::2, ::2].copy()
    auto = vqimage.quantize(image, 32, importance="auto", dither="none")
    weighted = vqimage.fit(image, 32, mode="color", weights=importance_map(image), space="oklab")
    np.testing.assert_array_equal(auto.codebook.levels, weighted.levels)
    assert not np.array_equal(auto.codebook.levels, vqimage.quantize(image, 32, dither="none").codebook.levels)
    # a user's map: the region that counts gets the palette's attention
    face = (slice(40, 120), slice(80, 160))
    mask = np.full(image.shape[:2], 1.0)
    mask[face] = 50.0
    plain = vqimage.quantize(image, 16, dither="none", space="rgb")
    focused = vqimage.quantize(image, 16, dither="none", space="rgb", importance=mask)
    error = [vqimage.metrics.mse(image[face], q.reconstruction[face]) for q in (plain, focused)]
    assert error[1] < 0.4 * error[0]  # measured 0.388
    assert vqimage.metrics.mse(image, focused.reconstruction) > vqimage.metrics.mse(image, plain.reconstruction)


def test_quantize_importance_from_a_file_and_its_errors(tmp_path, astronaut, capsys):
    from PIL import Image

    from vqimage import ConflictError
    from vqimage.cli import main

    image = astronaut[::4, ::4].copy()
    mask = np.full(image.shape[:2], 20, np.uint8)
    mask[:64] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    Image.fromarray(image).save(tmp_path / "in.png")
    expected = vqimage.quantize(image, 16, importance=mask.astype(float))
    assert main(["quantize", str(tmp_path / "in.png"), "-k", "16", "--importance", str(tmp_path / "mask.png"),
                 "-o", str(tmp_path / "out.png")]) == 0
    np.testing.assert_array_equal(vqimage.load_image(tmp_path / "out.png", gray=False), expected.reconstruction)
    with pytest.raises(ValueError, match=r"The 'importance' map must have the image's shape \(128, 128\)\. "
                                         r"Got \(10, 10\) instead"):
        vqimage.quantize(image, 16, importance=np.ones((10, 10)))
    bad = np.ones(image.shape[:2])
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match=r"The 'importance' map must hold finite weights >= 0\. Got NaN or infinite"):
        vqimage.quantize(image, 16, importance=bad)
    bad[3, 4] = -2
    with pytest.raises(ValueError, match=r"The 'importance' map must hold finite weights >= 0\. Got a minimum of -2"):
        vqimage.quantize(image, 16, importance=bad)
    with pytest.raises(TypeError, match="The 'importance' map must hold numbers. Got dtype <U1"):
        vqimage.quantize(image, 16, importance=np.full(image.shape[:2], "a"))
    with pytest.raises(ConflictError, match="'importance' weights the fit; 'palette' and 'codebook' are not fitted"):
        vqimage.quantize(image, palette="epaper7", importance="auto")
    with pytest.raises(ConflictError, match="Give either 'importance' or 'weights', not both"):
        vqimage.quantize(image, 16, importance="auto", weights=np.ones(image.shape[:2]))
    assert main(["quantize", str(tmp_path / "in.png"), "-k", "16", "--importance", str(tmp_path / "nope.png"),
                 "-o", str(tmp_path / "x.png")]) == 1
    assert "nope.png" in capsys.readouterr().err and not (tmp_path / "x.png").exists()
