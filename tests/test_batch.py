"""Batch runs: several inputs, directories and globs; bad files are reported, good ones finished."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import vqimage
from vqimage.batch import expand_inputs, is_batch
from vqimage.cli import main


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def folder(tmp_path, camera):
    source = tmp_path / "in"
    source.mkdir()
    for i, crop in enumerate([camera[:64, :96], camera[100:180, 50:150], camera[200:232, :]]):
        Image.fromarray(crop).save(source / f"img{i}.png")
    (source / "notes.txt").write_text("not an image, and not an image extension")
    return source


def test_expand_inputs(folder):
    files = [str(folder / f"img{i}.png") for i in range(3)]
    assert expand_inputs([str(folder)]) == files
    assert expand_inputs([str(folder / "img[02].png")]) == [files[0], files[2]]
    assert expand_inputs([files[1], str(folder)]) == [files[1], files[0], files[2]]  # each once, first place
    assert is_batch([str(folder)]) and is_batch(files[:2]) and not is_batch([files[0]]) and not is_batch(["camera"])
    with pytest.raises(FileNotFoundError, match="no file matches this pattern"):
        expand_inputs([str(folder / "*.tif")])
    (folder.parent / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no image files"):
        expand_inputs([str(folder.parent / "empty")])


def test_a_corrupt_file_is_reported_and_the_others_finished(folder, tmp_path, capsys):
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    out_dir = tmp_path / "out"
    code, out, err = run(["compress", folder, "-k", 4, "-o", out_dir, "--json"], capsys)
    assert code == 1
    assert sorted(p.name for p in out_dir.iterdir()) == ["img0.vq", "img1.vq", "img2.vq"]
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 4
    failed = [r for r in records if r.get("error")]
    assert len(failed) == 1 and failed[0]["input"].endswith("broken.png")
    assert failed[0]["error"].endswith("broken.png: not a readable image (a damaged PNG signature).")
    assert "failed: " in err and "broken.png" in err and "Traceback" not in err
    for record in records:
        if not record.get("error"):
            assert {"n_levels", "strategy", "psnr", "ssim", "max_error", "bytes"} <= record.keys()
            image = vqimage.load_image(record["input"])
            restored = vqimage.decompress_image(Path(record["output"]).read_bytes())
            cb = vqimage.fit(image, 4)
            np.testing.assert_array_equal(restored, vqimage.decode(vqimage.encode(image, cb), cb))


def test_outputs_are_the_same_with_one_or_two_workers(folder, tmp_path, capsys):
    for workers in (1, 2):
        assert run(["quantize", folder, "-k", 8, "-o", tmp_path / f"w{workers}", "-j", workers, "-q"], capsys)[0] == 0
    for name in ("img0.png", "img1.png", "img2.png"):
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes()
        # ... and what they hold: each pixel at the level of its bin (thresholds searched by numpy).
        image = vqimage.load_image(folder / name)
        cb = vqimage.fit(image, 8)
        expected = cb.levels_as(np.uint8)[np.searchsorted(cb.thresholds, image, side="right")]
        np.testing.assert_array_equal(vqimage.load_image(tmp_path / "w1" / name), expected)


def test_existing_outputs_fail_alone_and_force_rewrites(folder, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert run(["quantize", folder, "-k", 4, "-o", out_dir, "-q"], capsys)[0] == 0
    (out_dir / "img1.png").unlink()
    code, _, err = run(["quantize", folder, "-k", 4, "-o", out_dir], capsys)
    assert code == 1 and err.count("exists; use --force") == 2 and (out_dir / "img1.png").exists()
    names = ["img0.png", "img1.png", "img2.png"]
    before = {name: (out_dir / name).read_bytes() for name in names}
    assert run(["quantize", folder, "-k", 4, "-o", out_dir, "-q"], capsys)[0] == 1
    assert {name: (out_dir / name).read_bytes() for name in names} == before  # nothing replaced without --force
    # --force with 8 levels: every output rewritten with the new content.
    assert run(["quantize", folder, "-k", 8, "-o", out_dir, "--force", "-q"], capsys)[0] == 0
    assert sorted(p.name for p in out_dir.iterdir()) == names
    for name in names:
        image = vqimage.load_image(folder / name)
        written = vqimage.load_image(out_dir / name)
        assert len(np.unique(written)) == 8 and (out_dir / name).read_bytes() != before[name]
        np.testing.assert_array_equal(written, vqimage.quantize(image, 8).reconstruction)


def test_shared_codebook_is_fitted_on_all_inputs(folder, tmp_path, capsys):
    code, out, _ = run(["compress", folder, "-k", 6, "--shared-codebook", "-o", tmp_path / "s", "--json"], capsys)
    assert code == 0
    images = [vqimage.load_image(str(folder / f"img{i}.png")) for i in range(3)]
    shared = vqimage.fit(sum(vqimage.histogram(im) for im in images), 6)
    for i, image in enumerate(images):
        codes, codebook = vqimage.decompress((tmp_path / "s" / f"img{i}.vq").read_bytes())
        assert codebook == shared
        np.testing.assert_array_equal(codes, vqimage.encode(image, shared))


def test_batch_usage_errors(folder, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, _, err = run(["quantize", folder, "-k", 4, "-o", tmp_path / "file"], capsys)
    assert code == 2 and "is a file" in err
    other = tmp_path / "other"
    other.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(other / "img0.png")
    code, _, err = run(["quantize", folder, other, "-k", 4, "-o", tmp_path / "o"], capsys)
    assert code == 2 and "the same output name: img0" in err
    code, _, err = run(["quantize", folder, "-k", 4, "-o", tmp_path / "o", "--ext", ".bmp"], capsys)
    assert code == 2 and "Cannot tell the output format from --ext '.bmp'" in err
    code, _, err = run(["quantize", folder, "-k", 4, "--shared-codebook", "--target-psnr", 30, "-o", tmp_path / "o"],
                       capsys)
    assert code == 2 and "does not take targets" in err
