"""Palettes: presets, every source load_palette reads, validation, save_palette, palette_codebook."""

import json
import re

import numpy as np
import pytest
from PIL import Image

import vqimage
from vqimage import VQError
from vqimage.palettes import (
    DEVICE_CODES,
    PALETTE_FORMATS,
    PRESETS,
    check_palette,
    load_palette,
    palette_codebook,
    save_palette,
    to_hex,
)

RGB3 = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)


# --------------------------------------------------------------------------- presets


@pytest.mark.parametrize(
    ("name", "k"),
    [("gray2", 2), ("gray4", 4), ("gray16", 16), ("epaper-bwr", 3), ("epaper-bwy", 3), ("epaper7", 7),
     ("epaper6", 6), ("websafe", 216), ("gameboy", 4)],
)
def test_preset_sizes_and_validity(name, k):
    description, array = PRESETS[name]
    assert isinstance(description, str) and description
    assert array.dtype == np.uint8 and array.shape == (k, 3)
    np.testing.assert_array_equal(check_palette(array), array)  # distinct, in range
    np.testing.assert_array_equal(load_palette(name), array)


def test_preset_known_values():
    assert to_hex(load_palette("gray2")) == ["#000000", "#ffffff"]
    assert load_palette("gray4")[:, 0].tolist() == [0, 85, 170, 255]
    assert load_palette("gray16")[:, 0].tolist() == list(range(0, 256, 17))
    assert to_hex(load_palette("epaper-bwy")) == ["#000000", "#ffffff", "#ffff00"]
    # ACeP driver order: black, white, green, blue, red, yellow, orange.
    assert to_hex(load_palette("epaper7")) == [
        "#000000", "#ffffff", "#00ff00", "#0000ff", "#ff0000", "#ffff00", "#ff8000"]
    assert to_hex(load_palette("epaper6")) == ["#000000", "#ffffff", "#ffff00", "#ff0000", "#0000ff", "#00ff00"]
    assert DEVICE_CODES["epaper6"].tolist() == [0, 1, 2, 3, 5, 6]
    websafe = load_palette("websafe")
    assert websafe[0].tolist() == [0, 0, 0] and websafe[-1].tolist() == [255, 255, 255]
    assert websafe[36 * 1 + 6 * 2 + 3].tolist() == [51, 102, 153]
    assert to_hex(load_palette("gameboy"))[0] == "#9bbc0f"  # shade 0 is the lightest


def test_presets_are_read_only_and_load_returns_copies():
    with pytest.raises(ValueError, match="read-only"):
        PRESETS["gray2"][1][0, 0] = 1
    palette = load_palette("gray2")
    palette[0, 0] = 7
    assert PRESETS["gray2"][1][0, 0] == 0


# --------------------------------------------------------------------------- strings, lists, arrays


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("#ff0000,#00ff00", [[255, 0, 0], [0, 255, 0]]),
        ("ff0000 00ff00", [[255, 0, 0], [0, 255, 0]]),
        ("  #f00 ,\n #0F0\t", [[255, 0, 0], [0, 255, 0]]),
        ("#abc", [[0xAA, 0xBB, 0xCC]]),
        ("c0ffee", [[0xC0, 0xFF, 0xEE]]),
        ("#ff000080 #00ff00", [[255, 0, 0, 128], [0, 255, 0, 255]]),
        ("#f008", [[255, 0, 0, 0x88]]),
        (["#ff0000", " 00ff00 "], [[255, 0, 0], [0, 255, 0]]),
        ([(255, 0, 0), (0, 255, 0)], [[255, 0, 0], [0, 255, 0]]),
        (((1, 2, 3, 4),), [[1, 2, 3, 4]]),
        (np.array([[1, 2, 3]], np.int64), [[1, 2, 3]]),
    ],
)
def test_load_from_strings_lists_and_arrays(spec, expected):
    palette = load_palette(spec)
    assert palette.dtype == np.uint8
    assert palette.tolist() == expected


def test_long_hex_strings_are_not_file_names():
    websafe = load_palette("websafe")
    for separator in (" ", ",", ", ", "\n"):
        np.testing.assert_array_equal(load_palette(separator.join(to_hex(websafe))), websafe)


def test_existing_file_wins_over_preset_and_hex(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gray4").write_text("GIMP Palette\n1 2 3\n")  # no extension: read as an image -> fails
    with pytest.raises(VQError, match="gray4: not a palette file"):
        load_palette("gray4")
    (tmp_path / "c0ffee.txt").write_text("#123456\n")
    assert load_palette("c0ffee.txt").tolist() == [[0x12, 0x34, 0x56]]


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ("", ValueError, "Got an empty string instead"),
        ("   ", ValueError, "Got an empty string instead"),
        ("gray5", ValueError, r"must be a preset name \(one of gray2, gray4.*\), hex colors .* Got 'gray5' instead"),
        ("bad", ValueError, "Got 'bad' instead"),  # 3 bare hex digits: a word, not a color
        ("#ff0000,#00ff0g", ValueError, r"must be hex colors .* Got '#00ff0g' \(color 1\) instead"),
        ("ff0000, 00ff0", ValueError, r"Got '00ff0' \(color 1\) instead"),
        ("#ff0000 #ff0000", ValueError, "must hold distinct colors. Got #ff0000 as both entry 0 and entry 1"),
        ("missing.gpl", FileNotFoundError, "missing.gpl: no such palette file"),
        ("some/dir/pal", FileNotFoundError, "some/dir/pal: no such palette file"),
        ("image.png", FileNotFoundError, "image.png: no such palette file"),
        (["#ff0000", (0, 255, 0)], TypeError, "not a mix"),
        ([], ValueError, "must hold 1 to 256 colors. Got 0 instead"),
        ([(0, 0, 300)], ValueError, r"values in \[0, 255\]. Got 300 in entry 0 \(\[0, 0, 300\]\)"),
        ([(0, 0, -1)], ValueError, r"Got -1 in entry 0"),
        ([(0.5, 0, 0)], TypeError, "Got dtype float64 instead .round and convert"),
        ([(True, False, True)], TypeError, "Got dtype bool instead"),
        ([(1, 2), (3, 4)], ValueError, r"must have shape \(k, 3\) \(RGB\) or \(k, 4\) \(RGBA\). Got shape \(2, 2\)"),
        ([(1, 2, 3), (4, 5)], TypeError, "must be an integer array of shape"),
        (np.zeros((257, 3), np.uint8), ValueError, "must hold 1 to 256 colors. Got 257 instead"),
        (np.zeros((0, 3), np.uint8), ValueError, "must hold 1 to 256 colors. Got 0 instead"),
        (np.zeros(3, np.uint8), ValueError, r"Got shape \(3,\) instead"),
        (42, TypeError, "The 'spec' parameter of load_palette must be a preset name.* Got int 42 instead"),
        (b"#ff0000", TypeError, "Got bytes"),
        (None, TypeError, "Got NoneType None instead"),
    ],
)
def test_load_errors(tmp_path, monkeypatch, spec, error, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=message):
        load_palette(spec)


def test_duplicate_error_names_both_entries():
    palette = np.array([[1, 2, 3], [9, 9, 9], [4, 5, 6], [9, 9, 9]])
    with pytest.raises(
        ValueError,
        match=re.escape("The 'palette' parameter of png8 must hold distinct colors. "
                        "Got #090909 as both entry 1 and entry 3."),
    ):
        check_palette(palette, caller="png8")
    # Same RGB, different alpha: distinct entries.
    assert check_palette([[9, 9, 9, 255], [9, 9, 9, 0]]).shape == (2, 4)


def test_check_palette_refuses_strings_and_paths(tmp_path):
    with pytest.raises(TypeError, match="read names, hex colors and files with vqimage.palettes.load_palette"):
        check_palette("gray4")
    with pytest.raises(TypeError, match="load_palette"):
        check_palette(tmp_path / "x.gpl")


def test_directory_is_not_a_palette(tmp_path):
    (tmp_path / "pal.gpl").mkdir()
    with pytest.raises(VQError, match="not a regular file"):
        load_palette(str(tmp_path / "pal.gpl"))
    with pytest.raises(VQError, match="not a regular file"):
        load_palette(tmp_path / "pal.gpl")
    with pytest.raises(FileNotFoundError, match="no such palette file"):
        load_palette(tmp_path / "nothing.act")


# --------------------------------------------------------------------------- text and binary files


def test_gpl(tmp_path):
    path = tmp_path / "p.gpl"
    path.write_text(
        "GIMP Palette\nName: Test\nColumns: 4\n# a comment\n\n"
        "255   0   0\tRed\n  0 255   0 Green light\n0 0 255\n"
    )
    np.testing.assert_array_equal(load_palette(path), RGB3)
    np.testing.assert_array_equal(load_palette(str(path)), RGB3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("JASC-PAL\n255 0 0\n", "not a GIMP palette"),
        ("GIMP Palette\n255 0\n", r"line 2: expected 'R G B \[name\]'"),
        ("GIMP Palette\n255 0 x\n", "line 2"),
        ("GIMP Palette\n256 0 0\n", r"p.gpl must hold values in \[0, 255\]. Got 256 in entry 0"),
        ("GIMP Palette\n1 1 1\n1 1 1\n", "p.gpl must hold distinct colors. Got #010101 as both entry 0 and entry 1"),
        ("GIMP Palette\nName: x\n", "p.gpl must hold 1 to 256 colors. Got 0 instead"),
        ("", "not a GIMP palette"),
    ],
)
def test_gpl_errors(tmp_path, text, message):
    path = tmp_path / "p.gpl"
    path.write_text(text)
    with pytest.raises(VQError, match=message):
        load_palette(path)


def test_hex_and_txt(tmp_path):
    lospec = tmp_path / "lospec.hex"
    lospec.write_text("ff0000\n00ff00\r\n0000FF\n")
    np.testing.assert_array_equal(load_palette(lospec), RGB3)
    commented = tmp_path / "c.txt"
    commented.write_text("# my palette\n; another comment\n// and another\n\n#ff0000\n#0f0\n  #0000ff  \n")
    np.testing.assert_array_equal(load_palette(commented), RGB3)
    alpha = tmp_path / "a.txt"
    alpha.write_text("#ff000080\n#00ff00\n")
    assert load_palette(alpha).tolist() == [[255, 0, 0, 128], [0, 255, 0, 255]]
    paintnet = tmp_path / "pdn.txt"
    paintnet.write_text("; paint.net Palette File\n; Colors: 2\nFFFF0000\n8000FF00\n")
    assert load_palette(paintnet).tolist() == [[255, 0, 0, 255], [0, 255, 0, 128]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ff0000\nzz0000\n", r"line 2: expected one hex color .* Got 'zz0000'"),
        ("ff0000 red\n", "line 1"),
        ("abc\n", "line 1"),  # bare short form is not a color
        ("\n; nothing\n", "must hold 1 to 256 colors. Got 0 instead"),
        ("ff0000\nFF0000\n", "Got #ff0000 as both entry 0 and entry 1"),
    ],
)
def test_hex_errors(tmp_path, text, message):
    path = tmp_path / "p.hex"
    path.write_text(text)
    with pytest.raises(VQError, match=message):
        load_palette(path)


def test_text_palette_must_be_utf8(tmp_path):
    path = tmp_path / "p.txt"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(VQError, match="not a UTF-8 text palette"):
        load_palette(path)


@pytest.mark.parametrize(
    "content",
    [
        ["#ff0000", "00ff00", "#00f"],
        [[255, 0, 0], [0, 255, 0], [0, 0, 255]],
        {"name": "lospec", "author": "", "colors": ["ff0000", "00ff00", "0000ff"]},
    ],
)
def test_json(tmp_path, content):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(content))
    np.testing.assert_array_equal(load_palette(path), RGB3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2", "not valid JSON"),
        ('{"name": "x"}', "expected a JSON list of colors"),
        ('"ff0000"', "Got str"),
        ('["ff0000", "nope"]', r"color 1: expected a hex color .* Got 'nope'"),
        ("[[1, 2, 3], [4, 5]]", "of one length"),
        ("[[1, 2, 3], [4, 5, 6, 7]]", "of one length"),
        ("[[1, 2, 3.5]]", r"\[r, g, b\] / \[r, g, b, a\] int lists"),
        ("[[1, 2, true]]", "int lists"),
        ('["ff0000", [0, 0, 0]]', "int lists"),
        ("[]", "must hold 1 to 256 colors. Got 0 instead"),
        ("[[1, 2, 300]]", r"values in \[0, 255\]"),
    ],
)
def test_json_errors(tmp_path, content, message):
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(VQError, match=message):
        load_palette(path)


def _act(colors, count=None, transparent=None):
    table = np.zeros((256, 3), np.uint8)
    table[: len(colors)] = colors
    data = table.tobytes()
    if count is not None:
        data += count.to_bytes(2, "big") + (0xFFFF if transparent is None else transparent).to_bytes(2, "big")
    return data


def test_act(tmp_path):
    path = tmp_path / "p.act"
    path.write_bytes(_act(RGB3, count=3))
    np.testing.assert_array_equal(load_palette(path), RGB3)
    path.write_bytes(_act(RGB3, count=3, transparent=1))
    assert load_palette(path).tolist() == [[255, 0, 0, 255], [0, 255, 0, 0], [0, 0, 255, 255]]
    path.write_bytes(_act(RGB3, count=3, transparent=7))  # outside the colors: no transparency
    assert load_palette(path).shape == (3, 3)
    # 768 bytes: no count, trailing black entries are padding.
    path.write_bytes(_act(RGB3))
    np.testing.assert_array_equal(load_palette(path), RGB3)
    path.write_bytes(_act(np.zeros((1, 3), np.uint8)))
    assert load_palette(path).tolist() == [[0, 0, 0]]
    full = np.stack([np.arange(256)] * 3, axis=1).astype(np.uint8)
    path.write_bytes(_act(full))
    np.testing.assert_array_equal(load_palette(path), full)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00" * 100, "has 768 or 772 bytes. Got 100"),
        (_act(RGB3, count=0), r"color count must be in \[1, 256\]. Got 0"),
        (_act(RGB3, count=257), "Got 257"),
        (_act(np.array([[1, 1, 1], [1, 1, 1]]), count=2), "Got #010101 as both entry 0 and entry 1"),
    ],
)
def test_act_errors(tmp_path, data, message):
    path = tmp_path / "p.act"
    path.write_bytes(data)
    with pytest.raises(VQError, match=message):
        load_palette(path)


# --------------------------------------------------------------------------- images


def _palette_image(codes, palette):
    image = Image.frombytes("P", (codes.shape[1], codes.shape[0]), codes.astype(np.uint8).tobytes())
    image.putpalette(np.asarray(palette, np.uint8).tobytes(), rawmode="RGB")
    return image


def test_palette_png_gives_palette_in_order_with_unused_entries(tmp_path):
    palette = np.array([[9, 9, 9], [0, 0, 0], [200, 100, 50], [1, 2, 3], [0, 0, 1]], np.uint8)
    path = tmp_path / "p.png"
    _palette_image(np.array([[2, 2], [1, 1]]), palette).save(path)
    np.testing.assert_array_equal(load_palette(path), palette)


def test_palette_png_with_trns(tmp_path):
    path = tmp_path / "p.png"
    _palette_image(np.array([[0, 1, 2]]), RGB3).save(path, transparency=bytes([255, 128]))
    assert load_palette(path).tolist() == [[255, 0, 0, 255], [0, 255, 0, 128], [0, 0, 255, 255]]
    _palette_image(np.array([[0, 1, 2]]), RGB3).save(path, transparency=2)
    assert load_palette(path)[:, 3].tolist() == [255, 255, 0]


def test_palette_image_with_duplicate_entries_is_refused(tmp_path):
    path = tmp_path / "dup.png"
    _palette_image(np.array([[0, 1]]), [[5, 5, 5], [5, 5, 5]]).save(path)
    with pytest.raises(VQError, match="dup.png must hold distinct colors. Got #050505 as both entry 0 and entry 1"):
        load_palette(path)


def test_gif_palette_padding_is_dropped(tmp_path):
    path = tmp_path / "p.gif"
    _palette_image(np.array([[0, 1, 2]]), RGB3).save(path, optimize=False)
    with Image.open(path) as img:
        assert len(img.getpalette()) // 3 == 4  # padded by the format
    np.testing.assert_array_equal(load_palette(path), RGB3)
    # Unused trailing entries that are neither black nor repeats are real colors: kept.
    four = np.vstack([RGB3, [[255, 255, 255]]])
    _palette_image(np.array([[0, 0]]), four).save(path, optimize=False)
    np.testing.assert_array_equal(load_palette(path), four)
    _palette_image(np.array([[0, 1, 2]]), RGB3).save(path, optimize=False, transparency=1)
    assert load_palette(path).tolist() == [[255, 0, 0, 255], [0, 255, 0, 0], [0, 0, 255, 255]]


def test_distinct_colors_of_an_rgb_image_first_seen_order(tmp_path):
    pixels = np.array([[[0, 0, 255], [255, 0, 0], [0, 0, 255]], [[0, 255, 0], [255, 0, 0], [7, 7, 7]]], np.uint8)
    path = tmp_path / "rgb.png"
    Image.fromarray(pixels).save(path)
    assert load_palette(path).tolist() == [[0, 0, 255], [255, 0, 0], [0, 255, 0], [7, 7, 7]]
    bmp = tmp_path / "rgb.bmp"
    Image.fromarray(pixels).save(bmp)
    assert load_palette(bmp).tolist() == [[0, 0, 255], [255, 0, 0], [0, 255, 0], [7, 7, 7]]


def test_distinct_colors_of_gray_and_rgba_images(tmp_path):
    gray = tmp_path / "g.png"
    Image.fromarray(np.array([[200, 10], [10, 0]], np.uint8)).save(gray)
    assert load_palette(gray).tolist() == [[200, 200, 200], [10, 10, 10], [0, 0, 0]]
    rgba = tmp_path / "a.png"
    Image.fromarray(np.array([[[1, 2, 3, 4], [1, 2, 3, 255]]], np.uint8)).save(rgba)
    assert load_palette(rgba).tolist() == [[1, 2, 3, 4], [1, 2, 3, 255]]
    la = tmp_path / "la.png"
    Image.fromarray(np.array([[[5, 0], [5, 255]]], np.uint8), mode="LA").save(la)
    assert load_palette(la).tolist() == [[5, 5, 5, 0], [5, 5, 5, 255]]


def test_image_errors(tmp_path):
    many = tmp_path / "many.png"
    index = np.arange(257)
    Image.fromarray(np.stack([index % 256, index // 256, index * 0], axis=-1)[None].astype(np.uint8)).save(many)
    with pytest.raises(VQError, match="257 distinct colors; a palette holds at most 256"):
        load_palette(many)
    sixteen = tmp_path / "16.png"
    Image.fromarray(np.array([[0, 1000]], np.uint16)).save(sixteen)
    with pytest.raises(VQError, match="a uint16 image; palettes hold 8-bit colors"):
        load_palette(sixteen)
    junk = tmp_path / "junk.pal"
    junk.write_bytes(b"not an image at all")
    with pytest.raises(VQError, match=r"junk.pal: not a palette file \(.gpl, .hex, .txt, .json, .act\) nor a readable"):
        load_palette(junk)


# --------------------------------------------------------------------------- to_hex and save_palette


def test_to_hex():
    assert to_hex(RGB3) == ["#ff0000", "#00ff00", "#0000ff"]
    assert to_hex([[0, 0, 0, 0]]) == ["#00000000"]
    with pytest.raises(ValueError, match="The 'palette' parameter of to_hex must hold 1 to 256 colors"):
        to_hex(np.zeros((0, 3), np.uint8))


@pytest.mark.parametrize("extension", PALETTE_FORMATS)
@pytest.mark.parametrize("name", ["gray2", "epaper7", "websafe", "gameboy"])
def test_save_and_load_round_trip(tmp_path, extension, name):
    palette = load_palette(name)
    path = save_palette(tmp_path / f"p{extension}", palette)
    np.testing.assert_array_equal(load_palette(path), palette)


@pytest.mark.parametrize("extension", [".hex", ".txt", ".json"])
def test_save_rgba_round_trip(tmp_path, extension):
    palette = np.array([[255, 0, 0, 128], [0, 255, 0, 255], [0, 0, 0, 0]], np.uint8)
    np.testing.assert_array_equal(load_palette(save_palette(tmp_path / f"p{extension}", palette)), palette)


def test_save_formats_exact(tmp_path):
    assert save_palette(tmp_path / "p.hex", RGB3).read_text() == "ff0000\n00ff00\n0000ff\n"
    assert save_palette(tmp_path / "p.txt", RGB3).read_text() == "#ff0000\n#00ff00\n#0000ff\n"
    assert json.loads(save_palette(tmp_path / "p.json", RGB3).read_text()) == ["#ff0000", "#00ff00", "#0000ff"]
    act = save_palette(tmp_path / "p.act", RGB3).read_bytes()
    assert len(act) == 772 and act[:9] == RGB3.tobytes() and act[768:] == b"\x00\x03\xff\xff"


def test_save_alpha_where_the_format_has_none(tmp_path):
    opaque = np.column_stack([RGB3, np.full(3, 255, np.uint8)])
    np.testing.assert_array_equal(load_palette(save_palette(tmp_path / "o.gpl", opaque)), RGB3)
    one_clear = opaque.copy()
    one_clear[1, 3] = 0
    act = save_palette(tmp_path / "t.act", one_clear)
    assert act.read_bytes()[768:] == b"\x00\x03\x00\x01"
    np.testing.assert_array_equal(load_palette(act), one_clear)
    with pytest.raises(ValueError, match=r"GIMP palettes \(.gpl\) hold no alpha: every entry needs alpha 255. "
                                         r"Got alpha 0 in entry 1. Write .hex, .txt or .json instead"):
        save_palette(tmp_path / "t.gpl", one_clear)
    partial = opaque.copy()
    partial[2, 3] = 100
    with pytest.raises(ValueError, match=r"Adobe Color Tables \(.act\) hold no alpha.*Got alpha 100 in entry 2"):
        save_palette(tmp_path / "p.act", partial)
    two_clear = one_clear.copy()
    two_clear[2, 3] = 0
    with pytest.raises(ValueError, match=r"at most one entry with alpha 0\). Got alpha 0 in entry 1"):
        save_palette(tmp_path / "q.act", two_clear)


def test_save_errors(tmp_path):
    save_palette(tmp_path / "p.gpl", RGB3)
    with pytest.raises(FileExistsError, match="exists; use --force"):
        save_palette(tmp_path / "p.gpl", RGB3)
    save_palette(tmp_path / "p.gpl", RGB3[:2], force=True)
    assert load_palette(tmp_path / "p.gpl").shape == (2, 3)
    with pytest.raises(ValueError, match=r"The 'path' parameter of save_palette must end in one of .gpl, .hex"):
        save_palette(tmp_path / "p.pal", RGB3)
    with pytest.raises(ValueError, match="The 'palette' parameter of save_palette must hold distinct colors"):
        save_palette(tmp_path / "d.gpl", [[0, 0, 0], [0, 0, 0]])
    assert not (tmp_path / "d.gpl").exists()


# --------------------------------------------------------------------------- palette_codebook


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
