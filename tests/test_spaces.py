"""Color spaces (vqimage._spaces) and palettes fitted and mapped in Oklab."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vqimage
from conftest import FAST, brute_nearest, distances
from vqimage import ConflictError, VQError
from vqimage._histogram_kernels import unique_cells
from vqimage._mapping_kernels import nearest_in_cells
from vqimage._spaces import from_space, group_by_cell, to_space
from vqimage.cli import main
from vqimage.codebook import Codebook
from vqimage.solvers import _vector_kernels as K

# Ottosson's published Oklab values of sRGB white, red, green and blue
# (https://bottosson.github.io/posts/oklab/, "Table of example Oklab values").
KNOWN = {
    (255, 255, 255): (1.0, 0.0, 0.0),
    (255, 0, 0): (0.627955, 0.224863, 0.125846),
    (0, 255, 0): (0.866440, -0.233888, 0.179498),
    (0, 0, 255): (0.452014, -0.032457, -0.311528),
}


def oklab_of(rgb):
    """Unscaled Oklab of sRGB colors, from the module's scaled points."""
    return (to_space(np.array(rgb, np.uint8), "oklab") - [2.0, 0.25 * 250, 0.33 * 250]) / 250.0


@pytest.mark.parametrize("rgb", list(KNOWN))
def test_oklab_matches_published_values(rgb):
    np.testing.assert_allclose(oklab_of([rgb])[0], KNOWN[rgb], atol=2e-4)


def test_black_is_the_origin_and_grays_have_no_chroma():
    lab = oklab_of([[v, v, v] for v in range(256)])
    np.testing.assert_allclose(lab[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(lab[:, 1:], 0.0, atol=2e-4)
    assert (np.diff(lab[:, 0]) > 0).all()  # lightness rises with the gray value


def test_every_8bit_color_lands_inside_the_grid_and_comes_back():
    rng = np.random.default_rng(0)
    corners = np.array([[r, g, b] for r in (0, 255) for g in (0, 255) for b in (0, 255)], np.uint8)
    colors = np.concatenate([corners, rng.integers(0, 256, (20000, 3)).astype(np.uint8)])
    points = to_space(colors, "oklab")
    assert points.min() >= 0.0 and points.max() < 255.0
    np.testing.assert_allclose(to_space(colors.astype(np.float64), "oklab"), points, rtol=0, atol=1e-9)
    np.testing.assert_allclose(from_space(points, "oklab"), colors, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(to_space(colors, "rgb"), colors.astype(np.float64))


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), bits=st.integers(1, 6))
def test_group_by_cell_puts_each_point_in_its_cell_box_in_input_order(seed, n, bits):
    points = np.random.default_rng(seed).uniform(0, 255, (n, 3))
    order, cell_start, cell_ids = group_by_cell(points, bits)
    assert sorted(order.tolist()) == list(range(n)) and cell_start[-1] == n
    assert (np.diff(cell_ids) > 0).all()
    width = 1 << (8 - bits)
    for t, cid in enumerate(cell_ids.tolist()):
        members = order[cell_start[t]:cell_start[t + 1]]
        assert (np.diff(members) > 0).all()  # stable: input order within a cell
        lo = np.array([(cid >> ((2 - j) * bits)) & ((1 << bits) - 1) for j in range(3)]) * width
        assert ((points[members] >= lo) & (points[members] < lo + width)).all()


def edge_points(seed, n):
    """Points just below their cells' upper corners (where a box one unit too small misses centers)."""
    rng = np.random.default_rng(seed)
    points = rng.integers(0, 64, (n, 3)) * 4 + 4 - rng.uniform(1e-6, 0.9, (n, 3))
    order, cell_start, cell_ids = group_by_cell(points, 6)
    return np.ascontiguousarray(points[order]), rng.uniform(0.5, 2, n), cell_start, cell_ids


def oklab_points(seed, n, edges=False):
    """Distinct colors of a clustered random image, as Oklab points grouped by cell, with weights."""
    if edges:
        return edge_points(seed, n)
    rng = np.random.default_rng(seed)
    centers = rng.integers(0, 256, (4, 3))
    colors = np.clip(centers[rng.integers(0, 4, n)] + rng.normal(0, 30, (n, 3)), 0, 255).astype(np.uint8)
    uniques, counts, _, _, _ = unique_cells(colors, None, 6)
    points = to_space(uniques, "oklab")
    order, cell_start, cell_ids = group_by_cell(points, 6)
    return np.ascontiguousarray(points[order]), counts[order], cell_start, cell_ids


@FAST
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 256), n=st.integers(1, 400), edges=st.booleans())
def test_lloyd_on_real_points_with_extent_one_is_exact(seed, k, n, edges):
    points, counts, cell_start, cell_ids = oklab_points(seed, n, edges)
    start = np.random.default_rng(seed + 1).uniform(0, 255, (k, 3))
    stats = np.zeros(3, np.int64)
    centers, labels, n_iter = K.lloyd(points, counts, cell_start, cell_ids, 6, start, np.zeros(k, np.bool_), 1000,
                                      0.0, stats, 1.0, 1.0)
    assert n_iter < 1000
    dist = distances(points, centers)
    np.testing.assert_allclose(dist[np.arange(points.shape[0]), labels], dist.min(axis=1), rtol=1e-9, atol=1e-9)
    for c in np.unique(labels):
        mine = labels == c
        np.testing.assert_allclose(centers[c], counts[mine] @ points[mine] / counts[mine].sum(), atol=1e-6)


@FAST
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 256), n=st.integers(0, 400), edges=st.booleans())
def test_nearest_in_cells_is_the_brute_force_nearest(seed, k, n, edges):
    points, _, cell_start, cell_ids = oklab_points(seed, max(n, 1), edges)
    centers = np.random.default_rng(seed + 2).uniform(0, 255, (k, 3))
    centers[-1] = centers[0]  # a tie: the lower index wins
    np.testing.assert_array_equal(nearest_in_cells(points, cell_start, cell_ids, 6, 1.0, centers),
                                  brute_nearest(points, centers))


def oklab_sse(image, levels):
    points = to_space(image.reshape(-1, 3), "oklab")
    return float(distances(points, to_space(np.asarray(levels, np.uint8), "oklab")).min(axis=1).sum())


def test_oklab_fit_maps_by_oklab_distance_and_wins_in_its_own_space(astronaut):
    image = astronaut[::4, ::4]
    ok = vqimage.fit(image, 16, mode="color", space="oklab")
    rgb = vqimage.fit(image, 16, mode="color")
    assert ok.space == "oklab" and rgb.space == "rgb" and "space='oklab'" in repr(ok)
    codes = vqimage.encode(image, ok)
    points = to_space(image.reshape(-1, 3), "oklab")
    np.testing.assert_array_equal(codes.reshape(-1), brute_nearest(points, to_space(ok.levels, "oklab")))
    # Each fit is better in the error it minimises (Oklab here, RGB for the default).
    assert oklab_sse(image, ok.levels) < 0.59 * oklab_sse(image, rgb.levels)  # measured 0.578
    decoded = {name: vqimage.decode(vqimage.encode(image, cb), cb) for name, cb in (("ok", ok), ("rgb", rgb))}
    assert vqimage.metrics.psnr(image, decoded["rgb"]) > vqimage.metrics.psnr(image, decoded["ok"]) + 0.6  # 0.69 dB
    assert ok == vqimage.fit(image, 16, mode="color", space="oklab")  # deterministic


def test_oklab_wu_and_locked_colors(astronaut):
    image = astronaut[::4, ::4]
    wu = vqimage.fit(image, 8, mode="color", strategy="wu", space="oklab")
    assert wu.space == "oklab" and wu.n_levels == 8
    locked = vqimage.fit(image, 8, mode="color", space="oklab", fixed=np.array([[255, 0, 255]]))
    assert locked.levels[0].tolist() == [255, 0, 255]


def test_space_survives_config_and_vq_round_trips(astronaut):
    image = astronaut[::4, ::4]
    cb = vqimage.fit(image, 16, mode="color", space="oklab")
    assert cb.to_config()["space"] == "oklab" and "space" not in vqimage.fit(image, 4, mode="color").to_config()
    assert Codebook.from_config(cb.to_config()) == cb
    data = vqimage.compress(image, codebook=cb)
    codes, back = vqimage.decompress(data)
    assert back == cb and back.space == "oklab"
    np.testing.assert_array_equal(codes, vqimage.encode(image, cb))


def test_space_errors(astronaut, camera):
    with pytest.raises(ValueError, match="The 'space' parameter of fit must be one of"):
        vqimage.fit(astronaut, 4, mode="color", space="lab")
    rgba = np.concatenate([astronaut[:8, :8], np.full((8, 8, 1), 255, np.uint8)], axis=-1)
    with pytest.raises(ValueError, match="applies to RGB colors only, not to RGBA data"):
        vqimage.fit(rgba, 4, mode="color", space="oklab")
    with pytest.raises(ValueError, match="applies to RGB colors only, not to 2x2 block data"):
        vqimage.fit(camera[:16, :16], 4, mode="block", block=(2, 2), space="oklab")
    with pytest.raises(ValueError, match="space='oklab' is for RGB color codebooks; this one is gray"):
        Codebook([0.0, 1.0], [0.0, 0.5, 1.0], strategy="edges", reconstruction="midpoint", dtype=np.uint8,
                 space="oklab")
    with pytest.raises(ValueError, match="A codebook's space is one of rgb, oklab, composite. Got 'xyz'"):
        Codebook([[0.0, 0, 0]], strategy="palette", reconstruction="palette", dtype=np.uint8, space="xyz")
    config = vqimage.fit(astronaut[::8, ::8], 4, mode="color").to_config() | {"space": 7}
    with pytest.raises(VQError, match="Invalid codebook config: A codebook's space is one of"):
        Codebook.from_config(config)
    with pytest.raises(ConflictError, match="'space' applies to fitting color palettes"):
        vqimage.quantize(camera, 4, space="oklab")
    with pytest.raises(ConflictError, match="'space' applies to fitting color palettes"):
        vqimage.quantize(astronaut, palette="epaper7", space="oklab")


def test_cli_space_writes_the_library_result(tmp_path, astronaut, capsys):
    from PIL import Image

    src = tmp_path / "a.png"
    Image.fromarray(astronaut[::4, ::4]).save(src)
    assert main(["quantize", str(src), "-k", "16", "--space", "oklab", "-o", str(tmp_path / "o.png"), "-q"]) == 0
    expected = vqimage.quantize(astronaut[::4, ::4], 16, space="oklab").reconstruction
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "o.png").convert("RGB")), expected)
    assert main(["quantize", "camera", "-k", "4", "--space", "oklab", "-o", str(tmp_path / "c.png")]) == 2
    assert "--space applies to fitting color palettes" in capsys.readouterr().err


# --------------------------------------------------------------------------- composite (RGBA)


def composite_error(x, y):
    """Squared error of RGBA colors composited on black plus composited on white (float)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    ax, ay = x[:, 3:] / 255.0, y[:, 3:] / 255.0
    black = ((x[:, :3] * ax - y[:, :3] * ay) ** 2).sum(1)
    white = ((x[:, :3] * ax + 255 * (1 - ax) - y[:, :3] * ay - 255 * (1 - ay)) ** 2).sum(1)
    return black + white


def test_composite_distance_is_the_error_on_black_plus_on_white():
    rng = np.random.default_rng(3)
    x, y = (rng.integers(0, 256, (5000, 4)).astype(np.uint8) for _ in range(2))
    px, py = to_space(x, "composite"), to_space(y, "composite")
    assert px.min() >= 0 and px.max() < 255
    np.testing.assert_allclose(((px - py) ** 2).sum(1) / 0.7**2, composite_error(x, y), rtol=1e-9, atol=1e-6)
    back = from_space(px, "composite")
    seen = x[:, 3] > 0
    np.testing.assert_allclose(back[seen], x[seen], atol=1e-6)  # a transparent color has no color to restore
    np.testing.assert_allclose(back[~seen, 3], 0, atol=1e-9)


def test_composite_fit_maps_by_composite_error(astronaut):
    rgba = np.dstack([astronaut[::4, ::4], np.tile(np.linspace(30, 255, 128).astype(np.uint8), (128, 1))])
    cb = vqimage.fit(rgba, 16, mode="color", space="composite")
    assert cb.space == "composite" and cb.levels.shape == (16, 4)
    codes = vqimage.encode(rgba, cb)
    points = to_space(rgba.reshape(-1, 4), "composite")
    np.testing.assert_array_equal(codes.reshape(-1), brute_nearest(points, to_space(cb.levels, "composite")))
    plain = vqimage.fit(rgba, 16, mode="color")

    def total(book):
        return composite_error(rgba.reshape(-1, 4), vqimage.decode(vqimage.encode(rgba, book), book).reshape(-1, 4)).sum()

    assert total(cb) < 0.68 * total(plain)  # the fit lowers the error it minimises (measured 0.669)
    result = vqimage.quantize(rgba, 16)  # the default for RGBA
    assert result.codebook.space == "composite" and result.dither == "adaptive"
    with pytest.raises(ValueError, match="'composite', which applies to RGBA colors only, not to RGB data"):
        vqimage.fit(astronaut, 4, mode="color", space="composite")
    with pytest.raises(ValueError, match="space='composite' is for RGBA color codebooks"):
        Codebook([[0.0, 0, 0]], strategy="palette", reconstruction="palette", dtype=np.uint8, space="composite")
