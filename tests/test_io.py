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
from vqimage.io import (
    BUILTINS,
    FaceUnavailable,
    ImageMeta,
    decode_image,
    load_image,
    read_image,
    to_gray,
    write_atomic,
)

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
                 "-o", str(tmp_path / "shared")]) == 1  # every input refused, each with its reason
    assert "in.png: 512x512 is 262,144 pixels, above the limit of 1,000" in " ".join(capsys.readouterr().err.split())


def test_a_tiff_the_reader_cannot_shape_is_one_line(tmp_path, capsys):
    from vqimage.cli import main

    tifffile.imwrite(tmp_path / "long.tif", np.ones((16, 16), np.longdouble))  # a dtype TIFF cannot hold
    assert main(["compress", str(tmp_path / "long.tif"), "-k", "4", "-o", str(tmp_path / "x.vq")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vqimage: error: ") and "long.tif" in err
    assert not (tmp_path / "x.vq").exists()


# --------------------------------------------------------------------------- real-world inputs (issue 13)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def with_chunks(png: bytes, *chunks: bytes) -> bytes:
    """``png`` with ``chunks`` inserted right after IHDR (signature 8 + IHDR 25 bytes)."""
    return png[:33] + b"".join(chunks) + png[33:]


def exif_bytes(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_as_pillow_does(orientation):
    from PIL import ImageOps

    for fmt, kwargs in (("JPEG", {"quality": 90}), ("PNG", {}), ("WEBP", {"lossless": True})):
        data = pillow_bytes(RGB8, fmt, exif=exif_bytes(orientation), **kwargs)
        image, meta = read_image(data, gray=False)
        with Image.open(io.BytesIO(data)) as img:
            expected = np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
        np.testing.assert_array_equal(image, expected, err_msg=fmt)
        assert image.flags.c_contiguous
        assert meta.orientation == orientation
        assert (f"EXIF orientation {orientation} applied" in " ".join(meta.notes)) == (orientation != 1)
        np.testing.assert_array_equal(decode_image(data), to_gray(image))  # gray too, and load's route


def test_exif_orientation_3_and_6_and_tiff(tmp_path):
    png = pillow_bytes(RGB8, "PNG", exif=exif_bytes(6))  # 30 wide, 20 tall, stored lying on its side
    image, meta = read_image(png, gray=False)
    assert image.shape == (30, 20, 3)
    np.testing.assert_array_equal(image, np.rot90(RGB8, -1))  # turned 90 degrees clockwise
    assert "EXIF orientation 6 applied (rotated 90° clockwise)." in meta.notes
    upside_down = pillow_bytes(GRAY8, "PNG", exif=exif_bytes(3))
    np.testing.assert_array_equal(decode_image(upside_down), GRAY8[::-1, ::-1])
    tifffile.imwrite(tmp_path / "a.tif", GRAY16, extratags=[(274, "H", 1, 8, True)])
    image, meta = read_image(tmp_path / "a.tif")
    np.testing.assert_array_equal(image, np.rot90(GRAY16))  # 90 degrees counter-clockwise, still 16-bit
    assert meta.orientation == 8 and meta.format == "TIFF" and meta.bit_depth == 16
    bad = with_chunks(imagecodecs.png_encode(GRAY8), png_chunk(b"eXIf", exif_bytes(9)))
    image, meta = read_image(bad)
    np.testing.assert_array_equal(image, GRAY8)
    assert meta.orientation == 1 and "EXIF orientation 9 ignored (not 1 to 8)." in meta.notes


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_gray_alpha_keeps_its_alpha(dtype):
    top = np.iinfo(dtype).max
    la = np.dstack([RNG.integers(0, top, (20, 30), dtype=dtype), RNG.integers(0, top, (20, 30), dtype=dtype)])
    tiff = tiff_bytes(la, photometric="minisblack", extrasamples=["unassalpha"])
    for data in (imagecodecs.png_encode(la), tiff):
        image, meta = read_image(data, gray=False)
        assert image.dtype == dtype and image.shape == (20, 30, 4)
        np.testing.assert_array_equal(image, la[..., [0, 0, 0, 1]])
        assert "Gray+alpha read as RGBA (the gray in R, G and B)." in meta.notes
        np.testing.assert_array_equal(decode_image(data), la[..., 0])  # gray: alpha ignored, as before
    if dtype == np.uint8:  # Pillow's mode "LA"
        tga = pillow_bytes(la, "TGA")
        np.testing.assert_array_equal(decode_image(tga, gray=False), la[..., [0, 0, 0, 1]])


def tiff_bytes(array, **kwargs):
    out = io.BytesIO()
    tifffile.imwrite(out, array, **kwargs)
    return out.getvalue()


def frames_bytes(fmt, n=3):
    frames = [Image.fromarray(RNG.integers(0, 256, (20, 30, 3), dtype=np.uint8)) for _ in range(n)]
    out = io.BytesIO()
    frames[0].save(out, format=fmt, save_all=True, append_images=frames[1:])
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (frames_bytes("GIF", 12), "animated GIF with 12 frames"),
        (frames_bytes("PNG"), r"animated PNG \(APNG\) with 3 frames"),
        (frames_bytes("WEBP"), "animated WebP with 3 frames"),
        (tiff_bytes(np.zeros((5, 10, 12), np.uint8)), "multi-page TIFF with 5 pages"),
        (imagecodecs.jpegxl_encode(np.zeros((4, 10, 12, 3), np.uint8), lossless=True), "animated JPEG XL with 4 frames"),
    ],
    ids=["gif", "apng", "webp", "tiff", "jxl"],
)
def test_animations_and_stacks_are_refused_not_cut_to_their_first_frame(tmp_path, data, what):
    path = tmp_path / "anim.bin"
    path.write_bytes(data)
    with pytest.raises(VQError, match=rf"anim.bin: {what}; vqimage reads single images \(extract one first, "
                                      rf"e.g. magick '.*anim.bin\[0\]' one.png\)\.$") as info:
        load_image(path, gray=False)
    assert "\n" not in str(info.value)
    with pytest.raises(VQError, match=r"^<bytes>: .* magick 'FILE\[0\]' one.png"):
        decode_image(data)


def test_single_frames_mpo_and_tiff_pages_that_are_not_images():
    for fmt in ("GIF", "PNG", "WEBP"):
        assert decode_image(frames_bytes(fmt, 1), gray=False).shape == (20, 30, 3)
    mpo = frames_bytes("MPO", 2)  # a phone's JPEG with a second picture (depth map, preview) after it
    image, meta = read_image(mpo, gray=False)
    assert image.shape == (20, 30, 3) and meta.format == "MPO"
    assert "MPO: the primary image of 2 read." in meta.notes
    out = io.BytesIO()
    with tifffile.TiffWriter(out) as tif:
        tif.write(GRAY16)
        tif.write(GRAY16[::2, ::2], subfiletype=1)  # a reduced-resolution copy: not a second image
    np.testing.assert_array_equal(decode_image(out.getvalue()), GRAY16)
    out = io.BytesIO()
    with tifffile.TiffWriter(out) as tif:  # two images of different sizes: two pages, refused
        tif.write(GRAY16)
        tif.write(GRAY8)
    with pytest.raises(VQError, match="multi-page TIFF with 2 pages"):
        decode_image(out.getvalue())


def test_tiff_layouts_tifffile_leaves_raw():
    planar = tiff_bytes(np.moveaxis(RGB8, -1, 0), photometric="rgb", planarconfig="separate")
    np.testing.assert_array_equal(decode_image(planar, gray=False), RGB8)
    white_is_zero = tiff_bytes(GRAY8, photometric="miniswhite")
    np.testing.assert_array_equal(decode_image(white_is_zero), 255 - GRAY8)
    np.testing.assert_array_equal(decode_image(tiff_bytes(GRAY8[:, :16] >> 4, bitspersample=4)),
                                  (GRAY8[:, :16] >> 4) * 17)  # 4-bit gray scaled to 8 bits, as in PNG
    colormap = RNG.integers(0, 65536, (3, 256), dtype=np.uint16)
    palette = tiff_bytes(GRAY8, photometric="palette", colormap=colormap)
    expected = colormap[:, GRAY8].transpose(1, 2, 0)  # the colors, not the indices; 16-bit as stored
    np.testing.assert_array_equal(decode_image(palette, gray=False), expected)
    palette = tiff_bytes(GRAY8, photometric="palette", colormap=colormap // 257 * 257)  # how writers store 8-bit
    with Image.open(io.BytesIO(palette)) as img:
        np.testing.assert_array_equal(decode_image(palette, gray=False), np.asarray(img.convert("RGB")))
    cmyk = RNG.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    separated = tiff_bytes(cmyk, photometric="separated")
    with Image.open(io.BytesIO(separated)) as img:
        expected = np.asarray(img.convert("RGB"))  # Pillow's conversion, not the inks read as RGBA
    np.testing.assert_array_equal(decode_image(separated, gray=False), expected)
    with pytest.raises(VQError, match=r"not a readable image \(TIFF samples of kind CIELAB; vqimage reads"):
        decode_image(tiff_bytes(RGB8, photometric="cielab"))
    with pytest.raises(VQError, match=r"not a readable image \(a TIFF image of 3 dimensions, axes ZYX"):
        decode_image(tiff_bytes(np.zeros((3, 16, 16), np.uint8), photometric="minisblack", tile=(3, 16, 16),
                                volumetric=True))


def test_metadata(tmp_path):
    import struct
    import zlib

    profile = b"\x00\x00\x02\x0cfake ICC profile bytes" * 20
    png = with_chunks(
        imagecodecs.png_encode(RGB16),
        png_chunk(b"gAMA", struct.pack(">I", 45455)),
        png_chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)),
        png_chunk(b"sRGB", b"\x01"),
        png_chunk(b"iCCP", b"my profile\x00\x00" + zlib.compress(profile)),
    )
    (tmp_path / "a.png").write_bytes(png)
    image, meta = read_image(tmp_path / "a.png", gray=False)
    np.testing.assert_array_equal(image, RGB16)
    assert meta == ImageMeta(format="PNG", bit_depth=16, icc_profile=profile, gamma=0.45455, srgb_intent=1,
                             chromaticities=(0.3127, 0.329, 0.64, 0.33, 0.3, 0.6, 0.15, 0.06))
    assert "icc_profile" not in repr(meta)  # the bytes stay out of the repr
    for fmt in ("JPEG", "WEBP"):
        _, meta = read_image(pillow_bytes(RGB8, fmt, icc_profile=profile))
        assert (meta.format, meta.icc_profile, meta.bit_depth, meta.gamma) == (fmt, profile, 8, None)
    _, meta = read_image(tiff_bytes(RGB8, iccprofile=profile))
    assert (meta.format, meta.icc_profile) == ("TIFF", profile)
    _, meta = read_image(imagecodecs.png_encode(GRAY8))
    assert meta == ImageMeta(format="PNG", bit_depth=8)
    assert read_image("camera")[1] == ImageMeta(format="built-in", bit_depth=8)
    damaged = with_chunks(imagecodecs.png_encode(GRAY8), png_chunk(b"iCCP", b"name\x00\x00not zlib"))
    image, meta = read_image(damaged)
    np.testing.assert_array_equal(image, GRAY8)  # the pixels are still good
    assert meta.icc_profile is None and meta.notes == ("PNG iCCP chunk damaged; ignored.",)


def test_decoder_text_never_reaches_stderr_and_errors_are_one_line(tmp_path, capfd, monkeypatch):
    import struct

    good = imagecodecs.png_encode(GRAY8)
    bad = tmp_path / "bad\nname.png"  # a file name with a newline in it
    bad.write_bytes(good[:8] + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 30, 20, 8, 7, 0, 0, 0)) + good[33:])
    with pytest.raises(VQError) as info:
        load_image(bad)
    message = str(info.value)
    assert "\n" not in message
    assert ("bad\\nname.png: not a readable image (PngError: Invalid IHDR data; Invalid color type in IHDR)."
            in message)  # libpng's warning is said, not printed
    assert capfd.readouterr() == ("", "")

    def chatty(data):
        import logging

        logging.getLogger("imagecodecs").warning("PNG warning: chatter")
        raise RuntimeError("line one\n\n  line two " + "and on " * 100)

    monkeypatch.setattr(imagecodecs, "png_decode", chatty)
    with pytest.raises(VQError) as info:
        decode_image(good)
    message = str(info.value)
    assert message.startswith("<bytes>: not a readable image (RuntimeError: line one line two and on ")
    assert "\n" not in message and len(message) < 200 and message.endswith("...).")
    assert capfd.readouterr() == ("", "")


def test_decoder_logs_are_held_for_the_decoding_thread_only(monkeypatch, caplog, capfd):
    import logging
    import threading

    started, written = threading.Event(), threading.Event()
    log = logging.getLogger("imagecodecs")  # where imagecodecs puts libpng's warnings

    def slow(data):
        log.warning("PNG warning: held back")
        started.set()
        assert written.wait(10)
        return GRAY8

    def other():  # another thread's records still reach the application's log
        assert started.wait(10)
        log.warning("another thread's record")
        written.set()

    monkeypatch.setattr(imagecodecs, "png_decode", slow)
    thread = threading.Thread(target=other)
    thread.start()
    with caplog.at_level(logging.WARNING):
        np.testing.assert_array_equal(decode_image(imagecodecs.png_encode(GRAY8)), GRAY8)
    thread.join()
    assert [r.getMessage() for r in caplog.records] == ["another thread's record"]
    monkeypatch.undo()
    caplog.clear()
    with caplog.at_level(logging.DEBUG):  # a real interlaced PNG: libpng warns, nobody hears it
        interlaced = (Path(__file__).parent / "data" / "pngsuite" / "basi0g08.png").read_bytes()
        assert decode_image(interlaced).shape == (32, 32)
    assert caplog.records == [] and capfd.readouterr() == ("", "")


def test_read_image_from_bytes_and_paths(tmp_path):
    data = imagecodecs.png_encode(GRAY8)
    (tmp_path / "a.png").write_bytes(data)
    for source in (data, bytearray(data), memoryview(data), tmp_path / "a.png", str(tmp_path / "a.png")):
        image, _ = read_image(source)
        np.testing.assert_array_equal(image, GRAY8)
    with pytest.raises(VQError, match="^upload: empty file"):
        read_image(b"", name="upload")


def test_a_png_too_short_for_its_header_is_refused_before_allocating(monkeypatch):
    import struct
    import zlib

    def never(data):
        raise AssertionError("decoded")

    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8000, 8000, 16, 6, 0, 0, 0))  # 512 MB of RGBA16
    data = b"\x89PNG\r\n\x1a\n" + ihdr + png_chunk(b"IDAT", zlib.compress(bytes(4000))) + png_chunk(b"IEND", b"")
    monkeypatch.setattr(imagecodecs, "png_decode", never)
    with pytest.raises(VQError, match=r"^<bytes>: not a readable image \(truncated: \d+ bytes of compressed image "
                                      r"data cannot hold the 512,008,000 bytes of a 8000x8000 PNG\)\.$"):
        decode_image(data)
    monkeypatch.undo()
    blank = imagecodecs.png_encode(np.zeros((3000, 2000), np.uint8), level=9)  # deflate at its best: ~1030x
    assert decode_image(blank).shape == (3000, 2000)
