"""Shared codebooks over real-world collections: unreadable files, mixed gray and color inputs."""

import numpy as np
import pytest
from PIL import Image

import vqimage
from vqimage import FitWarning
from vqimage.batch import quantize_files, shared_codebook
from vqimage.cli import main


@pytest.fixture
def mixed(tmp_path, camera, astronaut):
    source = tmp_path / "in"
    source.mkdir()
    Image.fromarray(camera[:64, :80]).save(source / "a_gray.png")
    Image.fromarray(astronaut[:48, :64]).save(source / "b_color.png")
    Image.fromarray(astronaut[200:240, 100:160]).save(source / "c_color.png")
    (source / "d_empty.png").write_bytes(b"")
    return source


def test_gray_inputs_join_a_color_palette_and_lose_nothing(mixed, tmp_path, camera, astronaut, capsys):
    """The documented rule: with color among the inputs, gray ones are quantized in color, with one note."""
    code = main(["quantize", str(mixed), "--shared-codebook", "-k", "8", "-d", "none", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1  # the empty file failed; the others were all written
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_gray.png", "b_color.png", "c_color.png"]
    assert "note: 1 of 3 inputs are gray and the others color" in err and "a_gray.png" in err
    assert "failed: " in err and "d_empty.png: empty file, not an image." in err
    # The palette is the one fitted on the three images' colors, the gray one's replicated to RGB.
    gray_rgb = np.repeat(camera[:64, :80, None], 3, axis=-1)
    pixels = np.concatenate([gray_rgb.reshape(-1, 3), astronaut[:48, :64].reshape(-1, 3),
                             astronaut[200:240, 100:160].reshape(-1, 3)])[None]
    expected = vqimage.fit(pixels, 8, mode="color", space="oklab")  # quantize()'s default for RGB
    for name, image in [("a_gray.png", gray_rgb), ("b_color.png", astronaut[:48, :64])]:
        with Image.open(tmp_path / "out" / name) as written:
            assert written.mode == "P" and len(written.getpalette()) // 3 == 8
            rgb = np.asarray(written.convert("RGB"))
        np.testing.assert_array_equal(rgb, vqimage.decode(vqimage.encode(image, expected), expected))


def test_shared_codebook_api_warns_once_for_mixed_inputs(mixed):
    files = sorted(str(p) for p in mixed.iterdir() if p.stat().st_size)
    with pytest.warns(FitWarning, match=r"1 of 3 inputs are gray .* quantized in color \(.*a_gray.png\)"):
        codebook = shared_codebook(files, 8)
    assert codebook.mode == "color" and codebook.n_levels == 8
    notes = []
    assert shared_codebook(files, 8, on_note=notes.append) == codebook and len(notes) == 1


def test_explicit_gray_mode_keeps_every_input_gray(mixed, camera):
    files = sorted(str(p) for p in mixed.iterdir() if p.stat().st_size)
    codebook = shared_codebook(files, 4, mode="gray")
    assert codebook.mode == "gray" and codebook.n_levels == 4


def test_a_collection_nothing_of_which_can_be_read_still_gets_its_summary(tmp_path, capsys):
    source = tmp_path / "bad"
    source.mkdir()
    (source / "x.png").write_bytes(b"")
    (source / "y.png").write_bytes(b"not a png at all")
    code = main(["quantize", str(source), "--shared-codebook", "-k", "8", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and not (tmp_path / "out").exists()
    assert "vqimage batch" in err
    assert f"failed: {source / 'x.png'}: empty file, not an image." in err
    assert f"failed: {source / 'y.png'}: not a readable image (unknown format)." in err
    records = quantize_files([source], tmp_path / "out", 8, shared=True)
    assert [r["error"] for r in records] == [f"{source / 'x.png'}: empty file, not an image.",
                                             f"{source / 'y.png'}: not a readable image (unknown format)."]


def test_a_wrong_fitting_parameter_is_still_an_error_not_a_record(mixed, tmp_path):
    with pytest.raises(ValueError, match="'strategy' parameter"):
        quantize_files([mixed / "b_color.png", mixed / "d_empty.png"], tmp_path / "out", 8, shared=True,
                       strategy="nonsense")


def test_every_failure_is_one_line_however_long(tmp_path, capsys):
    source = tmp_path / ("a-long-directory-name-" * 6)
    source.mkdir()
    (source / ("broken-" * 10 + ".png")).write_bytes(b"not an image")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(source / "fine.png")
    assert main(["quantize", str(source), "-k", "2", "-o", str(tmp_path / "out")]) == 1
    failed = [line for line in capsys.readouterr().err.splitlines() if line.startswith("failed: ")]
    assert failed == [f"failed: {source / ('broken-' * 10 + '.png')}: not a readable image (unknown format)."]


def test_rgb_inputs_join_an_rgba_palette_as_opaque(tmp_path, astronaut):
    source = tmp_path / "in"
    source.mkdir()
    rgba = np.dstack([astronaut[:32, :32], np.full((32, 32), 255, np.uint8)])
    rgba[:8, :8, 3] = 0
    Image.fromarray(rgba).save(source / "a_rgba.png")
    Image.fromarray(astronaut[100:140, 100:150]).save(source / "b_rgb.png")
    Image.fromarray(np.dstack([astronaut[300:316, :16], np.full((16, 16), 255, np.uint8)])).save(source / "c_opaque.png")
    notes = []
    codebook = shared_codebook(sorted(str(p) for p in source.iterdir()), 8, on_note=notes.append)
    assert notes == [f"2 of 3 inputs have no alpha and the others do: they count as opaque in the shared RGBA "
                     f"palette ({source / 'b_rgb.png'}, {source / 'c_opaque.png'})."]
    opaque = np.full((40, 50, 1), 255, np.uint8)
    pixels = np.concatenate([rgba.reshape(-1, 4), np.concatenate([astronaut[100:140, 100:150], opaque], -1)
                             .reshape(-1, 4), np.dstack([astronaut[300:316, :16], opaque[:16, :16]]).reshape(-1, 4)])
    assert codebook == vqimage.fit(pixels[None], 8, mode="color", space="composite")
    assert codebook.space == "composite" and codebook.levels.shape == (8, 4)


def test_shared_palettes_take_space(mixed, tmp_path):
    files = [str(mixed / "b_color.png"), str(mixed / "c_color.png")]
    assert shared_codebook(files, 8).space == "oklab"
    assert shared_codebook(files, 8, space="rgb").space == "rgb"
    records = quantize_files(files, tmp_path / "out", 8, shared=True, space="rgb", dither="none")
    assert [r["error"] for r in records] == [None, None]
