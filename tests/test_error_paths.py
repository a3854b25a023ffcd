"""Error paths that the rest of the suite left unmeasured (`make coverage`): each by its message.

Grouped by module, in the pipeline's order. Where a path is wrong today (a message that does not
name what it should, a check that cannot fire) the test says what it should be and is a strict xfail.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import vqimage
from vqimage._validation import ConflictError, Interval, VQError, check_param
from vqimage.batch import expand_inputs, shared_codebook
from vqimage.pack import bits, container, entropy, formats
from vqimage.solvers.scalar import max_error_codebook


def exactly(message: str) -> str:
    return f"^{re.escape(message)}$"


# --------------------------------------------------------------------------- _validation


def test_an_unhashable_option_is_refused_with_the_template():
    image = np.arange(16, dtype=np.uint8).reshape(4, 4)
    with pytest.raises(ValueError, match=exactly("The 'strategy' parameter of fit must be one of {'kmeans', "
                                                 "'optimal', 'quantile', 'uniform'}. Got ['optimal'] instead.")):
        vqimage.fit(image, 4, strategy=["optimal"])


def test_an_interval_bounded_above_only_says_so():
    with pytest.raises(TypeError, match=exactly("The 'k' parameter of f must be an int <= 5. Got 2.5 instead.")):
        check_param("k", 2.5, Interval(int, None, 5), caller="f")
    with pytest.raises(ValueError, match=exactly("The 'k' parameter of f must be a finite float <= 1. Got 3 instead.")):
        check_param("k", 3, Interval(float, None, 1), caller="f")
    assert check_param("k", -7, Interval(int, None, 5), caller="f") == -7


# --------------------------------------------------------------------------- io


def test_an_image_of_five_channels_is_not_readable(tmp_path):
    import tifffile

    path = tmp_path / "five.tif"
    tifffile.imwrite(path, np.zeros((4, 4, 5), np.uint8), photometric="minisblack", planarconfig="contig")
    with pytest.raises(VQError, match=exactly(f"{path}: not a readable image (pixels of shape (4, 4, 5); vqimage "
                                              "reads gray, gray+alpha, RGB and RGBA images).")):
        vqimage.load_image(path, gray=False)


def test_write_atomic_refuses_a_directory_even_with_force(tmp_path):
    from vqimage.io import write_atomic

    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError, match=exactly(f"{tmp_path / 'd'} is a directory.")):
        write_atomic(tmp_path / "d", b"data", force=True)
    assert list((tmp_path / "d").iterdir()) == []


def test_write_atomic_names_the_path_not_the_temporary_file(tmp_path, monkeypatch):
    import errno
    import os

    from vqimage.io import write_atomic

    target = tmp_path / "missing-dir" / "out.png"
    with pytest.raises(OSError, match=re.escape(f"cannot write {target}: No such file or directory")) as caught:
        write_atomic(target, b"data")
    assert caught.value.errno == errno.ENOENT

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match=re.escape(f"cannot write {tmp_path / 'out.png'}: No space left on device")):
        write_atomic(tmp_path / "out.png", b"data")
    assert list(tmp_path.iterdir()) == []  # neither the output nor the temporary file


def test_write_atomic_without_hard_links_checks_then_renames(tmp_path, monkeypatch):
    import errno
    import os

    from vqimage.io import write_atomic

    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")  # FAT, some network file systems

    monkeypatch.setattr(os, "link", no_links)
    assert write_atomic(tmp_path / "a.png", b"data") == tmp_path / "a.png"
    assert (tmp_path / "a.png").read_bytes() == b"data" and sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]

    def created_meanwhile(src, dst):
        Path(dst).write_bytes(b"theirs")  # another process, between the check and the rename
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", created_meanwhile)
    with pytest.raises(FileExistsError, match=exactly(f"{tmp_path / 'b.png'} exists (created meanwhile); use --force "
                                                      "(force=True) to overwrite it.")):
        write_atomic(tmp_path / "b.png", b"ours")
    assert (tmp_path / "b.png").read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]


# --------------------------------------------------------------------------- histogram


def test_histograms_add_only_histograms():
    gray = vqimage.histogram(np.arange(4, dtype=np.uint8))
    with pytest.raises(TypeError, match=exactly("unsupported operand type(s) for +: 'Histogram' and 'str'")):
        gray + "x"
    colors = vqimage.vector_histogram(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(TypeError, match=exactly("unsupported operand type(s) for +: 'VectorHistogram' and 'str'")):
        colors + "x"
    assert (gray + 0) is gray and sum([gray, gray]).counts.tolist() == [2, 2, 2, 2]


def test_a_constant_float_image_is_one_bin():
    hist = vqimage.histogram(np.full((3, 3), 2.5), bins=4)
    assert hist.values.tolist() == [2.5] and hist.counts.tolist() == [9] and hist.total == 9


# --------------------------------------------------------------------------- solvers


def test_max_error_codebook_needs_exact_values():
    binned = vqimage.histogram(np.linspace(0, 1, 64), bins=16)
    with pytest.raises(ValueError, match=exactly("The 'image' parameter of max_error_codebook must be an image or an "
                                                 "exact histogram, not a binned one.")):
        max_error_codebook(binned, 0.1)


CROSS = np.array([[[10, 10, 9], [10, 9, 10], [10, 10, 11], [10, 11, 10]]], np.uint8)


def test_color_levels_that_round_to_the_same_color_are_merged_with_a_warning():
    # The best two centers, (10, 9.5, 9.5) and (10, 10.5, 10.5), both round half-to-even to (10, 10, 10).
    with pytest.warns(vqimage.FitWarning, match=exactly("1 learned level(s) coincided with others after rounding to "
                                                        "integers; the codebook has 1 levels.")):
        cb = vqimage.fit(CROSS, 2, mode="color", init="k-means++")
    assert cb.levels.tolist() == [[10.0, 10.0, 10.0]]


@pytest.mark.parametrize("strategy", ["wu", "kmeans"])
def test_fewer_colors_than_asked_are_never_silent(strategy):
    import warnings

    dark = np.random.default_rng(0).integers(0, 16, (64, 64, 3), dtype=np.uint8)  # 2,614 distinct colors
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cb = vqimage.fit(dark, 256, mode="color", strategy=strategy)
    warned = [w for w in caught if issubclass(w.category, vqimage.FitWarning)]
    assert cb.n_levels == 256 or warned, f"{cb.n_levels} levels and no FitWarning"


# --------------------------------------------------------------------------- mapping


def test_dithering_rgb_with_an_rgba_palette_takes_the_pixels_as_opaque():
    palette = vqimage.palette_codebook(np.array([[0, 0, 0, 255], [255, 255, 255, 255], [255, 0, 0, 0]], np.uint8))
    rgb = np.random.default_rng(1).integers(0, 256, (6, 6, 3), dtype=np.uint8)
    opaque = np.concatenate([rgb, np.full((6, 6, 1), 255, np.uint8)], axis=-1)
    codes = vqimage.encode(rgb, palette, dither="floyd-steinberg")
    np.testing.assert_array_equal(codes, vqimage.encode(opaque, palette, dither="floyd-steinberg"))
    assert set(np.unique(codes).tolist()) == {0, 1}  # never the transparent entry


# --------------------------------------------------------------------------- pack: bits (9- to 16-bit codes)


def test_sixteen_bit_codes_are_big_endian_and_checked_against_n_levels():
    assert bits.pack(np.array([0xABCD, 1]), 65536).hex() == "abcd0001"
    codes = bits.unpack(bytes.fromhex("abcd0001"), 65536, (2,))
    assert codes.dtype == np.uint16 and codes.tolist() == [0xABCD, 1]
    with pytest.raises(VQError, match=exactly("Packed data holds code 65535 >= n_levels=40000.")):
        bits.unpack(bytes.fromhex("ffff0001"), 40000, (2,))  # 16 bits, but only 40,000 levels
    with pytest.raises(VQError, match=exactly("Packed data has 3 bytes; 2 codes of 16 bits need exactly 4.")):
        bits.unpack(bytes.fromhex("ffff00"), 40000, (2,))


def test_nine_and_twelve_bit_codes_pack_msb_first():
    assert bits.pack(np.array([256, 1]), 257).hex() == "800040"  # 1 0000 0000, 0 0000 0001, 6 padding bits
    assert bits.unpack(bytes.fromhex("800040"), 257, (2,)).tolist() == [256, 1]
    assert bits.pack(np.array([0xABC, 0x123]), 4096).hex() == "abc123"
    assert bits.unpack(bytes.fromhex("abc123"), 4096, (1, 2)).tolist() == [[0xABC, 0x123]]
    with pytest.raises(VQError, match=exactly("Packed data has non-zero padding bits after the last code.")):
        bits.unpack(bytes.fromhex("abcf"), 4096, (1,))
    with pytest.raises(VQError, match=exactly("Packed data holds code 4095 >= n_levels=3000.")):
        bits.unpack(bytes.fromhex("fff0"), 3000, (1,))


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ("ab", "The 'shape' parameter of unpack must be a tuple of ints. Got 'ab'."),
        (None, "The 'shape' parameter of unpack must be a tuple of ints. Got None."),
        ((2, None), "The 'shape' parameter of unpack must be a tuple of ints. Got (2, None)."),
        ((-1, 2), "The 'shape' parameter of unpack must be non-negative. Got (-1, 2)."),
    ],
)
def test_unpack_names_a_bad_shape(shape, message):
    with pytest.raises(ValueError, match=exactly(message)):
        bits.unpack(b"", 4, shape)


def test_eight_bit_rows_are_cropped_not_unpacked():
    rows = np.array([[1, 2, 3], [4, 5, 6]], np.uint8)
    out = bits.unpack_rows(rows, 2, 8)
    assert out.tolist() == [[1, 2], [4, 5]] and not np.shares_memory(out, rows)


# --------------------------------------------------------------------------- pack: container, entropy, formats


@pytest.fixture(scope="module")
def gray4():
    return vqimage.fit(np.arange(16, dtype=np.uint8), 4)


@pytest.mark.parametrize(
    ("codes", "shape"),
    [(np.zeros((0,), np.uint8), "(0,)"), (np.zeros((3, 0), np.uint8), "(3, 0)"),
     (np.zeros((1,) * 33, np.uint8), str((1,) * 33))],
)
def test_write_vq_refuses_empty_or_too_many_dimensions(gray4, codes, shape):
    with pytest.raises(ValueError, match=exactly(f"A .vq file holds a non-empty array of 1 to 32 dimensions; "
                                                 f"got shape {shape}.")):
        container.write_vq(codes, gray4)


def test_write_vq_refuses_a_scalar(gray4):
    with pytest.raises(ValueError, match=re.escape("got shape ().")):
        container.write_vq(np.uint8(0), gray4)


@pytest.mark.parametrize(
    ("out", "got"),
    [(np.zeros((2, 3), np.uint16), "uint16 of shape (2, 3)"), (np.zeros((3, 2), np.uint8), "uint8 of shape (3, 2)"),
     (np.zeros((3, 2), np.uint8).T, "uint8 of shape (2, 3)")],  # the last: Fortran order
)
def test_decode_codes_checks_out(out, got):
    data = entropy.encode_codes(np.zeros((2, 3), np.uint8), 4)
    with pytest.raises(ValueError, match=exactly("The 'out' parameter of decode_codes must be a C-contiguous uint8 "
                                                 f"array of shape (2, 3). Got {got}.")):
        entropy.decode_codes(data, 4, (2, 3), out=out)


def test_decode_codes_fills_a_given_out():
    codes = np.array([[0, 1, 2], [3, 3, 0]], np.uint8)
    out = np.full((2, 3), 9, np.uint8)
    assert entropy.decode_codes(entropy.encode_codes(codes, 4), 4, (2, 3), out=out) is out
    np.testing.assert_array_equal(out, codes)


def test_palette_formats_refuse_16_bit_codebooks():
    image = (np.arange(64, dtype=np.uint16) * 1000).reshape(8, 8)
    cb = vqimage.fit(image, 4)
    with pytest.raises(ValueError, match=exactly("GIF holds 8-bit colors; this codebook was fitted on uint16.")):
        formats.export_bytes("gif", vqimage.encode(image, cb), cb)


def test_jpeg_xl_refuses_float_codebooks():
    image = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    cb = vqimage.fit(image, 4)
    with pytest.raises(ValueError, match=exactly("JPEG XL export takes 8- or 16-bit unsigned images; this codebook "
                                                 "was fitted on float32. Write .tif or .npy instead.")):
        formats.export_bytes("jxl", vqimage.encode(image, cb), cb)


def test_unknown_formats_are_named_with_the_known_ones(gray4):
    known = "vq, png, gif, raw, webp, jxl, tiff, npy"
    assert ", ".join(formats.FORMATS) == known
    with pytest.raises(ValueError, match=exactly(f"Unknown output format 'bogus'; known: {known}.")):
        formats.format_of("x.png", "bogus")
    with pytest.raises(ValueError, match=exactly(f"Unknown export format 'bogus'; known: {known}.")):
        formats.export_bytes("bogus", np.zeros((2, 2), np.uint8), gray4)


# --------------------------------------------------------------------------- pipeline


@pytest.fixture(scope="module")
def small():
    return np.arange(64, dtype=np.uint8).reshape(8, 8) * 4


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"n_levels": 4, "palette": "bw"}, ConflictError,
         "'palette' maps to given colors; it does not take 'n_levels' or 'lock'."),
        ({"n_levels": 4, "strategy": "auto"}, ConflictError,
         ("'strategy' auto needs a target ('target_psnr', 'target_ssim', 'max_error', 'max_bytes', "
          "'target_ssimulacra2') to choose by.")),
        ({"n_levels": 4, "mode": "block", "strategy": "optimal"}, ConflictError,
         "'strategy' optimal applies to gray mode; color and block take kmeans or wu."),
        ({"palette": "bw", "mode": "block"}, ConflictError,
         "'palette' applies to gray and color modes, not to blocks."),
        ({"n_levels": 4, "importance": np.full((8, 8), "a")}, TypeError,
         "The 'importance' map must hold numbers. Got dtype <U1 instead."),
        ({"n_levels": 4, "importance": np.ones((4, 4))}, ValueError,
         "The 'importance' map must have the image's shape (8, 8). Got (4, 4) instead."),
        ({"n_levels": 4, "importance": -np.ones((8, 8))}, ValueError,
         "The 'importance' map must hold finite weights >= 0. Got a minimum of -1."),
        ({"n_levels": 4, "mode": "block", "importance": np.ones((8, 8))}, ConflictError,
         "'importance' applies to gray and color modes."),
        ({"n_levels": 4, "mode": "block", "lock": "#ff0000"}, ConflictError, "'lock' applies to color mode."),
    ],
)
def test_quantize_refuses_what_does_not_go_together(small, options, error, message):
    with pytest.raises(error, match=exactly(message)):
        vqimage.quantize(small, **options)


def test_compress_takes_a_codebook_or_fit_options(small):
    cb = vqimage.fit(small, 4)
    with pytest.raises(TypeError, match=exactly("compress needs n_levels (or a codebook).")):
        vqimage.compress(small)
    with pytest.raises(TypeError, match=exactly("compress takes either a codebook or n_levels and fit options, "
                                                "not both.")):
        vqimage.compress(small, 4, codebook=cb)
    with pytest.raises(TypeError, match=exactly("compress takes either a codebook or n_levels and fit options, "
                                                "not both.")):
        vqimage.compress(small, codebook=cb, strategy="uniform")
    with pytest.raises(TypeError, match=exactly("The 'codebook' parameter of compress must be a Codebook. Got dict.")):
        vqimage.compress(small, codebook=cb.to_config())
    codes, again = vqimage.decompress(vqimage.compress(small, codebook=cb))
    assert again == cb and codes.tolist() == vqimage.encode(small, cb).tolist()


def test_locked_colors_follow_the_images_channels():
    rgb = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    with pytest.raises(ConflictError, match=exactly("'lock' has transparent colors; the image has no alpha channel.")):
        vqimage.quantize(rgb, 4, lock="#ff000080")
    opaque = vqimage.quantize(rgb, 4, lock="#ff0000ff").codebook  # an opaque RGBA lock: its RGB is kept
    assert opaque.n_components == 3 and opaque.levels[0].tolist() == [255.0, 0.0, 0.0]
    rgba = np.concatenate([rgb, np.full((8, 8, 1), 128, np.uint8)], axis=-1)
    widened = vqimage.quantize(rgba, 4, lock="#ff0000").codebook  # an RGB lock on RGBA: made opaque
    assert widened.n_components == 4 and widened.levels[0].tolist() == [255.0, 0.0, 0.0, 255.0]


def test_quantize_names_an_unknown_max_levels():
    image = (np.arange(600, dtype=np.uint16) * 97).reshape(20, 30)
    with pytest.raises(TypeError, match=r"quantize\(\) got an unexpected keyword argument 'max_levels'"):
        vqimage.quantize(image, target_psnr=70.0, max_levels=600)


# --------------------------------------------------------------------------- palettes


def test_a_sixteen_bit_image_is_not_a_palette(tmp_path):
    import tifffile

    path = tmp_path / "s16.tif"
    tifffile.imwrite(path, np.zeros((4, 4), np.uint16))
    with pytest.raises(VQError, match=exactly(f"{path}: a uint16 image; palettes hold 8-bit colors (uint8).")):
        vqimage.load_palette(path)


def test_gray_and_alpha_images_give_rgba_palettes(tmp_path):
    la = np.zeros((2, 2, 2), np.uint8)
    la[0, 0], la[1, 1] = (10, 255), (200, 0)
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    assert vqimage.load_palette(tmp_path / "la.png").tolist() == [[10, 10, 10, 255], [0, 0, 0, 0], [200, 200, 200, 0]]


# --------------------------------------------------------------------------- targets


@pytest.fixture(scope="module")
def wide():
    """600 distinct 16-bit values, one pixel each."""
    return (np.arange(600, dtype=np.uint16) * 97).reshape(20, 30)


def test_search_needs_a_target_and_max_bytes_needs_a_format(wide):
    from vqimage.targets import search

    with pytest.raises(ValueError, match=exactly("quantize needs a target: target_psnr, target_ssim, max_error, "
                                                 "max_bytes or target_ssimulacra2.")):
        search(wide)
    with pytest.raises(ValueError, match=exactly("The 'max_bytes' parameter of quantize needs an output format "
                                                 "(fmt=).")):
        search(wide, max_bytes=100, fmt=None)


def test_max_error_beyond_the_allowed_levels_is_a_target_error(wide):
    with pytest.raises(vqimage.TargetError, match=exactly("max_error=0 needs 600 levels, more than the 4 allowed.")):
        vqimage.quantize(wide, 4, max_error=0)
    assert vqimage.quantize(wide, 600, max_error=0).codebook.n_levels == 600


def test_max_error_with_another_strategy_is_the_first_count_that_meets_it(camera):
    def worst(k):
        cb = vqimage.fit(camera, k, strategy="uniform")
        return np.abs(vqimage.decode(vqimage.encode(camera, cb), cb).astype(int) - camera).max()

    first = next(k for k in range(2, 257) if worst(k) <= 6)  # uniform's max error, counted in numpy
    found = vqimage.quantize(camera, max_error=6, strategy="uniform")
    assert found.codebook.n_levels == first == 26 and worst(first - 1) > 6
    assert int(np.abs(found.reconstruction.astype(int) - camera).max()) <= 6


def test_max_bytes_that_every_count_fits_takes_them_all():
    image = np.repeat(np.array([0, 40, 90, 160, 250], np.uint8), 4).reshape(4, 5)
    found = vqimage.quantize(image, max_bytes=10**6, fmt="npy")
    assert found.codebook.n_levels == 5 and found.codebook.levels.tolist() == [0, 40, 90, 160, 250]


def test_weighted_targets_count_the_distinct_values_of_the_image(wide):
    from vqimage.targets import search

    plain = search(wide, target_psnr=70.0, max_levels=600)
    weighted = search(wide, target_psnr=70.0, max_levels=600, weights=np.ones(wide.shape))
    assert weighted.n_levels == plain.n_levels > 257  # a bisection (test_targets_bisection checks its answer)
    np.testing.assert_array_equal(weighted.codebook.levels, plain.codebook.levels)


# --------------------------------------------------------------------------- batch


def test_several_inputs_cannot_include_stdin():
    with pytest.raises(ValueError, match=exactly("Several inputs cannot include stdin ('-').")):
        expand_inputs(["camera", "-"])


@pytest.fixture()
def readable_and_not(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "ok.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    return str(tmp_path / "ok.png"), str(tmp_path / "bad.png"), str(tmp_path / "missing.png")


def test_shared_codebook_without_on_failure_raises_the_first_failure(readable_and_not):
    ok, bad, _ = readable_and_not
    with pytest.raises(ValueError, match=re.escape(f"{bad}: not a readable image (unknown format).") + "$"):
        shared_codebook([ok, bad], 2)


def test_shared_codebook_names_the_failing_file_once(readable_and_not):
    ok, bad, _ = readable_and_not
    with pytest.raises(ValueError, match=exactly(f"{bad}: not a readable image (unknown format).")):
        shared_codebook([ok, bad], 2)


def test_shared_codebook_of_nothing_readable(readable_and_not):
    _, bad, missing = readable_and_not
    failures = []
    with pytest.raises(ValueError, match=exactly("No input could be read for the shared codebook.")):
        shared_codebook([bad, missing], 2, on_failure=lambda path, why: failures.append((path, why)))
    assert failures == [(bad, f"{bad}: not a readable image (unknown format)."), (missing, f"{missing}: no such file.")]


def test_a_shared_codebook_rounds_16_bit_color_as_quantize_does(tmp_path):
    import tifffile

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 65536, (8, 8, 3), dtype=np.uint16) for _ in range(2)]
    paths = [tmp_path / f"{i}.tif" for i in range(2)]
    for path, image in zip(paths, images):
        tifffile.imwrite(path, image, photometric="rgb")
    # round(v / 257) in numpy: v / 257 is never exactly k + 0.5 (257 is odd), so rint has no ties to break
    rounded = sum(vqimage.vector_histogram(np.rint(image / 257).astype(np.uint8)) for image in images)
    assert shared_codebook(paths, 4) == vqimage.fit(rounded, 4, mode="color", space="oklab")


def test_a_shared_palette_keeps_locked_colors(tmp_path):
    from vqimage.batch import quantize_files

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    Image.fromarray(rgb[::-1]).save(tmp_path / "d.png")
    records = quantize_files([tmp_path / "c.png", tmp_path / "d.png"], tmp_path / "out", 4, shared=True,
                             lock="#ff0000")
    assert [r["error"] for r in records] == [None, None]
    assert records[0]["levels"] == records[1]["levels"] and records[0]["levels"][0] == [255.0, 0.0, 0.0]
    expected = shared_codebook([tmp_path / "c.png", tmp_path / "d.png"], 4, fixed=np.array([[255, 0, 0]]))
    assert records[0]["levels"] == expected.levels.tolist()
    with Image.open(tmp_path / "out" / "c.png") as written:
        assert written.mode == "P" and written.getpalette()[:3] == [255, 0, 0]


def test_verbose_failure_lines_name_the_input_once(readable_and_not, tmp_path, capsys):
    from vqimage.cli import main

    ok, _, missing = readable_and_not
    assert main(["quantize", ok, missing, "-k", "2", "-v", "-o", str(tmp_path / "out")]) == 1
    assert f"{missing}: {missing}" not in capsys.readouterr().err


# --------------------------------------------------------------------------- distributed


def test_distributed_errors(tmp_path):
    zarr = pytest.importorskip("zarr")
    from vqimage import distributed

    group = zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    group.create_array("a", shape=(4, 4), dtype="u1")
    with pytest.raises(ValueError, match=exactly(f"{tmp_path / 'g.zarr'} is a zarr group; pass the path of one of "
                                                 "its arrays.")):
        distributed.as_dask(tmp_path / "g.zarr")
    with pytest.raises(FileNotFoundError, match=exactly(f"{tmp_path / 'nope.zarr'}: no such file or directory.")):
        distributed.as_dask(tmp_path / "nope.zarr")
    with pytest.raises(TypeError, match=exactly("vqimage.distributed takes int or float arrays. Got dtype bool.")):
        distributed.histogram(np.zeros((4, 4), bool))
    with pytest.raises(ConflictError, match=exactly("Missing 'n_levels' (or give a 'codebook').")):
        distributed.quantize_to_zarr(np.zeros((4, 4), np.uint8), tmp_path / "o.zarr")
    image = np.arange(64, dtype=np.uint8).reshape(8, 8)
    cb = distributed.quantize_to_zarr(image, tmp_path / "q.zarr", 2, scheduler="synchronous")
    with pytest.raises(FileExistsError, match=exactly(f"{tmp_path / 'q.zarr'} exists; use overwrite=True (--force) "
                                                      "to replace it.")):
        distributed.quantize_to_zarr(image, tmp_path / "q.zarr", 2)
    assert cb == vqimage.fit(image, 2)
    assert not (tmp_path / "o.zarr").exists()


def test_distributed_takes_zarr_arrays_and_int_chunks(tmp_path):
    zarr = pytest.importorskip("zarr")
    from vqimage import distributed

    stored = zarr.open_array(str(tmp_path / "z.zarr"), mode="w", shape=(8, 8), chunks=(4, 4), dtype="u1")
    stored[:] = np.arange(64, dtype=np.uint8).reshape(8, 8)
    opened = zarr.open_array(str(tmp_path / "z.zarr"), mode="r")
    assert distributed.as_dask(opened).chunks == ((4, 4), (4, 4))  # the array's own chunks
    assert distributed.as_dask(opened, chunks=2).chunks == ((2, 2, 2, 2), (8,))  # an int: the first axis
    assert distributed.as_dask(np.zeros((8, 6)), chunks=4).chunks == ((4, 4), (6,))
    np.testing.assert_array_equal(distributed.as_dask(opened, chunks=3).compute(), stored[:])


def test_a_staging_folder_left_by_an_interrupted_run_is_replaced(tmp_path):
    pytest.importorskip("zarr")
    from vqimage import distributed

    staging = tmp_path / "q.zarr.partial"
    staging.mkdir()
    (staging / "junk").write_bytes(b"from a run that was killed")
    image = np.arange(64, dtype=np.uint8).reshape(8, 8)
    cb = distributed.quantize_to_zarr(image, tmp_path / "q.zarr", 4, scheduler="synchronous")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.zarr"]
    codes, stored = distributed.read_codes(tmp_path / "q.zarr")
    assert stored == cb == vqimage.fit(image, 4)
    np.testing.assert_array_equal(codes.compute(), vqimage.encode(image, cb))


def test_the_distributed_histogram_shows_dasks_progress_bar(capsys):
    pytest.importorskip("dask")
    from vqimage import distributed

    image = np.arange(64, dtype=np.uint8).reshape(8, 8)
    hist = distributed.histogram(image, chunks=4, progress=True, scheduler="synchronous")
    assert hist.counts.tolist() == vqimage.histogram(image).counts.tolist() == [1] * 64
    assert "100% Completed" in capsys.readouterr().out


def test_distributed_refuses_a_color_array_in_one_line(tmp_path):
    pytest.importorskip("zarr")
    from vqimage import distributed

    with pytest.raises(ValueError, match=r"^Chunked processing fits gray levels; [^\n]{0,80} has 3 channels\.$"):
        distributed.quantize_to_zarr(np.zeros((4, 4, 3), np.uint8), tmp_path / "o.zarr", 2)


# --------------------------------------------------------------------------- report


def test_the_demo_needs_an_integer_image(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    import tifffile

    from vqimage.cli import main

    source, out = tmp_path / "f.tif", tmp_path / "demo"
    tifffile.imwrite(source, np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8))
    assert main(["demo", str(source), "-o", str(out)]) == 1
    assert capsys.readouterr().err.endswith(f"vqimage: error: The demo needs an integer image; {source} is float32.\n")
    assert not out.exists()
