"""Dithering: exact nearest search, the kernels against a plain-Python reference, behaviour, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vqimage.dither import _KERNELS, DITHER_METHODS, _taps, blue_noise_map, dither_codes

DIFFUSION = ("floyd-steinberg", "atkinson", "sierra")

# The error-diffusion kernels, written out here from the published coefficients and not taken
# from vqimage.dither, so that a misplaced or mistyped tap there fails the reference tests below.
# Each diagram row is an image row, X the current pixel, a left-to-right scan, "." no tap:
# Floyd & Steinberg (1976) 7, 3, 5, 1 / 16; Atkinson (Apple, 1984) six taps of 1/8 (a quarter
# of the error dropped); Frankie Sierra's three-row filter (1989, "Sierra-3") over 32. As in the
# tables of Wikipedia's "Dither" article and of the didder project.
PUBLISHED = {
    "floyd-steinberg": (16, """
        .  X  7
        3  5  1
    """),
    "atkinson": (8, """
        .  X  1  1
        1  1  1  .
        .  1  .  .
    """),
    "sierra": (32, """
        .  .  X  5  3
        2  4  5  4  2
        .  2  3  2  .
    """),
}


def published_taps(method):
    """[(row offset, column offset, weight)] of the diagram in PUBLISHED, weights divided out."""
    denominator, diagram = PUBLISHED[method]
    rows = [line.split() for line in diagram.strip().splitlines()]
    x0 = rows[0].index("X")
    return sorted((dy, dx - x0, int(cell) / denominator)
                  for dy, row in enumerate(rows) for dx, cell in enumerate(row) if cell not in ".X")


def brute_color(image, levels):
    """Nearest palette entry of every pixel, ties to the lowest index."""
    points = image.reshape(-1, image.shape[-1]).astype(np.float64)
    dist = ((points[:, None, :] - levels[None, :, :]) ** 2).sum(axis=2)
    return dist.argmin(axis=1).reshape(image.shape[:2])


def brute_gray(image, levels):
    return np.abs(image.astype(np.float64)[..., None] - levels).argmin(axis=-1)


def reference_diffusion(image, levels, method, *, serpentine=True, thresholds=None, high=255.0):
    """Error diffusion written out plainly: float64, clamped, brute-force search, the published taps."""
    gray = image.ndim == 2
    img = image[..., None] if gray else image
    centers = levels[:, None] if gray else levels
    h, w, d = img.shape
    taps = published_taps(method)
    buf = np.zeros((h + 3, w + 4, d))
    codes = np.empty((h, w), np.int64)
    for y in range(h):
        reverse = serpentine and y % 2 == 1
        for x in reversed(range(w)) if reverse else range(w):
            v = [min(max(float(img[y, x, j]) + buf[y, x + 2, j], 0.0), high) for j in range(d)]
            if thresholds is not None:
                q = int(np.searchsorted(thresholds, v[0], side="right"))
            else:
                best, q = np.inf, -1
                for c in range(len(centers)):
                    dist = 0.0
                    for j in range(d):
                        dist += (v[j] - centers[c, j]) * (v[j] - centers[c, j])
                    if dist < best:
                        best, q = dist, c
            codes[y, x] = q
            for dy, dx, f in taps:
                for j in range(d):
                    c = x + 2 + (-dx if reverse else dx)
                    buf[y + dy, c, j] += f * (v[j] - centers[q, j])
    return codes


def random_palette(rng, k, d, kind):
    if kind == "float":
        return rng.uniform(0, 255, (k, d))
    if kind == "ties":  # few distinct values: many equidistant entries and duplicates
        return rng.choice([0.0, 16.0, 64.0, 128.0, 255.0], (k, d))
    if kind == "outside":  # entries beyond the 8-bit cube
        return rng.uniform(-60, 320, (k, d))
    return rng.integers(0, 256, (k, d)).astype(np.float64)


# ----------------------------------------------------------------------------- exactness


def test_kernels_are_the_published_ones():
    assert set(_KERNELS) == set(PUBLISHED) == set(DIFFUSION)
    assert set(DIFFUSION) < set(DITHER_METHODS)
    for method in DIFFUSION:
        taps = sorted(tuple(t) for t in _taps(method).tolist())
        assert taps == published_taps(method), method
    # Floyd-Steinberg and Sierra pass on all of the error, Atkinson three quarters of it.
    assert [sum(t[2] for t in published_taps(m)) for m in DIFFUSION] == [1.0, 0.75, 1.0]
    assert [len(published_taps(m)) for m in DIFFUSION] == [4, 6, 10]


@pytest.mark.parametrize("d", [3, 4])
@pytest.mark.parametrize("kind", ["int", "float", "ties", "outside"])
def test_strength_zero_is_brute_force_nearest_color(d, kind):
    rng = np.random.default_rng(d * 10 + len(kind))
    for k in (1, 2, 7, 64, 256):
        levels = random_palette(rng, k, d, kind)
        image = rng.integers(0, 256, (9, 11, d), dtype=np.uint8)
        expected = brute_color(image, levels)
        for method in DITHER_METHODS:
            for selective in (False, True):
                codes = dither_codes(image, levels, method=method, strength=0.0, selective=selective)
                np.testing.assert_array_equal(codes, expected, err_msg=f"{method} k={k}")
        np.testing.assert_array_equal(dither_codes(image, levels, method="none"), expected)


def test_color_search_is_exact_on_a_full_cube_sample():
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    image[0, :8] = [[0, 0, 0], [255, 255, 255], [15, 16, 17], [240, 239, 255],
                    [128] * 3, [127] * 3, [0, 255, 0], [16] * 3]
    for kind in ("int", "float", "ties"):
        levels = random_palette(rng, 256, 3, kind)
        np.testing.assert_array_equal(dither_codes(image, levels, method="none"), brute_color(image, levels))


@pytest.mark.parametrize("method", DIFFUSION)
@pytest.mark.parametrize("d", [3, 4])
def test_color_diffusion_matches_reference(method, d):
    # Real-valued, error-adjusted colors all over the cube: the cell lists must
    # still give exactly the brute-force nearest entry at every step.
    rng = np.random.default_rng(len(method) + d)
    for kind in ("int", "float", "ties", "outside"):
        levels = random_palette(rng, 12, d, kind)
        image = rng.integers(0, 256, (7, 9, d), dtype=np.uint8)
        for serpentine in (True, False):
            codes = dither_codes(image, levels, method=method, serpentine=serpentine)
            expected = reference_diffusion(image, levels, method, serpentine=serpentine)
            np.testing.assert_array_equal(codes, expected, err_msg=f"{kind} serpentine={serpentine}")


@pytest.mark.parametrize("method", DIFFUSION)
def test_gray_diffusion_matches_reference(method):
    rng = np.random.default_rng(len(method))
    image = rng.integers(0, 256, (8, 10), dtype=np.uint8)
    levels = np.array([30.0, 30.0, 90.0, 200.0, 10.0])  # unsorted, with a duplicate
    np.testing.assert_array_equal(dither_codes(image, levels, method=method),
                                  reference_diffusion(image, levels, method))
    levels = np.array([10.0, 60.0, 120.0, 250.0])
    thresholds = np.array([20.0, 100.0, 121.0])  # not midpoints
    np.testing.assert_array_equal(dither_codes(image, levels, method=method, thresholds=thresholds),
                                  reference_diffusion(image, levels, method, thresholds=thresholds))


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(np.uint8, hnp.array_shapes(min_dims=2, max_dims=2, max_side=9)),
    hnp.arrays(np.float64, st.integers(1, 12), elements=st.floats(-50, 300).map(lambda v: round(v * 2) / 2)),
)
def test_strength_zero_is_brute_force_nearest_gray(image, levels):
    expected = brute_gray(image, levels)
    for method in DITHER_METHODS:
        np.testing.assert_array_equal(dither_codes(image, levels, method=method, strength=0.0), expected)
    np.testing.assert_array_equal(dither_codes(image, levels, method="none"), expected)


def test_strength_zero_follows_thresholds():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (10, 12), dtype=np.uint8)
    levels = np.array([0.0, 50.0, 100.0, 255.0])
    thresholds = np.array([10.0, 10.0, 200.0])  # an empty bin, edges off the midpoints
    expected = np.searchsorted(thresholds, image, side="right")
    for method in DITHER_METHODS:
        codes = dither_codes(image, levels, method=method, strength=0.0, thresholds=thresholds,
                             selective=True)
        np.testing.assert_array_equal(codes, expected)


def test_uint16_gray():
    rng = np.random.default_rng(4)
    image = rng.integers(0, 65536, (12, 16), dtype=np.uint16)
    levels = np.sort(rng.uniform(0, 65535, 300))
    codes = dither_codes(image, levels, method="none")
    assert codes.dtype == np.uint16
    np.testing.assert_array_equal(codes, brute_gray(image, levels))
    expected = reference_diffusion(image, levels, "floyd-steinberg", high=65535.0)
    np.testing.assert_array_equal(dither_codes(image, levels), expected)
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (64, 1))
    codes = dither_codes(ramp, [0.0, 65535.0])
    assert abs(codes.mean() - 0.5) < 0.002  # measured 0.0007


# ----------------------------------------------------------------------------- behaviour


@pytest.mark.parametrize("method", DITHER_METHODS)
@pytest.mark.parametrize("selective", [False, True])
def test_deterministic_and_in_range(method, selective):
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    levels = rng.integers(0, 256, (5, 3)).astype(np.float64)
    first = dither_codes(image, levels, method=method, selective=selective)
    second = dither_codes(image.copy(), levels.copy(), method=method, selective=selective)
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.uint8 and first.shape == (20, 24) and first.max() < 5


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(DITHER_METHODS),
    st.booleans(),
    st.floats(0, 1),
    hnp.arrays(np.uint8, st.tuples(st.integers(1, 8), st.integers(1, 8), st.sampled_from([3, 4]))),
    st.integers(1, 300),
    st.integers(0, 2**32 - 1),
)
def test_codes_always_within_range(method, selective, strength, image, k, seed):
    levels = np.random.default_rng(seed).uniform(-100, 355, (k, image.shape[2]))
    codes = dither_codes(image, levels, method=method, selective=selective, strength=strength)
    assert codes.dtype == (np.uint8 if k <= 256 else np.uint16)
    assert codes.shape == image.shape[:2] and int(codes.max()) < k


def test_flat_half_gray_gives_half_white():
    image = np.full((32, 32), 128, np.uint8)
    for method in ("floyd-steinberg", "sierra", "ordered", "blue-noise", "atkinson"):
        share = dither_codes(image, [0.0, 255.0], method=method).mean()
        assert abs(share - 128 / 255) < 0.0035, method  # measured 0.0010 (sierra) to 0.0029 (blue-noise)


def test_ramp_mean_is_tracked():
    ramp = np.tile(np.linspace(0, 255, 64).round().astype(np.uint8), (128, 1))
    # Mean of each column, then over 8 columns (one Bayer tile), against the ramp.
    # Atkinson drops a quarter of the error: its mean lags near the ends.
    # Measured: 2.58, 3.56, 8.11, 2.80 and 24.8.
    for method, tolerance in (("floyd-steinberg", 3), ("sierra", 4), ("ordered", 9), ("blue-noise", 3.2),
                              ("atkinson", 26)):
        columns = dither_codes(ramp, [0.0, 255.0], method=method).mean(axis=0) * 255.0
        assert np.abs(np.convolve(columns - ramp[0], np.ones(8) / 8, "valid")).max() < tolerance, method
    plain = dither_codes(ramp, [0.0, 255.0], method="none")
    np.testing.assert_array_equal(plain[:, :32], 0)
    np.testing.assert_array_equal(plain[:, 32:], 1)


def test_ordered_keeps_the_mean_of_a_flat_gray():
    # 64 is a quarter of the way from 0 to 256: a quarter of each 8x8 tile takes the upper level.
    codes = dither_codes(np.full((16, 16), 64, np.uint8), [0.0, 256.0], method="ordered")
    assert codes.sum() == 64
    codes = dither_codes(np.full((16, 16), 64, np.uint8), [0.0, 256.0], method="ordered", strength=0.5)
    assert codes.sum() == 0  # offsets shrink to +-1/4 of the gap: none crosses the midpoint


def low_frequency_power(points: np.ndarray) -> float:
    """Mean power of a binary pattern's spectrum below a tenth of the sampling frequency (DC left out)."""
    centred = points.astype(float) - points.mean()
    power = np.abs(np.fft.fft2(centred)) ** 2
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(points.shape[0]), np.fft.fftfreq(points.shape[1]), indexing="ij"))
    return float(power[(f > 0) & (f < 0.1)].mean())


def test_blue_noise_map_is_every_threshold_once_with_little_low_frequency_power():
    m = blue_noise_map()
    assert m.shape == (64, 64) and not m.flags.writeable
    np.testing.assert_array_equal(np.sort((m * 4096 - 0.5).round().ravel()), np.arange(4096))
    rng = np.random.default_rng(0)
    for share in (0.05, 0.25, 0.5, 0.75, 0.95):
        white = np.mean([low_frequency_power(rng.random((64, 64)) < share) for _ in range(4)])
        assert low_frequency_power(m < share) < 0.1 * white, share  # measured 0.018-0.092
    # the first points keep apart: at 1/16 density no two are 4-neighbours, even across the wrap
    sparse = m < 1 / 16
    assert not (sparse & np.roll(sparse, 1, 0)).any() and not (sparse & np.roll(sparse, 1, 1)).any()
    assert blue_noise_map() is m and np.array_equal(blue_noise_map.__wrapped__(), m)  # cached, deterministic
    with pytest.raises(ValueError, match=r"The 'size' parameter of blue_noise_map must be an int in \[4, 256\]"):
        blue_noise_map(2)


def test_blue_noise_keeps_the_mean_and_each_pixel_depends_on_itself_only():
    codes = dither_codes(np.full((64, 64), 64, np.uint8), [0.0, 256.0], method="blue-noise")
    assert codes.sum() == 1024  # thresholds >= 3/4 take the upper level: exactly a quarter of the tile
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    levels = rng.integers(0, 256, (12, 3)).astype(np.float64)
    codes = dither_codes(image, levels, method="blue-noise")
    assert (codes != dither_codes(image, levels, method="none")).any()
    changed = image.copy()
    changed[20, 25] = 255 - changed[20, 25]
    differ = codes != dither_codes(changed, levels, method="blue-noise")
    assert not differ[np.arange(40) != 20].any() and not differ[20, np.arange(50) != 25].any()  # no crawling


def test_strength_scales_the_dithering():
    ramp = np.tile(np.linspace(0, 255, 64).round().astype(np.uint8), (32, 1))
    levels = np.linspace(0, 255, 4)
    plain = dither_codes(ramp, levels, method="none")
    changed = [np.count_nonzero(dither_codes(ramp, levels, strength=s) != plain) for s in (0.0, 0.3, 1.0)]
    assert changed[0] == 0 < changed[1] < changed[2]


def test_serpentine_differs_from_one_way():
    rng = np.random.default_rng(6)
    image = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    levels = rng.integers(0, 256, (8, 3)).astype(np.float64)
    for method in DIFFUSION:
        a = dither_codes(image, levels, method=method, serpentine=True)
        b = dither_codes(image, levels, method=method, serpentine=False)
        assert (a != b).any(), method
        np.testing.assert_array_equal(a[0], b[0])  # the first row is scanned left to right in both
    o = dither_codes(image, levels, method="ordered", serpentine=False)
    np.testing.assert_array_equal(o, dither_codes(image, levels, method="ordered"))


def test_selective_keeps_flat_palette_area_clean():
    # A smooth gradient (dithered) beside a flat area that is exactly a palette color,
    # with another palette color close by (128) that leaked error would pick.
    levels = np.array([[0, 0, 0], [60, 60, 60], [120, 120, 120], [128, 128, 128], [180, 180, 180],
                       [240, 240, 240]], float)
    image = np.zeros((32, 64, 3), np.uint8)
    image[:, :32] = np.linspace(0, 90, 32).round().astype(np.uint8)[None, :, None]
    image[:, 32:] = 120
    for method in DITHER_METHODS:
        full = dither_codes(image, levels, method=method)
        sel = dither_codes(image, levels, method=method, selective=True)
        np.testing.assert_array_equal(sel[:, 32:], 2, err_msg=method)
        if method in DIFFUSION:
            assert (full[:, 32:] != 2).any(), method  # error from the gradient leaks in without it
    # ... and still dithers the gradient.
    sel = dither_codes(image, levels, selective=True)
    plain = dither_codes(image, levels, method="none")
    assert (sel[:, :32] != plain[:, :32]).mean() > 0.13  # measured 0.140


def test_selective_spares_edges():
    # One-pixel stripes: an edge at every pixel.
    levels = np.array([0.0, 100.0, 200.0])
    image = np.tile(np.array([40, 170], np.uint8), (16, 16))
    plain = dither_codes(image, levels, method="none")
    assert (dither_codes(image, levels) != plain).any()
    np.testing.assert_array_equal(dither_codes(image, levels, selective=True), plain)


def test_single_level_palette():
    image = np.random.default_rng(8).integers(0, 256, (6, 6, 3), dtype=np.uint8)
    for method in DITHER_METHODS:
        for selective in (False, True):
            assert not dither_codes(image, [[10.0, 20.0, 30.0]], method=method, selective=selective).any()
            assert not dither_codes(image[..., 0], [5.0], method=method, selective=selective).any()
            assert not dither_codes(image[..., 0], [5.0], thresholds=[], method=method).any()


def test_rgba_alpha_counts():
    image = np.zeros((4, 4, 4), np.uint8)
    image[..., 3] = 200
    levels = np.array([[0, 0, 0, 0], [0, 0, 0, 255], [10, 10, 10, 200]], float)
    np.testing.assert_array_equal(dither_codes(image, levels, method="none"), 2)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "riemersma"}, ValueError, r"'method' parameter of dither_codes must be one of .*'riem"),
        ({"method": None}, ValueError, r"'method' parameter"),
        ({"strength": 1.5}, ValueError, r"'strength' parameter of dither_codes must be a finite float in"),
        ({"strength": -0.1}, ValueError, r"'strength' .* Got -0.1"),
        ({"strength": float("nan")}, ValueError, r"'strength' .* Got nan"),
        ({"strength": "1"}, TypeError, r"'strength' .* Got '1'"),
        ({"strength": True}, TypeError, r"'strength' .* Got True"),
        ({"serpentine": "yes"}, ValueError, r"'serpentine' parameter .* Got 'yes'"),
        ({"selective": 2}, ValueError, r"'selective' parameter .* Got 2"),
    ],
)
def test_parameter_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        dither_codes(np.zeros((2, 2), np.uint8), [0.0, 255.0], **kwargs)


@pytest.mark.parametrize(
    ("image", "levels", "error", "match"),
    [
        (np.zeros(5, np.uint8), [0.0, 1.0], ValueError, r"'image' .* gray \(H, W\) or color .* shape \(5,\)"),
        (np.zeros((2, 2, 2), np.uint8), [0.0, 1.0], ValueError, r"Got shape \(2, 2, 2\)"),
        (np.zeros((2, 2, 3), np.uint16), np.zeros((2, 3)), TypeError, r"be uint8 for a color image.*uint16"),
        (np.zeros((2, 2), np.int16), [0.0, 1.0], TypeError, r"uint8 or uint16 for a gray image.*int16"),
        (np.zeros((2, 2), np.float64), [0.0, 1.0], TypeError, r"uint8 or uint16 .* float64"),
        (np.zeros((2, 2), bool), [0.0, 1.0], TypeError, r"'image' .* Got dtype bool"),
        (np.zeros((0, 2), np.uint8), [0.0, 1.0], ValueError, r"'image' parameter of dither_codes is empty"),
        (np.zeros((2, 2), np.uint8), [[0.0, 1.0]], ValueError, r"\(k,\) for a gray image\. Got shape \(1, 2"),
        (np.zeros((2, 2, 3), np.uint8), np.zeros((4, 4)), ValueError, r"\(k, 3\) for a 3-channel.*\(4, 4\)"),
        (np.zeros((2, 2, 4), np.uint8), np.zeros(4), ValueError, r"shape \(k, 4\) .* Got shape \(4,\)"),
        (np.zeros((2, 2), np.uint8), [], ValueError, r"'levels' parameter of dither_codes is empty"),
        (np.zeros((2, 2), np.uint8), [0.0, np.nan], ValueError, r"'levels' .* NaN or infinite"),
        (np.zeros((2, 2), np.uint8), ["a", "b"], TypeError, r"'levels' .* integers or floats"),
        (np.zeros((2, 2), np.uint16), np.zeros(65537), ValueError, r"at most 65536 entries\. Got 65537"),
    ],
)
def test_data_errors(image, levels, error, match):
    with pytest.raises(error, match=match):
        dither_codes(image, levels)


@pytest.mark.parametrize(
    ("image", "levels", "thresholds", "match"),
    [
        (np.zeros((2, 2, 3), np.uint8), np.zeros((2, 3)), [1.0], r"'thresholds' .* gray images only"),
        (np.zeros((2, 2), np.uint8), [0.0, 1.0, 2.0], [0.5], r"\(2,\) for 3 levels\. Got shape \(1,\)"),
        (np.zeros((2, 2), np.uint8), [0.0, 1.0, 2.0], [1.5, 0.5], r"'thresholds' .* sorted increasingly"),
        (np.zeros((2, 2), np.uint8), [0.0, 2.0, 1.0], [0.5, 1.5], r"'levels' .* sorted increasingly when"),
        (np.zeros((2, 2), np.uint8), [0.0, 1.0], [np.inf], r"'thresholds' .* NaN or infinite"),
    ],
)
def test_threshold_errors(image, levels, thresholds, match):
    with pytest.raises(ValueError, match=match):
        dither_codes(image, levels, thresholds=thresholds)


# ----------------------------------------------------------------------------- adaptive, and Oklab


def test_adaptive_dithers_a_gradient_and_keeps_exact_colors_and_edges():
    levels = np.array([[0, 0, 0], [60, 60, 60], [120, 120, 120], [128, 128, 128], [180, 180, 180],
                       [240, 240, 240]], float)
    image = np.zeros((32, 64, 3), np.uint8)
    image[:, :32] = np.linspace(0, 90, 32).round().astype(np.uint8)[None, :, None]
    image[:, 32:] = 120  # exactly a palette color: kept clean
    codes = dither_codes(image, levels, method="adaptive")
    np.testing.assert_array_equal(codes[:, 32:], 2)
    plain = dither_codes(image, levels, method="none")
    # The gradient is dithered more than by the selective weights (which leave bands near each level).
    selective = dither_codes(image, levels, selective=True)
    # Measured 0.210 and 0.140.
    assert (codes[:, :32] != plain[:, :32]).mean() > (selective[:, :32] != plain[:, :32]).mean() > 0.13
    # Its mean follows the ramp (a dithered 0..90 ramp between levels 0, 60 and 120).
    columns = levels[codes[:, :32], 0].mean(axis=0)
    assert np.abs(np.convolve(columns - image[0, :32, 0], np.ones(8) / 8, "valid")).max() < 4  # measured 3.75
    # An edge of 4 steps at every pixel (beyond the 3 where edges are spared fully): left alone.
    stripes, steps = np.tile(np.array([20, 220], np.uint8), (16, 16)), np.arange(0.0, 251.0, 50.0)
    np.testing.assert_array_equal(dither_codes(stripes, steps, method="adaptive"),
                                  dither_codes(stripes, steps, method="none"))
    assert (dither_codes(stripes, steps) != dither_codes(stripes, steps, method="none")).any()
    np.testing.assert_array_equal(dither_codes(image, levels, method="adaptive", strength=0.0), plain)


def test_oklab_dithering_maps_by_oklab_distance_and_tracks_lightness():
    from vqimage._spaces import to_space

    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    levels = rng.integers(0, 256, (12, 3)).astype(np.float64)
    points, centers = to_space(image.reshape(-1, 3), "oklab"), to_space(levels, "oklab")
    nearest = ((points[:, None] - centers[None]) ** 2).sum(-1).argmin(1).reshape(24, 24)
    np.testing.assert_array_equal(dither_codes(image, levels, method="none", space="oklab"), nearest)
    assert (dither_codes(image, levels, method="none") != nearest).any()  # RGB distance differs
    # A gray ramp between black and white: in Oklab the dithered mean follows lightness, not sRGB values.
    ramp = np.repeat(np.tile(np.linspace(0, 255, 64).round().astype(np.uint8), (64, 1))[..., None], 3, axis=2)
    bw = np.array([[0.0, 0, 0], [255, 255, 255]])
    lightness = to_space(ramp[0], "oklab")[:, 0]
    white = dither_codes(ramp, bw, space="oklab").mean(axis=0)
    target = (lightness - lightness[0]) / (lightness[-1] - lightness[0])
    assert np.abs(np.convolve(white - target, np.ones(8) / 8, "valid")).max() < 0.015  # measured 0.0132
    rgb_white = dither_codes(ramp, bw).mean(axis=0)
    assert np.abs(np.convolve(rgb_white - ramp[0, :, 0] / 255, np.ones(8) / 8, "valid")).max() < 0.015  # 0.0119
    with pytest.raises(ValueError, match="The 'space' parameter of dither_codes is 'oklab', which applies to RGB"):
        dither_codes(ramp[..., 0], [0.0, 255.0], space="oklab")
    with pytest.raises(ValueError, match="The 'space' parameter of dither_codes must be one of"):
        dither_codes(ramp, bw, space="lab")
