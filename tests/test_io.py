"""Reading images: formats by content, 8/16-bit, gray conversion, built-ins, bad files."""

import io
import os
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
import tifffile
from PIL import Image

import vqimage
from vqimage import VQError
from vqimage.io import BUILTINS, FaceUnavailable, decode_image, load_image, to_gray, write_atomic

RNG = np.random.default_rng(0)
GRAY8 = RNG.integers(0, 256, (20, 30), dtype=np.uint8)
GRAY16 = RNG.integers(0, 65536, (20, 30), dtype=np.uint16)
RGB8 = RNG.integers(0, 256, (20, 30, 3), dtype=np.uint8)
RGB16 = RNG.integers(0, 65536, (20, 30, 3), dtype=np.uint16)


def pillow_bytes(array, fmt, **kwargs):
    out = io.BytesIO()
    Image.fromarray(array).save(out, format=fmt, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (imagecodecs.png_encode(GRAY8), GRAY8),
        (imagecodecs.png_encode(GRAY16), GRAY16),
        (imagecodecs.png_encode(RGB16), to_gray(RGB16)),
        (pillow_bytes(GRAY8, "PPM"), GRAY8),  # PGM
        (pillow_bytes(RGB8, "PPM"), to_gray(RGB8)),
        (pillow_bytes(GRAY8, "BMP"), GRAY8),
    ],
    ids=["png8", "png16", "png16-rgb", "pgm", "ppm", "bmp"],
)
def test_lossless_formats_read_exactly(tmp_path, data, expected):
    path = tmp_path / "image.bin"  # the extension does not matter: content decides
    path.write_bytes(data)
    image = load_image(path)
    assert image.dtype == expected.dtype
    np.testing.assert_array_equal(image, expected)


def test_tiff_any_dtype_and_16_bit_pgm(tmp_path):
    for array in (GRAY16, GRAY16.astype(np.float32) / 7, GRAY16.astype(np.int32) - 30000):
        tifffile.imwrite(tmp_path / "a.tif", array)
        np.testing.assert_array_equal(load_image(tmp_path / "a.tif"), array)
    pgm = b"P5\n30 20\n65535\n" + GRAY16.astype(">u2").tobytes()
    (tmp_path / "a.pgm").write_bytes(pgm)
    loaded = load_image(tmp_path / "a.pgm")
    np.testing.assert_array_equal(loaded.astype(np.uint16), GRAY16)


def test_jpeg_and_color_kept_with_gray_false(tmp_path):
    (tmp_path / "a.jpg").write_bytes(pillow_bytes(RGB8, "JPEG", quality=95))
    color = load_image(tmp_path / "a.jpg", gray=False)
    assert color.shape == (20, 30, 3) and color.dtype == np.uint8
    np.testing.assert_array_equal(load_image(tmp_path / "a.jpg"), to_gray(color))


def test_bt601_luma():
    assert to_gray(np.array([[[255, 255, 255], [0, 0, 255]]], np.uint8)).tolist() == [[255, 29]]
    assert to_gray(np.array([[[65535, 0, 0]]], np.uint16)).tolist() == [[19595]]
    rgba = np.dstack([RGB8, np.zeros((20, 30), np.uint8)])
    np.testing.assert_array_equal(to_gray(rgba), to_gray(RGB8))  # alpha ignored


def test_builtins():
    assert load_image("camera").shape == (512, 512)
    assert load_image("astronaut").shape == (512, 512)
    assert load_image("astronaut", gray=False).shape == (512, 512, 3)
    assert "face" in BUILTINS and "coffee" in BUILTINS


def test_face_is_the_seed_image(face):
    assert face.shape == (768, 1024) and face.dtype == np.uint8
    assert (face.min(), face.max()) == (0, 250)


def test_face_offline_without_cache_fails_cleanly(monkeypatch, tmp_path):
    monkeypatch.setattr(vqimage.io, "face_cache_path", lambda: tmp_path / "missing" / "face.dat")
    with pytest.raises(FaceUnavailable, match="downloads are disabled"):
        load_image("face")


@pytest.mark.parametrize(
    ("source", "error", "match"),
    [
        ("no_such_image", ValueError, r"Unknown image 'no_such_image': not a file, and not a built-in \(built-ins: face"),
        ("missing.png", FileNotFoundError, r"missing.png: no such file"),
    ],
)
def test_bad_sources(source, error, match):
    with pytest.raises(error, match=match):
        load_image(source)


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, b"II*\x00garbage", b"\xff\xd8\xff\xe0trunc"],
    ids=["empty", "text", "png-truncated", "tiff-garbage", "jpeg-truncated"],
)
def test_non_images_raise_vqerror(tmp_path, data):
    path = tmp_path / "bad.png"
    path.write_bytes(data)
    with pytest.raises(VQError, match="bad.png: (empty file|not a readable image)"):
        load_image(path)


def test_directory_is_not_an_image(tmp_path):
    with pytest.raises(VQError, match="not a regular file"):
        load_image(tmp_path)


def test_write_atomic(tmp_path):
    target = tmp_path / "out.bin"
    write_atomic(target, b"one")
    with pytest.raises(FileExistsError, match="exists; use --force"):
        write_atomic(target, b"two")
    assert target.read_bytes() == b"one"
    write_atomic(target, b"two", force=True)
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]  # no temporary left behind


def test_write_atomic_never_replaces_a_dangling_link_or_a_file_created_meanwhile(tmp_path, monkeypatch):
    import os

    link = tmp_path / "link.png"
    link.symlink_to(tmp_path / "missing.png")  # dangling: Path.exists() says False
    with pytest.raises(FileExistsError, match="link.png exists; use --force"):
        write_atomic(link, b"data")
    assert link.is_symlink() and not (tmp_path / "missing.png").exists()
    write_atomic(link, b"data", force=True)  # replaces the link itself, not its target
    assert not link.is_symlink() and link.read_bytes() == b"data"

    target = tmp_path / "race.bin"
    real_lexists = os.path.lexists

    def too_late(name):  # another process creates the file just after the check
        answer = real_lexists(name)
        if Path(name) == target and not answer:
            target.write_bytes(b"theirs")
        return answer

    monkeypatch.setattr(os.path, "lexists", too_late)
    with pytest.raises(FileExistsError, match=r"race.bin exists \(created meanwhile\); use --force"):
        write_atomic(target, b"ours")
    assert target.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.png", "race.bin"]  # no temporary left behind


def test_write_atomic_errors_name_the_path_given(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "out.png"
    with pytest.raises(FileNotFoundError, match=r"cannot write .*no/such/dir/out\.png") as info:
        write_atomic(missing, b"x")
    assert ".tmp" not in str(info.value)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # running as root: permissions do not stop it
            pytest.skip("permissions are not enforced for this user")
        with pytest.raises(PermissionError, match=r"cannot write .*locked/out\.png") as info:
            write_atomic(locked / "out.png", b"x")
        assert ".tmp" not in str(info.value)
    finally:
        locked.chmod(0o700)


def test_decode_image_from_bytes():
    np.testing.assert_array_equal(decode_image(imagecodecs.png_encode(GRAY8)), GRAY8)


def test_write_atomic_leaves_nothing_when_interrupted(tmp_path, monkeypatch):
    import os

    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def fail(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"new", force=True)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR declaring width x height (8-bit gray), then a tiny IDAT and IEND."""
    import struct
    import zlib

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def test_the_pixel_limit_refuses_before_decoding(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(20000, 20000))  # 400 million pixels declared in 70 bytes

    def never(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(imagecodecs, "png_decode", never)
    with pytest.raises(VQError, match=r"bomb.png: 20000x20000 is 400,000,000 pixels, above the limit of "
                                      r"134,217,728 \(max_pixels; --max-pixels\); nothing was decoded"):
        load_image(bomb)
    monkeypatch.undo()
    zeros = imagecodecs.png_encode(np.zeros((3000, 2000), np.uint8))  # a few KB, 6 MP
    with pytest.raises(VQError, match=r"<bytes>: 2000x3000 is 6,000,000 pixels, above the limit of 5,000,000"):
        decode_image(zeros, max_pixels=5_000_000)
    assert decode_image(zeros).shape == (3000, 2000)  # within the default
    pages = io.BytesIO()
    tifffile.imwrite(pages, np.zeros((5, 100, 120), np.uint8))  # five pages of 120x100
    with pytest.raises(VQError, match=r"120x100 \+ 120x100 \+ 120x100 \+ 2 more pages is 60,000 pixels, above "
                                      r"the limit of 50,000"):
        decode_image(pages.getvalue(), max_pixels=50_000)
    bmp = io.BytesIO()
    Image.new("RGB", (300, 200)).save(bmp, "BMP")
    with pytest.raises(VQError, match=r"300x200 is 60,000 pixels, above the limit of 50,000"):
        decode_image(bmp.getvalue(), max_pixels=50_000)
    assert decode_image(bmp.getvalue(), max_pixels=60_000).shape == (200, 300)
    with pytest.raises(ValueError, match=r"The 'max_pixels' parameter of load_image must be an int >= 1\. Got 0"):
        decode_image(bmp.getvalue(), max_pixels=0)


def test_cli_max_pixels(tmp_path, capsys):
    from vqimage.cli import main

    source = tmp_path / "in.png"
    source.write_bytes(imagecodecs.png_encode(vqimage.load_image("camera")))
    assert main(["quantize", str(source), "-k", "4", "--max-pixels", "200000", "-o", str(tmp_path / "a.png")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "512x512 is 262,144 pixels, above the limit of 200,000" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]
    assert main(["quantize", str(source), "-k", "4", "--max-pixels", "262144", "-o", str(tmp_path / "a.png")]) == 0
    assert main(["quantize", str(source), str(source), "-k", "4", "--shared-codebook", "--max-pixels", "1000",
                 "-o", str(tmp_path / "shared")]) == 1  # every input refused
    assert "No input could be read" in capsys.readouterr().err


def test_a_tiff_the_reader_cannot_shape_is_one_line(tmp_path, capsys):
    from vqimage.cli import main

    tifffile.imwrite(tmp_path / "long.tif", np.ones((16, 16), np.longdouble))  # a dtype TIFF cannot hold
    assert main(["compress", str(tmp_path / "long.tif"), "-k", "4", "-o", str(tmp_path / "x.vq")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vqimage: error: ") and "long.tif" in err
    assert not (tmp_path / "x.vq").exists()
