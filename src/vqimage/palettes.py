"""Fixed color palettes: presets, palette files, hex colors.

A palette is a ``uint8`` array of shape ``(k, 3)`` (RGB) or ``(k, 4)`` (RGBA),
``1 <= k <= 256``, with distinct entries. Entry ``i`` is the color of palette
index (code) ``i``, so the order matters: it is the order a palette PNG or GIF
stores and the index an e-paper controller receives.

Sources :func:`load_palette` understands
-----------------------------------------
=================  ==========================================================
source             example
=================  ==========================================================
preset name        ``"gray4"``, ``"epaper7"`` (see :data:`PRESETS`)
hex colors         ``"#ff0000, #00ff00"``, ``"ff0000 00ff00"``, ``"#f00"``,
                   ``"#ff000080"`` (alpha); commas and/or whitespace between
list or tuple      ``["#ff0000", "#00ff00"]`` or ``[(255, 0, 0), (0, 255, 0)]``
array              ``np.array([[255, 0, 0], [0, 255, 0]], np.uint8)``
``.gpl`` file      GIMP palette (``R G B name`` lines)
``.hex``/``.txt``  one hex color per line, with or without ``#`` (lospec
                   ``.hex`` files have none); blank lines and comment lines
                   (``;``, ``//``, or ``#`` followed by a non-color) skipped;
                   paint.net ``.txt`` palettes (``AARRGGBB``) are recognised
                   by their ``paint.net`` header comment
``.json`` file     a list of hex strings or of ``[r, g, b(, a)]`` lists, or a
                   lospec object ``{"colors": [...]}``
``.act`` file      Adobe Color Table: 768 bytes, or 772 with a color count
                   and a transparent index
image file         a palette PNG/GIF/BMP gives its palette in order (PNG tRNS
                   or GIF transparency as alpha); any other image gives its
                   distinct colors in first-seen row-major order (at most 256)
=================  ==========================================================

A string is read as a file when such a file exists, else as a preset name,
else as hex colors. A string that names a palette or image file by its
extension (or contains a path separator) but does not exist is an error
(:class:`FileNotFoundError`), never a silent reinterpretation.

Hex colors are ``#rgb``, ``#rgba``, ``#rrggbb`` or ``#rrggbbaa`` (CSS
order, alpha last); without the ``#`` only the 6- and 8-digit forms are
accepted, so that a short word such as ``"bad"`` is never taken for a color.
When any color of a list carries alpha, the palette is RGBA and the others get
alpha 255.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from ._validation import VQError

__all__ = [
    "palette_codebook",
    "PRESETS",
    "DEVICE_CODES",
    "PALETTE_FORMATS",
    "load_palette",
    "check_palette",
    "to_hex",
    "save_palette",
]

MAX_COLORS = 256

#: File extensions :func:`save_palette` writes (and :func:`load_palette` reads
#: as palette files rather than images).
PALETTE_FORMATS = (".gpl", ".hex", ".txt", ".json", ".act")

# Extensions that make a string a file name even when no such file exists.
_FILE_SUFFIXES = frozenset(PALETTE_FORMATS) | {
    ".png", ".gif", ".bmp", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".jxl", ".tga", ".pcx",
}


def _preset(rows) -> np.ndarray:
    array = np.array(rows, dtype=np.uint8)
    array.setflags(write=False)  # shared module state: load_palette hands out copies
    return array


def _websafe() -> list:
    steps = range(0, 256, 51)
    return [(r, g, b) for r in steps for g in steps for b in steps]


#: Built-in palettes: name -> (description, uint8 array of shape (k, 3)).
#: The arrays are read-only; :func:`load_palette` returns a writable copy.
PRESETS: dict[str, tuple[str, np.ndarray]] = {
    "gray2": ("2 levels: black, white (1 bit; 0 = black, as 1-bit e-paper drivers expect)",
              _preset([(0, 0, 0), (255, 255, 255)])),
    "gray4": ("4 gray levels, black to white (2 bits)", _preset([(v, v, v) for v in range(0, 256, 85)])),
    "gray16": ("16 gray levels, black to white (4 bits)", _preset([(v, v, v) for v in range(0, 256, 17)])),
    "epaper-bwr": ("3-color e-paper: black, white, red",
                   _preset([(0, 0, 0), (255, 255, 255), (255, 0, 0)])),
    "epaper-bwy": ("3-color e-paper: black, white, yellow",
                   _preset([(0, 0, 0), (255, 255, 255), (255, 255, 0)])),
    # 7-color ACeP panels (Waveshare 5.65" F, 7.3" F, 4.01" F; UC8159-class
    # controllers): index i is the 4-bit code the driver sends for that color
    # (Waveshare's epd5in65f/epd7in3f: BLACK 0, WHITE 1, GREEN 2, BLUE 3, RED 4,
    # YELLOW 5, ORANGE 6). The colors are the drivers' idealised sRGB values;
    # a real panel's inks are duller (measure yours for better dithering).
    "epaper7": ("7-color ACeP e-paper, driver order: black, white, green, blue, red, yellow, orange",
                _preset([(0, 0, 0), (255, 255, 255), (0, 255, 0), (0, 0, 255),
                         (255, 0, 0), (255, 255, 0), (255, 128, 0)])),
    # E Ink Spectra 6 (Waveshare 7.3" E, 13.3" E, 4" E): drivers (Waveshare
    # epd7in3e/epd13in3E getbuffer, ESPHome's Spectra E6) send BLACK 0x0,
    # WHITE 0x1, YELLOW 0x2, RED 0x3, BLUE 0x5, GREEN 0x6 -- code 4 is unused.
    # The palette keeps that order without the gap; DEVICE_CODES maps it.
    "epaper6": ("E Ink Spectra 6: black, white, yellow, red, blue, green "
                "(device codes 0, 1, 2, 3, 5, 6: see DEVICE_CODES)",
                _preset([(0, 0, 0), (255, 255, 255), (255, 255, 0), (255, 0, 0), (0, 0, 255), (0, 255, 0)])),
    "websafe": ("216 web-safe colors: the 6x6x6 cube of 0, 51, ..., 255, index 36 r + 6 g + b",
                _preset(_websafe())),
    # The DMG's four shades in its own order (BGP shade 0 = lightest), in the
    # common "original Game Boy" sRGB approximation; no single canonical
    # measurement exists.
    "gameboy": ("Game Boy (DMG) greens, lightest to darkest (shade 0 to 3)",
                _preset([(155, 188, 15), (139, 172, 15), (48, 98, 48), (15, 56, 15)])),
}

#: Preset palettes whose index is not the code the device expects:
#: name -> uint8 lookup table, ``device_codes = DEVICE_CODES[name][codes]``.
DEVICE_CODES: dict[str, np.ndarray] = {"epaper6": _preset([0, 1, 2, 3, 5, 6])}

_HEX_HASH = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_HEX_BARE = re.compile(r"([0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_HEX_FORMS = "'#rrggbb', '#rgb', '#rrggbbaa', '#rgba' or 'rrggbb'"
_SPEC_KINDS = (
    "a preset name, hex colors, a palette or image file, a list of colors "
    "or an array of shape (k, 3) or (k, 4)"
)


# --------------------------------------------------------------------------- validation


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_colors(array: np.ndarray, what: str, error: type[Exception]) -> np.ndarray:
    """Count, range and distinctness of an integer (k, 3|4) array; returns uint8."""
    k = len(array)
    if not 1 <= k <= MAX_COLORS:
        raise error(f"{what} must hold 1 to {MAX_COLORS} colors. Got {k} instead.")
    bad = np.argwhere((array < 0) | (array > 255))
    if bad.size:
        i, c = (int(v) for v in bad[0])
        raise error(
            f"{what} must hold values in [0, 255]. Got {int(array[i, c])} in entry {i} "
            f"({[int(v) for v in array[i]]}) instead."
        )
    palette = np.ascontiguousarray(array, dtype=np.uint8)
    seen: dict[bytes, int] = {}
    for i, row in enumerate(palette):  # at most 256 entries
        first = seen.setdefault(row.tobytes(), i)
        if first != i:
            raise error(
                f"{what} must hold distinct colors. Got {_hex(row)} as both entry {first} and entry {i}."
            )
    return palette


def check_palette(palette, *, caller: str = "check_palette", name: str = "palette") -> np.ndarray:
    """Validate a palette array and return it as a contiguous ``uint8`` copy.

    Parameters
    ----------
    palette : array_like of ints, shape (k, 3) or (k, 4)
        RGB or RGBA entries in [0, 255], ``1 <= k <= 256``, all distinct.
    caller, name : str
        Used in error messages: "The '{name}' parameter of {caller} ...".

    Raises
    ------
    TypeError
        Not an array of integers (floats, booleans, strings, ragged lists).
    ValueError
        Wrong shape, no colors or more than 256, a value outside [0, 255], or
        two equal entries (the message names both indices and the color).

    Examples
    --------
    >>> check_palette([[0, 0, 0], [255, 255, 255]])
    array([[  0,   0,   0],
           [255, 255, 255]], dtype=uint8)
    >>> check_palette([[0, 0, 0], [0, 0, 0]])
    Traceback (most recent call last):
    ...
    ValueError: The 'palette' parameter of check_palette must hold distinct colors.
    Got #000000 as both entry 0 and entry 1.
    """
    what = f"The {name!r} parameter of {caller}"
    if isinstance(palette, str | bytes | os.PathLike):
        raise TypeError(
            f"{what} must be an integer array of shape (k, 3) or (k, 4). Got {_describe(palette)} instead "
            "(read names, hex colors and files with vqimage.palettes.load_palette)."
        )
    try:
        array = np.asarray(palette)
    except (ValueError, TypeError):  # ragged nested lists
        raise TypeError(
            f"{what} must be an integer array of shape (k, 3) or (k, 4). Got {_describe(palette)} instead."
        ) from None
    if array.dtype.kind not in "ui":
        if array.size == 0 and array.dtype.kind == "f":  # np.asarray([]) is float64
            raise ValueError(f"{what} must hold 1 to {MAX_COLORS} colors. Got 0 instead.")
        raise TypeError(
            f"{what} must be an integer array of shape (k, 3) or (k, 4) with values in [0, 255]. "
            f"Got dtype {array.dtype} instead"
            + (" (round and convert with .astype(np.uint8))." if array.dtype.kind == "f" else ".")
        )
    if array.ndim != 2 or array.shape[1] not in (3, 4):
        raise ValueError(
            f"{what} must have shape (k, 3) (RGB) or (k, 4) (RGBA). Got shape {array.shape} instead."
        )
    return _check_colors(array, what, ValueError)


# --------------------------------------------------------------------------- hex colors


def _hex(row) -> str:
    return "#" + bytes(np.asarray(row, dtype=np.uint8)).hex()


def _parse_hex(token: str) -> tuple[int, ...] | None:
    """(r, g, b) or (r, g, b, a) for a hex color token, None if it is not one."""
    match = _HEX_HASH.fullmatch(token) or _HEX_BARE.fullmatch(token)
    if match is None:
        return None
    digits = match.group(1)
    if len(digits) in (3, 4):
        digits = "".join(d + d for d in digits)
    return tuple(bytes.fromhex(digits))


def _hex_rows_to_array(rows: list[tuple[int, ...]]) -> np.ndarray:
    if not rows:
        return np.zeros((0, 3), np.int64)
    if any(len(r) == 4 for r in rows):
        rows = [r if len(r) == 4 else (*r, 255) for r in rows]
    return np.array(rows, dtype=np.int64).reshape(len(rows), -1)


def _parse_hex_tokens(tokens: list[str], what: str) -> np.ndarray:
    rows = []
    for position, token in enumerate(tokens):
        color = _parse_hex(token)
        if color is None:
            raise ValueError(
                f"{what} must be hex colors ({_HEX_FORMS}) separated by commas or spaces. "
                f"Got {token!r} (color {position}) instead."
            )
        rows.append(color)
    return _hex_rows_to_array(rows)


def to_hex(palette) -> list[str]:
    """Hex strings of a palette: ``'#rrggbb'``, or ``'#rrggbbaa'`` for RGBA.

    Examples
    --------
    >>> to_hex(load_palette("epaper-bwr"))
    ['#000000', '#ffffff', '#ff0000']
    >>> to_hex([[255, 0, 0, 128]])
    ['#ff000080']
    """
    return [_hex(row) for row in check_palette(palette, caller="to_hex")]


# --------------------------------------------------------------------------- load


def load_palette(spec) -> np.ndarray:
    """A palette from a preset name, hex colors, a list, an array or a file.

    Parameters
    ----------
    spec : str, path-like, list, tuple or ndarray
        See the module docstring for every accepted form.

    Returns
    -------
    ndarray of uint8, shape (k, 3), or (k, 4) when the source carries alpha
        A new array; modifying it changes no preset.

    Raises
    ------
    TypeError
        ``spec`` is of another type, or a list mixes strings and numbers.
    ValueError
        Unknown name, malformed hex color, no colors or more than 256, values
        outside [0, 255], or duplicate colors.
    FileNotFoundError
        ``spec`` looks like a file name (palette or image extension, or a
        path separator) but no such file exists.
    VQError
        A malformed palette file or an unreadable image (a ValueError).

    Examples
    --------
    >>> load_palette("gray4")
    array([[  0,   0,   0],
           [ 85,  85,  85],
           [170, 170, 170],
           [255, 255, 255]], dtype=uint8)
    >>> load_palette("#f00, 00ff00 #0000ff80")
    array([[255,   0,   0, 255],
           [  0, 255,   0, 255],
           [  0,   0, 255, 128]], dtype=uint8)
    >>> load_palette([(0, 0, 0), (255, 255, 255)]).shape
    (2, 3)
    """
    what = "The 'spec' parameter of load_palette"
    if isinstance(spec, np.ndarray):
        return check_palette(spec, caller="load_palette", name="spec")
    if isinstance(spec, list | tuple):
        if spec and all(isinstance(item, str) for item in spec):
            return _check_colors(_parse_hex_tokens([s.strip() for s in spec], what), what, ValueError)
        if any(isinstance(item, str | bytes) for item in spec):
            raise TypeError(
                f"{what} must be a list of hex strings or a list of (r, g, b[, a]) ints, not a mix. "
                f"Got {_describe(spec)} instead."
            )
        return check_palette(spec, caller="load_palette", name="spec")
    if isinstance(spec, os.PathLike):
        return _load_file(Path(spec))
    if not isinstance(spec, str):
        raise TypeError(f"{what} must be {_SPEC_KINDS}. Got {type(spec).__name__} {_describe(spec)} instead.")

    text = spec.strip()
    if not text:
        raise ValueError(f"{what} must be {_SPEC_KINDS}. Got an empty string instead.")
    path = Path(spec)
    kind = _path_kind(path)
    if kind == "file":
        return _load_file(path)
    if text in PRESETS:
        return PRESETS[text][1].copy()
    if kind == "other":
        raise VQError(f"{spec}: not a regular file.")
    looks_like_file = path.suffix.lower() in _FILE_SUFFIXES or os.sep in spec or "/" in spec
    if looks_like_file and "#" not in spec:
        raise FileNotFoundError(f"{spec}: no such palette file.")
    tokens = [t for t in re.split(r"[\s,]+", text) if t]
    if "#" in text or "," in text or len(tokens) > 1 or _parse_hex(text) is not None:
        return _check_colors(_parse_hex_tokens(tokens, what), what, ValueError)
    raise ValueError(
        f"{what} must be a preset name (one of {', '.join(PRESETS)}), hex colors ({_HEX_FORMS}) or an "
        f"existing file. Got {spec!r} instead."
    )


def _path_kind(path: Path) -> str:
    """'file', 'other' (a directory, ...) or 'none'; a long hex string is no path (ENAMETOOLONG)."""
    try:
        if path.is_file():
            return "file"
        return "other" if path.exists() else "none"
    except OSError:
        return "none"


def _load_file(path: Path) -> np.ndarray:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such palette file.")
    if not path.is_file():
        raise VQError(f"{path}: not a regular file.")
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".act":
        return _read_act(data, path)
    if suffix in (".gpl", ".hex", ".txt", ".json"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise VQError(f"{path}: not a UTF-8 text palette ({exc.reason} at byte {exc.start}).") from None
        reader = {".gpl": _read_gpl, ".json": _read_json}.get(suffix, _read_hex_lines)
        return _check_colors(reader(text, path), str(path), VQError)
    return _read_image(data, path)


def _read_gpl(text: str, path: Path) -> np.ndarray:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "GIMP Palette":
        raise VQError(f"{path}: not a GIMP palette (the first line must be 'GIMP Palette').")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or re.match(r"(Name|Columns)\s*:", stripped):
            continue
        fields = stripped.split(None, 3)
        try:
            rows.append(tuple(int(v) for v in fields[:3]))
            if len(fields) < 3:
                raise ValueError
        except ValueError:
            raise VQError(f"{path}: line {number}: expected 'R G B [name]' with ints in [0, 255]. "
                          f"Got {line!r}.") from None
    return np.array(rows, dtype=np.int64).reshape(len(rows), 3)


def _read_hex_lines(text: str, path: Path) -> np.ndarray:
    rows = []
    argb = False  # paint.net palettes: AARRGGBB, ';' comments
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith((";", "//")):
            argb = argb or "paint.net" in stripped.lower()
            continue
        color = _parse_hex(stripped)
        if color is None:
            if stripped.startswith("#"):
                continue  # a comment: '#' followed by something that is not a color
            raise VQError(f"{path}: line {number}: expected one hex color ({_HEX_FORMS}). Got {line!r}.")
        if argb and len(color) == 4:
            color = (*color[1:], color[0])
        rows.append(color)
    return _hex_rows_to_array(rows)


def _read_json(text: str, path: Path) -> np.ndarray:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VQError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}).") from None
    if isinstance(value, dict) and "colors" in value:
        value = value["colors"]  # lospec's JSON
    if not isinstance(value, list):
        raise VQError(f"{path}: expected a JSON list of colors (or an object with a 'colors' list). "
                      f"Got {type(value).__name__}.")
    if all(isinstance(item, str) for item in value):
        rows = []
        for position, item in enumerate(value):
            color = _parse_hex(item.strip())
            if color is None:
                raise VQError(f"{path}: color {position}: expected a hex color ({_HEX_FORMS}). Got {item!r}.")
            rows.append(color)
        return _hex_rows_to_array(rows)
    lengths = {len(item) if isinstance(item, list) else -1 for item in value}
    if lengths - {3, 4} or len(lengths) > 1 or not all(
        isinstance(v, int) and not isinstance(v, bool) for item in value for v in item
    ):
        raise VQError(f"{path}: expected a list of hex strings, or of [r, g, b] / [r, g, b, a] int lists "
                      f"of one length. Got {_describe(value)}.")
    return np.array(value, dtype=np.int64)


def _read_act(data: bytes, path: Path) -> np.ndarray:
    if len(data) not in (768, 772):
        raise VQError(f"{path}: an Adobe Color Table has 768 or 772 bytes. Got {len(data)}.")
    rgb = np.frombuffer(data[:768], dtype=np.uint8).reshape(256, 3)
    if len(data) == 768:
        # No count: the trailing run of black entries is taken as padding (a
        # 772-byte file, as Photoshop writes for < 256 colors, keeps a final black).
        nonblack = np.flatnonzero(rgb.any(axis=1))
        count = int(nonblack[-1]) + 1 if nonblack.size else 1
        transparent = 0xFFFF
    else:
        count = int.from_bytes(data[768:770], "big")
        transparent = int.from_bytes(data[770:772], "big")
        if not 1 <= count <= 256:
            raise VQError(f"{path}: the color count must be in [1, 256]. Got {count}.")
    palette = rgb[:count]
    if transparent < count:  # 0xFFFF (or anything past the colors): no transparency
        alpha = np.full((count, 1), 255, np.uint8)
        alpha[transparent] = 0
        palette = np.hstack([palette, alpha])
    return _check_colors(palette, str(path), VQError)


def _read_image(data: bytes, path: Path) -> np.ndarray:
    import io

    from PIL import Image, UnidentifiedImageError

    indexed = None
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.mode in ("P", "PA"):
                img.load()
                indexed = img.copy()
                indexed.format = img.format
    except (UnidentifiedImageError, OSError, ValueError):
        pass  # not something Pillow reads; decode_image may still (TIFF, JPEG XL)
    if indexed is not None:
        return _image_palette(indexed, path)
    from .io import decode_image

    try:
        pixels = decode_image(data, gray=False, name=str(path))
    except VQError as exc:
        raise VQError(
            f"{path}: not a palette file ({', '.join(PALETTE_FORMATS)}) nor a readable image ({exc})."
        ) from None
    return _distinct_colors(pixels, path)


def _image_palette(img, path: Path) -> np.ndarray:
    raw_mode = "RGBA" if img.palette is not None and img.palette.mode == "RGBA" else "RGB"
    entries = np.array(img.getpalette(raw_mode) or [], dtype=np.uint8).reshape(-1, len(raw_mode))
    transparency = img.info.get("transparency")
    if raw_mode == "RGB" and transparency is not None:
        alpha = np.full(len(entries), 255, np.uint8)
        if isinstance(transparency, bytes):
            alpha[: len(transparency)] = np.frombuffer(transparency[: len(entries)], np.uint8)
        elif 0 <= transparency < len(entries):
            alpha[transparency] = 0
        entries = np.column_stack([entries, alpha])
    if img.format != "PNG":
        # GIF (and BMP) color tables are padded, GIF's to a power of two: unused
        # trailing entries that are black or repeat an earlier one are dropped.
        used = int(np.asarray(img.getchannel(0) if img.mode == "PA" else img).max()) + 1
        end = len(entries)
        while end > max(used, 1):
            row = entries[end - 1]
            if row[:3].any() and not (entries[: end - 1] == row).all(axis=1).any():
                break
            end -= 1
        entries = entries[:end]
        if entries.shape[1] == 4 and raw_mode == "RGB" and (entries[:, 3] == 255).all():
            entries = entries[:, :3]  # the transparent index was padding
    return _check_colors(entries, str(path), VQError)


def _distinct_colors(pixels: np.ndarray, path: Path) -> np.ndarray:
    if pixels.dtype != np.uint8:
        raise VQError(f"{path}: a {pixels.dtype} image; palettes hold 8-bit colors (uint8).")
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=-1)
    elif pixels.ndim == 3 and pixels.shape[-1] == 2:  # gray + alpha
        pixels = pixels[..., [0, 0, 0, 1]]
    elif not (pixels.ndim == 3 and pixels.shape[-1] in (3, 4)):
        raise VQError(f"{path}: an image of shape {pixels.shape}; expected gray, RGB or RGBA.")
    channels = pixels.shape[-1]
    flat = pixels.reshape(-1, channels)
    keys = np.zeros(len(flat), np.uint32)
    for c in range(channels):
        keys = (keys << np.uint32(8)) | flat[:, c]
    _, first = np.unique(keys, return_index=True)
    if len(first) > MAX_COLORS:
        raise VQError(
            f"{path}: {len(first)} distinct colors; a palette holds at most {MAX_COLORS}. "
            "Quantize the image first, or give a palette image."
        )
    return _check_colors(flat[np.sort(first)], str(path), VQError)


# --------------------------------------------------------------------------- save


def save_palette(path, palette, *, force: bool = False) -> Path:
    """Write a palette file, format by extension, atomically.

    =========  ==============================================================
    extension  content
    =========  ==============================================================
    ``.gpl``   GIMP palette: ``Name`` (the file stem), ``R G B #rrggbb`` lines
    ``.hex``   one ``rrggbb`` per line, no ``#`` (lospec)
    ``.txt``   one ``#rrggbb`` per line
    ``.json``  a list of ``"#rrggbb"`` strings
    ``.act``   Adobe Color Table, 772 bytes (count and transparent index)
    =========  ==============================================================

    RGBA palettes write ``rrggbbaa`` in ``.hex``, ``.txt`` and ``.json``.
    ``.gpl`` and ``.act`` hold no alpha: an RGBA palette is written there
    only when its alpha is all 255 (``.act`` also takes one entry with alpha 0,
    its transparent index), and reads back as RGB.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``force`` is False.
    ValueError
        Unknown extension, or alpha the format cannot hold.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> written = save_palette(folder / "bwr.gpl", load_palette("epaper-bwr"))
    >>> print(written.read_text())
    GIMP Palette
    Name: bwr
    Columns: 0
    #
      0   0   0 #000000
    255 255 255 #ffffff
    255   0   0 #ff0000
    >>> to_hex(load_palette(written))
    ['#000000', '#ffffff', '#ff0000']
    """
    from .io import write_atomic

    palette = check_palette(palette, caller="save_palette")
    path = Path(path)
    suffix = path.suffix.lower()
    hexes = [_hex(row) for row in palette]
    if suffix == ".gpl":
        rgb = _opaque_rgb(palette, path, "GIMP palettes (.gpl)")
        lines = ["GIMP Palette", f"Name: {path.stem}", "Columns: 0", "#"]
        lines += [f"{r:3d} {g:3d} {b:3d} {_hex((r, g, b))}" for r, g, b in rgb.tolist()]
        data = ("\n".join(lines) + "\n").encode()
    elif suffix in (".hex", ".txt"):
        data = "".join((h[1:] if suffix == ".hex" else h) + "\n" for h in hexes).encode()
    elif suffix == ".json":
        data = (json.dumps(hexes) + "\n").encode()
    elif suffix == ".act":
        transparent = 0xFFFF
        if palette.shape[1] == 4:
            clear = np.flatnonzero(palette[:, 3] == 0)
            if len(clear) == 1 and np.count_nonzero(palette[:, 3] == 255) == len(palette) - 1:
                transparent = int(clear[0])
        rgb = _opaque_rgb(palette, path, "Adobe Color Tables (.act)", transparent)
        table = np.zeros((256, 3), np.uint8)
        table[: len(rgb)] = rgb
        data = table.tobytes() + len(rgb).to_bytes(2, "big") + transparent.to_bytes(2, "big")
    else:
        raise ValueError(
            f"The 'path' parameter of save_palette must end in one of {', '.join(PALETTE_FORMATS)}. "
            f"Got {str(path)!r} instead."
        )
    return write_atomic(path, data, force=force)


def _opaque_rgb(palette: np.ndarray, path: Path, fmt: str, transparent: int = 0xFFFF) -> np.ndarray:
    if palette.shape[1] == 4:
        alpha = palette[:, 3].copy()
        if transparent != 0xFFFF:
            alpha[transparent] = 255
        if (alpha != 255).any():
            i = int(np.flatnonzero(alpha != 255)[0])
            allowed = "alpha 255"
            if fmt.endswith("(.act)"):
                allowed += " (and at most one entry with alpha 0)"
            raise ValueError(
                f"{path}: {fmt} hold no alpha: every entry needs {allowed}. Got alpha {int(palette[i, 3])} "
                f"in entry {i}. Write .hex, .txt or .json instead."
            )
    return palette[:, :3]


def palette_codebook(palette, *, mode: str = "color"):
    """A codebook that maps every pixel to the nearest color of a given palette, in its order.

    Parameters
    ----------
    palette : preset name, hex colors, list, array or file
        Anything :func:`load_palette` reads.
    mode : {'color', 'gray'}
        'color': RGB (or RGBA) codewords, for color images. 'gray': a gray
        codebook for gray images; the palette must be gray (R = G = B,
        opaque) and strictly increasing, and codes keep its order.

    Examples
    --------
    >>> import numpy as np
    >>> cb = palette_codebook("gray4", mode="gray")
    >>> import vqimage
    >>> cb.levels, vqimage.encode(np.array([0, 40, 50, 255], dtype=np.uint8), cb)
    (array([  0.,  85., 170., 255.]), array([0, 0, 1, 3], dtype=uint8))
    >>> vqimage.encode(np.array([[[200, 0, 90]]], dtype=np.uint8), palette_codebook("#ff0000, #0000ff"))
    array([[0]], dtype=uint8)
    """
    from ._validation import Options, check_param
    from .codebook import Codebook

    check_param("mode", mode, Options(("color", "gray")), caller="palette_codebook")
    colors = load_palette(palette)
    if mode == "color":
        return Codebook(colors, None, strategy="palette", reconstruction="palette", dtype=np.uint8, mode="color")
    gray = colors[:, 0].astype(np.float64)
    opaque = colors.shape[1] == 3 or (colors[:, 3] == 255).all()
    if not (opaque and (colors[:, :3] == colors[:, :1]).all()):
        raise ValueError(
            "A gray codebook needs a gray palette (R = G = B, opaque); this one has colors "
            f"{', '.join(to_hex(colors)[:4])}{', ...' if len(colors) > 4 else ''}. Use mode='color'."
        )
    if gray.size > 1 and (np.diff(gray) <= 0).any():
        raise ValueError(
            "A gray codebook keeps the palette's order only when it increases; this one is "
            f"{', '.join(to_hex(colors))}. Use mode='color' to keep this order."
        )
    edges = np.concatenate([[0.0], (gray[1:] + gray[:-1]) / 2, [255.0]])
    return Codebook(gray, edges, strategy="palette", reconstruction="palette", dtype=np.uint8)
