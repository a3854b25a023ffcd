"""Fuzzing the two readers of untrusted bytes: the .vq decoder and the image loaders.

Each target runs in a child process under a 2 GiB address-space limit (RLIMIT_AS), where hypothesis
mutates valid seed files -- flipped, set, cut, inserted and duplicated bytes, boundary integers written
over length and size fields, truncation -- and then repairs the checksums half of the time, so that the
mutations reach the parsers behind them (PNG chunk CRCs; the .vq file's CRC, with its JSON header also
mutated as JSON). For every input the only exception allowed is VQError, whose message is one line;
MemoryError, RecursionError or anything else fails, as does a crash (the input that killed the child is
kept) or any text on stderr (a decoder's warning).

* ``.vq``: ``vq_info`` and ``decompress_image`` on mutations of the golden files (gray, color, block;
  packed and context-coded). tests/pack/test_container.py fuzzes ``decompress`` in process with byte
  mutations under a fixed CRC; this adds the memory limit, the image decode, header-as-JSON mutations and
  the one-line check.
* images: ``read_image`` (gray and color) on mutations of PngSuite and of small generated TIFF (strips,
  tiles, planar, palette, compressed, multi-page), GIF, JPEG (EXIF, ICC, progressive), BMP (RLE too),
  WebP, PPM, TGA and JPEG XL files.

``make test`` runs a short derandomized pass (``FUZZ_EXAMPLES`` per target); ``make fuzz`` a long one,
``VQIMAGE_FUZZ_EXAMPLES=20000 pytest -s tests/test_fuzz.py::test_fuzz``, from a new random seed that the
report prints (``VQIMAGE_FUZZ_SEED=<int>`` repeats a run). By hand:
``python tests/test_fuzz.py fuzz images 5000 [--seed N] [--keep DIR]``. A failure prints the traceback and
keeps the shrunk input; put it in tests/data/fuzz/ (replayed on every run, and a seed from then on):
``python tests/test_fuzz.py replay tests/data/fuzz/*``.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
#: Examples per target in ``make test``: about 12 s for the images, 6 s for .vq, on one core.
FUZZ_EXAMPLES = 1500
#: The address-space limit of the child process.
MEMORY_LIMIT = 2 << 30
#: The pixel limit the images are read under (1/8 of the default): a 2**27-pixel image is a legitimate
#: input that needs several GiB to convert, which is not what the fuzzer looks for; headers declaring
#: more than this are refused before decoding, as at the default.
FUZZ_MAX_PIXELS = 1 << 24

INTERESTING = (0, 1, 2, 7, 8, 15, 16, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
               0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


# --------------------------------------------------------------------------- seeds


def vq_seeds() -> list[bytes]:
    """The golden .vq files: gray at 2, 8 and 64 levels, color, blocks; packed and context-coded."""
    paths = sorted((HERE / "golden").glob("*.vq")) + sorted((HERE / "data" / "fuzz").glob("*.vq"))
    return [path.read_bytes() for path in paths]


def image_seeds() -> list[bytes]:
    """PngSuite's valid files and small files of every other format the loaders read."""
    import imagecodecs
    import numpy as np
    import tifffile
    from PIL import Image

    rng = np.random.default_rng(13)
    gray = rng.integers(0, 256, (12, 10), dtype=np.uint8)
    rgb = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    seeds = [path.read_bytes() for path in sorted((HERE / "data" / "pngsuite").glob("[!x]*.png"))]
    seeds += [path.read_bytes() for path in sorted((HERE / "data" / "fuzz").iterdir()) if path.suffix != ".vq"]

    def pillow(array, fmt, mode=None, **kwargs):
        out = io.BytesIO()
        Image.fromarray(array, mode).save(out, format=fmt, **kwargs)
        return out.getvalue()

    def tiff(array, **kwargs):
        out = io.BytesIO()
        tifffile.imwrite(out, array, **kwargs)
        return out.getvalue()

    exif = Image.Exif()
    exif[0x0112] = 6
    seeds += [
        tiff(gray), tiff(rgb, compression="zlib"), tiff(gray.astype(np.uint16) * 257, compression="lzw"),
        tiff(rgb, tile=(16, 16)), tiff(np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate"),
        tiff(gray, photometric="palette", colormap=rng.integers(0, 65536, (3, 256), dtype=np.uint16)),
        tiff(gray, photometric="miniswhite", compression="packbits"), tiff(gray.astype(np.float32) / 255),
        tiff(np.stack([gray, gray])), tiff(rgb, extratags=[(274, "H", 1, 3, True)], iccprofile=b"icc" * 40),
        pillow(rgb, "GIF"), pillow(gray, "GIF", transparency=3),
        pillow(rgb, "JPEG", quality=80, exif=exif.tobytes(), icc_profile=b"icc" * 40),
        pillow(gray, "JPEG", progressive=True), pillow(rgb, "BMP"), pillow(gray, "BMP"),
        pillow(rgb, "WEBP", lossless=True), pillow(rgb, "WEBP", quality=50), pillow(rgb, "PPM"),
        pillow(gray, "PPM"), pillow(np.dstack([gray, gray]), "TGA", "LA"), pillow(rgb, "TGA", compression="tga_rle"),
        imagecodecs.jpegxl_encode(rgb, lossless=True),
        b"P5\n10 12\n65535\n" + (gray.astype(">u2") * 257).tobytes(),
    ]
    for fmt in ("GIF", "WEBP", "PNG"):  # animations, refused
        out = io.BytesIO()
        Image.fromarray(rgb).save(out, format=fmt, save_all=True, append_images=[Image.fromarray(rgb[::-1])])
        seeds.append(out.getvalue())
    seeds.append(_bmp_rle8(gray))  # Pillow reads RLE8 BMPs but does not write them
    return seeds


def _bmp_rle8(gray) -> bytes:
    """An 8-bit RLE-compressed BMP of ``gray`` (bottom-up rows, one run per pixel, end-of-line markers)."""
    height, width = gray.shape
    rows = [b"".join(bytes([1, int(v)]) for v in row) + b"\x00\x00" for row in gray[::-1]]
    body = b"".join(rows)[:-2] + b"\x00\x01"
    palette = b"".join(bytes([i, i, i, 0]) for i in range(256))
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(body), 2835, 2835, 256, 0)
    offset = 14 + len(info) + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset) + info + palette + body


# --------------------------------------------------------------------------- mutations


def mutate(data, blob: bytes) -> bytes:
    """A few random edits of ``blob``, positions biased to the headers; ``data`` is hypothesis' st.data()."""
    from hypothesis import strategies as st

    buf = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        size = len(buf)
        # Half in the first 96 bytes (headers) but past the signatures, which mutated only say "unknown".
        position = data.draw(st.one_of(st.integers(min(size, 4), min(size, 96)), st.integers(0, size)), label="at")
        kind = data.draw(st.sampled_from(["flip", "set", "int", "cut", "insert", "copy", "truncate"]))
        if kind == "flip" and position < size:
            buf[position] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "set" and position < size:
            buf[position] = data.draw(st.integers(0, 255))
        elif kind == "int":
            width = data.draw(st.sampled_from([1, 2, 4]))
            value = data.draw(st.sampled_from(INTERESTING)) & ((1 << (8 * width)) - 1)
            buf[position : position + width] = value.to_bytes(width, data.draw(st.sampled_from(["big", "little"])))
        elif kind == "cut":
            del buf[position : position + data.draw(st.integers(1, 64))]
        elif kind == "insert":
            buf[position:position] = data.draw(st.binary(min_size=1, max_size=16))
        elif kind == "copy" and size:
            start = data.draw(st.integers(0, size - 1))
            buf[position:position] = buf[start : start + data.draw(st.integers(1, 256))]
        elif kind == "truncate":
            del buf[position:]
    return bytes(buf)


def fix_png_crcs(blob: bytes) -> bytes:
    """Every complete chunk of a PNG with its CRC recomputed (so a mutation reaches the chunk's parser)."""
    buf = bytearray(blob)
    pos = 8
    while pos + 12 <= len(buf):
        (length,) = struct.unpack(">I", buf[pos : pos + 4])
        end = pos + 8 + length
        if end + 4 > len(buf):
            break
        buf[end : end + 4] = struct.pack(">I", zlib.crc32(buf[pos + 4 : end]))
        pos = end + 4
    return bytes(buf)


def vq_reseal(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


def mutate_vq(data, blob: bytes, region: str | None = None) -> bytes:
    """A mutated .vq file: its JSON header (as JSON or as text), payload or fixed fields, re-sealed with
    valid lengths and CRC so that the edit reaches the parser; or the whole file as bytes, unsealed."""
    from hypothesis import strategies as st

    hlen, plen = struct.unpack_from("<IQ", blob, 12)
    head, raw, payload = blob[:24], blob[24 : 24 + hlen], blob[24 + hlen : 24 + hlen + plen]
    if region is None:
        region = data.draw(st.sampled_from(["json", "json text", "payload", "fixed", "whole"]), label="region")
    if region == "whole":
        return mutate(data, blob)
    if region == "json":
        raw = zlib.compress(json.dumps(mutate_json(data, json.loads(zlib.decompress(raw)))).encode())
    elif region == "json text":
        raw = zlib.compress(mutate(data, zlib.decompress(raw)))
    elif region == "payload":
        payload = mutate(data, payload)
    if region == "fixed":  # version, flags and the two lengths, as mutated (a wrong magic is refused first)
        head = head[:8] + (mutate(data, head[8:]) + bytes(16))[:16]
    else:
        head = head[:12] + struct.pack("<IQ", len(raw), len(payload))
    return vq_reseal(head + raw + payload)


def mutate_json(data, header):
    """``header`` (parsed JSON) with one value, anywhere in it, replaced by a hostile one."""
    from hypothesis import strategies as st

    leaves = []

    def walk(node, path):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            leaves.append((*path, key))
            walk(value, (*path, key))

    walk(header, ())
    where = data.draw(st.sampled_from(leaves), label="field")
    values = st.one_of(
        st.sampled_from([None, True, -1, 0, 1, 2**31, 2**63, -(2**63), 10**30, 1e308, -0.5, "", "x" * 300,
                         [], {}, [[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]], [2**40, 2**40], [-1, 3]]),
        st.integers(), st.floats(), st.text(max_size=8), st.lists(st.integers(-3, 2**33), max_size=4),
    )
    node = header
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = data.draw(values, label="value")
    return header


# --------------------------------------------------------------------------- the checks


def _one_line(exc: BaseException) -> str:
    message = str(exc)
    assert message and "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    assert len(message) <= 400, f"{len(message)} characters: {message[:80]!r}..."
    return type(exc).__name__


def check_vq(blob: bytes) -> str:
    """``vq_info`` and ``decompress_image`` on ``blob``: an image, or one VQError line; nothing else."""
    import numpy as np

    import vqimage

    try:
        info = vqimage.vq_info(blob)
        image = vqimage.decompress_image(blob)
    except vqimage.VQError as exc:
        return _one_line(exc)
    assert isinstance(info, dict) and isinstance(image, np.ndarray) and image.size > 0
    return "decoded"


def check_image(blob: bytes, gray: bool) -> str:
    """``read_image`` on ``blob``: a gray, RGB or RGBA array and its ImageMeta, or one VQError line."""
    from vqimage import VQError
    from vqimage.io import ImageMeta, read_image

    try:
        image, meta = read_image(blob, gray=gray, max_pixels=FUZZ_MAX_PIXELS, name="fuzz.bin")
    except VQError as exc:
        return _one_line(exc)
    assert isinstance(meta, ImageMeta) and 1 <= meta.orientation <= 8
    assert image.size > 0 and image.dtype.kind in "uif"
    assert image.ndim == 2 if gray else image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (3, 4))
    return "decoded"


def _limit_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


# --------------------------------------------------------------------------- the child process


def run_target(target: str, examples: int, seed: int | None, keep: Path) -> int:
    """Fuzz ``target`` ('vq' or 'images') in this process; print a summary; 0 when nothing failed."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded
    from hypothesis import strategies as st

    seeds = vq_seeds() if target == "vq" else image_seeds()
    if target == "vq":  # the imports, before the limit
        check_vq(seeds[0])
    else:
        check_image(seeds[0], True)
    _limit_memory()
    current = keep / f"{target}-current.bin"
    outcomes: dict[str, int] = {}

    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def fuzz(data):
        blob = seeds[data.draw(st.integers(0, len(seeds) - 1), label="seed")]
        if target == "vq":
            blob = mutate_vq(data, blob)
        else:
            blob = mutate(data, blob)
            if blob.startswith(b"\x89PNG") and data.draw(st.booleans(), label="fix CRCs"):
                blob = fix_png_crcs(blob)
        current.write_bytes(blob)  # what a crash leaves behind
        if target == "vq":
            outcome = check_vq(blob)
        else:
            outcome = check_image(blob, gray=data.draw(st.booleans(), label="gray"))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    if seed is not None:
        fuzz = seeded(seed)(fuzz)
    start = time.perf_counter()
    try:
        fuzz()
    except Exception as exc:  # noqa: BLE001 - hypothesis re-raises the shrunk failure: report it
        import traceback

        failure = keep / f"{target}-failure.bin"
        failure.write_bytes(current.read_bytes())
        print(f"FUZZ FAILURE ({target}): {type(exc).__name__}: {str(exc)[:300]}; input kept in {failure}")
        traceback.print_exc(file=sys.stdout)
        return 1
    seconds = time.perf_counter() - start
    total = sum(outcomes.values())
    print(f"{target}: {total} inputs in {seconds:.1f} s ({total / seconds:.0f}/s), seed "
          f"{'derandomized' if seed is None else seed}; outcomes {dict(sorted(outcomes.items()))}")
    return 0


def replay(paths: list[Path]) -> int:
    """Run the checks on saved inputs (``.vq`` files through the .vq reader, others both gray and color)."""
    import traceback

    check_vq(vq_seeds()[0])  # the imports, before the limit
    check_image(vq_seeds()[0], True)
    _limit_memory()
    for path in paths:
        blob = path.read_bytes()
        try:
            outcomes = [check_vq(blob)] if path.suffix == ".vq" else [check_image(blob, g) for g in (True, False)]
        except Exception:  # noqa: BLE001 - report it as the fuzzer would
            print(f"FAILURE {path.name}")
            traceback.print_exc(file=sys.stdout)
            return 1
        print(f"{path.name}: {', '.join(outcomes)}")
    return 0


# --------------------------------------------------------------------------- the tests

REGRESSIONS = HERE / "data" / "fuzz"  # inputs the fuzzer found, kept as seeds and replayed every run


def _child(arguments: list[str], keep: Path, timeout: float) -> str:
    """Run this file as a child process; fail on a crash, a non-zero exit or text on stderr."""
    env = os.environ | {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        child = subprocess.run([sys.executable, str(Path(__file__)), *arguments], capture_output=True, text=True,
                               check=False, env=env, cwd=HERE.parent, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"no answer in {exc.timeout:.0f} s; the last input is in {keep}")
    report = child.stdout.strip()
    print(report)
    if child.returncode < 0:  # killed by a signal: a crash in a decoder
        pytest.fail(f"the child died of signal {-child.returncode}; the input is in {keep}\n{report}\n"
                    f"{child.stderr}")
    assert child.returncode == 0, f"{report}\n{child.stderr}"
    assert child.stderr == "", f"text reached stderr:\n{child.stderr[:2000]}"
    return report


@pytest.mark.parametrize("target", [
    "vq",
    "images",
])
def test_fuzz(target, tmp_path):
    """The target survives ``VQIMAGE_FUZZ_EXAMPLES`` mutated inputs in a child limited to 2 GiB."""
    examples = int(os.environ.get("VQIMAGE_FUZZ_EXAMPLES", FUZZ_EXAMPLES))
    seed = os.environ.get("VQIMAGE_FUZZ_SEED")
    if seed is None and "VQIMAGE_FUZZ_EXAMPLES" in os.environ:  # a long run explores: a new seed, reported
        import random

        seed = str(random.SystemRandom().randrange(2**32))
    arguments = ["fuzz", target, str(examples), "--keep", str(tmp_path), *(["--seed", seed] if seed else [])]
    report = _child(arguments, tmp_path, timeout=120 + examples * 0.5)
    assert f"{target}: " in report and "VQError" in report and "decoded" in report


@pytest.mark.parametrize("name", sorted(path.name for path in REGRESSIONS.iterdir()))
def test_fuzz_regressions(name, tmp_path):
    _child(["replay", str(REGRESSIONS / name)], REGRESSIONS / name, timeout=120)


def test_mutations_are_reproducible_and_repair_what_they_claim():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    png = (HERE / "data" / "pngsuite" / "basn0g08.png").read_bytes()
    broken = png[:40] + bytes([png[40] ^ 1]) + png[41:]
    assert fix_png_crcs(broken) != broken and fix_png_crcs(png) == png
    blob = vq_seeds()[0]
    assert vq_reseal(blob[:-4]) == blob

    @settings(max_examples=30, deadline=None, derandomize=True, database=None)
    @given(data=st.data())
    def sealed(data):
        region = data.draw(st.sampled_from(["json", "json text", "payload", "fixed"]))
        mutated = mutate_vq(data, blob, region)
        assert mutated[:8] == blob[:8] and zlib.crc32(mutated[:-4]) == struct.unpack("<I", mutated[-4:])[0]
        if region != "fixed":  # the lengths fit what follows
            hlen, plen = struct.unpack_from("<IQ", mutated, 12)
            assert 24 + hlen + plen + 4 == len(mutated)

    sealed()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Fuzz vqimage's readers (see the module docstring).")
    commands = parser.add_subparsers(dest="command", required=True)
    fuzzing = commands.add_parser("fuzz")
    fuzzing.add_argument("target", choices=["vq", "images"])
    fuzzing.add_argument("examples", type=int)
    fuzzing.add_argument("--seed", type=int)
    fuzzing.add_argument("--keep", type=Path, default=Path("."), help="where the last and failing inputs go")
    replaying = commands.add_parser("replay")
    replaying.add_argument("paths", type=Path, nargs="+")
    args = parser.parse_args()
    if args.command == "fuzz":
        sys.exit(run_target(args.target, args.examples, args.seed, args.keep))
    sys.exit(replay(args.paths))
