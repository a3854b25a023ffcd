"""Part 10: palettes judged as users judge them: file size and two perceptual scores, against pngquant.

People choose a palette tool by looking at the result and the file size. So
every output here is the PNG file a user would get, scored against the
original by

- SSIMULACRA2 (``vqimage.metrics.ssimulacra2``, the ``ssimulacra2``
  package; higher is better, 90 is visually lossless), and
- butteraugli (Debian's ``butteraugli`` tool; a distance, lower is better;
  it reports the worst region, so one badly matched spot decides it).

RGBA images are composited on a dark and on a light background and the worse
score counts (what a viewer may see). The tools, each with default settings
unless said otherwise:

- vqimage: ``vqimage.quantize(image, k).to_bytes("png")`` (what ``vqimage
  quantize IN -k K -o OUT.png`` writes: for RGB an Oklab palette and adaptive
  dithering in Oklab); with ``dither="none"`` (the Oklab palette,
  undithered); and ``space="rgb", dither="none"``, the palette of least RGB
  squared error (highest PSNR), for reference;
- pngquant 3 (``pip install pngquant-cli``, a GPL binary: benchmark extra
  only): ``pngquant K`` (dithered) and ``pngquant K --nofs``;
- Debian's pngquant 2.17: ``pngquant K``;
- libimagequant through ``imagequant`` (``dithering_level=1.0``), written by
  vqimage's PNG writer.

The RGBA case is scikit-image's logo with its white surround made
transparent (it ships opaque): a round icon with an anti-aliased edge.

A case is *won* when vqimage's file is no larger than pngquant 3's and scores
better on both judges. Times: vqimage and imagequant in-process (fit, remap,
PNG bytes; the median of 3 runs after one untimed), pngquant as whole
processes (start, read, write included).

Run by ``python -m benchmarks.run`` (part 10), or alone:
``python -m benchmarks.perceptual [--quick]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import status, table

BIN = Path(sys.executable).parent
PNGQUANT_3 = BIN / "pngquant"
PNGQUANT_2 = Path("/usr/bin/pngquant")
COLORS = (16, 64, 256)
VQ_TOOLS = {
    "vqimage": {},
    "vqimage no dither": {"dither": "none"},
    "vqimage rgb no dither": {"space": "rgb", "dither": "none"},
}


# --------------------------------------------------------------------------- images


def screenshot() -> np.ndarray:
    """A screenshot-like image: flat UI colors, text, a gradient bar and a photo inset (512x384)."""
    from PIL import Image, ImageDraw, ImageFont
    from skimage import data

    im = Image.new("RGB", (512, 384), (246, 247, 249))
    draw = ImageDraw.Draw(im)
    draw.rectangle([0, 0, 511, 39], fill=(36, 41, 47))
    font = ImageFont.load_default()
    draw.text((12, 12), "vqimage - palette benchmark", fill=(240, 246, 252), font=font)
    for i, color in enumerate([(31, 136, 61), (207, 34, 46), (9, 105, 218), (191, 135, 0)]):
        draw.rounded_rectangle([12 + 124 * i, 56, 124 * i + 124, 88], radius=6, fill=color)
        draw.text((24 + 124 * i, 66), f"Button {i + 1}", fill=(255, 255, 255), font=font)
    for row in range(12):
        draw.text((12, 104 + 16 * row), f"{row:2d}  The quick brown fox jumps over the lazy dog. 0123456789",
                  fill=(31, 35, 40) if row % 3 else (87, 96, 106), font=font)
    ramp = np.linspace(0, 1, 488)[None, :, None]
    bar = (np.array([9, 105, 218]) * (1 - ramp) + np.array([130, 80, 223]) * ramp).astype(np.uint8)
    im.paste(Image.fromarray(np.repeat(bar, 24, axis=0)), (12, 308))
    im.paste(Image.fromarray(data.astronaut()).resize((120, 120), Image.LANCZOS), (380, 104))
    return np.asarray(im)


def gradient() -> np.ndarray:
    """A smooth two-dimensional color gradient (512x256): where palettes band."""
    y, x = np.mgrid[0:256, 0:512] / np.array([255.0, 511.0])[:, None, None]
    rgb = np.stack([40 + 200 * x, 60 + 120 * y, 200 - 150 * x * y], axis=-1)
    return np.rint(rgb).astype(np.uint8)


def transparent_logo() -> np.ndarray:
    """scikit-image's logo as an icon: its white surround made transparent, the circle's edge anti-aliased.

    (``skimage.data.logo()`` is RGBA but opaque everywhere; an icon on a web
    page is not.)
    """
    from skimage import data

    logo = data.logo().copy()
    ys, xs = np.nonzero((logo[..., :3] < 250).any(axis=-1))  # the disc: everything not white
    cy, cx = (ys.min() + ys.max()) / 2.0, (xs.min() + xs.max()) / 2.0
    radius = (ys.max() - ys.min() + xs.max() - xs.min()) / 4.0 + 0.5
    y, x = np.mgrid[: logo.shape[0], : logo.shape[1]]
    coverage = np.clip(radius - np.hypot(y - cy, x - cx) + 0.5, 0.0, 1.0)
    logo[..., 3] = np.rint(255 * coverage).astype(np.uint8)
    return logo


def load_images(quick: bool) -> dict[str, np.ndarray]:
    from skimage import data

    images = {"astronaut": data.astronaut(), "coffee": data.coffee(), "chelsea": data.chelsea(),
              "rocket": data.rocket(), "logo (RGBA)": transparent_logo(), "screenshot": screenshot(),
              "gradient": gradient()}
    if quick:
        images = {name: images[name] for name in ("astronaut", "logo (RGBA)", "screenshot")}
    return images


# --------------------------------------------------------------------------- judges


def butteraugli(reference: np.ndarray, test: np.ndarray) -> float | None:
    """``vqimage.metrics.butteraugli`` (Debian's tool; the worse of the views), or None when the tool is missing."""
    if shutil.which("butteraugli") is None:
        return None
    from vqimage.metrics import butteraugli as score

    return score(reference, test)


def judge(reference: np.ndarray, png: bytes) -> dict:
    import io

    from PIL import Image

    from vqimage.metrics import psnr, ssimulacra2

    mode = "RGBA" if reference.shape[2] == 4 else "RGB"
    decoded = np.asarray(Image.open(io.BytesIO(png)).convert(mode))
    return {"bytes": len(png), "ssimulacra2": ssimulacra2(reference, decoded),
            "butteraugli": butteraugli(reference, decoded), "psnr": psnr(reference, decoded)}


# --------------------------------------------------------------------------- tools


def run_vqimage(image, k, options):
    import vqimage

    result = vqimage.quantize(image, k, **options)
    return result.to_bytes("png")


def run_imagequant(image, k):
    import imagequant

    from vqimage.pack.formats import png8

    h, w = image.shape[:2]
    rgba = image if image.shape[2] == 4 else np.dstack([image, np.full((h, w), 255, np.uint8)])
    out, pal = imagequant.quantize_raw_rgba_bytes(rgba.tobytes(), w, h, dithering_level=1.0, max_colors=k,
                                                  min_quality=0, max_quality=100)
    codes = np.frombuffer(out, np.uint8).reshape(h, w)
    palette = np.array(pal, np.uint8).reshape(-1, 4)[: int(codes.max()) + 1]
    return png8(codes, palette if image.shape[2] == 4 else palette[:, :3], optimize=True)


def in_process(fn, repeat=3):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times)


def run_pngquant(binary: Path, src: Path, k: int, extra: list[str], out: Path):
    start = time.perf_counter()
    subprocess.run([str(binary), str(k), "--force", "-o", str(out), *extra, str(src)], check=True,
                   capture_output=True)
    return out.read_bytes(), time.perf_counter() - start


# --------------------------------------------------------------------------- the part


def bench_perceptual(args, log):
    """Return (markdown section, goal rows)."""
    from PIL import Image

    images = load_images(args.quick)
    results: dict[tuple[str, int], dict[str, dict]] = {}
    missing = [name for name, path in (("pngquant 3", PNGQUANT_3), ("pngquant 2.17", PNGQUANT_2)) if not path.exists()]
    with tempfile.TemporaryDirectory(prefix="vqimage-perceptual-") as name:
        folder = Path(name)
        for image_name, image in images.items():
            src = folder / "input.png"
            Image.fromarray(image).save(src)
            for k in COLORS:
                row = {}
                for tool, options in VQ_TOOLS.items():
                    png, seconds = in_process(lambda: run_vqimage(image, k, options))
                    row[tool] = judge(image, png) | {"seconds": seconds}
                png, seconds = in_process(lambda: run_imagequant(image, k))
                row["imagequant"] = judge(image, png) | {"seconds": seconds}
                for tool, binary, extra in (("pngquant 3", PNGQUANT_3, []), ("pngquant 3 --nofs", PNGQUANT_3,
                                            ["--nofs"]), ("pngquant 2.17", PNGQUANT_2, [])):
                    if binary.exists():
                        png, seconds = run_pngquant(binary, src, k, extra, folder / "out.png")
                        row[tool] = judge(image, png) | {"seconds": seconds}
                results[(image_name, k)] = row
                log(f"part 10: {image_name} k={k}: vqimage {row['vqimage']['ssimulacra2']:.1f}, pngquant 3 "
                    f"{row.get('pngquant 3', {}).get('ssimulacra2', float('nan')):.1f}")
    return render(results, missing)


def wins(results, ours: str, theirs: str):
    """(cases won, cases compared, worst SSIMULACRA2 deficit, the worst case)."""
    won, n, worst, where = 0, 0, -np.inf, ""
    for (image, k), row in results.items():
        if ours not in row or theirs not in row:
            continue
        a, b = row[ours], row[theirs]
        n += 1
        both = a["butteraugli"] is not None and b["butteraugli"] is not None
        won += a["bytes"] <= b["bytes"] and a["ssimulacra2"] > b["ssimulacra2"] and (
            not both or a["butteraugli"] < b["butteraugli"])
        if b["ssimulacra2"] - a["ssimulacra2"] > worst:
            worst, where = b["ssimulacra2"] - a["ssimulacra2"], f"{image} {k}"
    return won, n, worst, where


def render(results, missing):
    tools = ["vqimage", "vqimage no dither", "vqimage rgb no dither", "pngquant 3", "pngquant 3 --nofs",
             "pngquant 2.17", "imagequant"]

    def cell(score, tool):
        if tool not in score:
            return "n/a"
        s = score[tool]
        ba = "n/a" if s["butteraugli"] is None else f"{s['butteraugli']:.2f}"
        return f"{s['bytes'] / 1000:.1f} KB, {s['ssimulacra2']:.1f}, {ba}, {s['seconds'] * 1000:.0f} ms"

    rows = [[f"{image} {k}"] + [cell(row, tool) for tool in tools] for (image, k), row in results.items()]
    pairs = [("vqimage", "pngquant 3", "default settings"),
             ("vqimage no dither", "pngquant 3 --nofs", "dithering off on both sides"),
             ("vqimage rgb no dither", "pngquant 3 --nofs", "vqimage's least-RGB-error palette vs pngquant --nofs"),
             ("vqimage", "pngquant 2.17", "defaults, against Debian's pngquant 2.17")]
    summary, goals = [], []
    for ours, theirs, what in pairs:
        won, n, worst, where = wins(results, ours, theirs)
        if n:
            summary.append([what, f"{won} of {n}", f"{worst:+.1f} ({where})"])
    speed = [row["vqimage"]["seconds"] / row["imagequant"]["seconds"] for row in results.values()]
    for ours, theirs, what in pairs[:2]:
        won, n, worst, where = wins(results, ours, theirs)
        if n:
            goals.append([f"palettes vs pngquant 3, {what}: cases won (no larger, better SSIMULACRA2 and "
                          "butteraugli)", ">= 90%", f"{won} of {n} ({won / n:.0%})", status(won >= 0.9 * n)])
            goals.append([f"palettes vs pngquant 3, {what}: SSIMULACRA2 never more than 2 behind", "<= 2",
                          f"{worst:+.1f} ({where})", status(worst <= 2)])
    goals.append(["palettes: vqimage's in-process time (fit, remap, PNG) vs imagequant's", "<= 1x in every case",
                  f"largest {max(speed):.2f}x, median {statistics.median(speed):.2f}x", status(max(speed) <= 1)])
    section = "\n".join([
        "## 10. Palettes judged as users judge them: file size, SSIMULACRA2, butteraugli",
        "",
        "Each cell: the PNG's size, SSIMULACRA2 (higher is better) and butteraugli (lower is better) against "
        "the original, and the time (vqimage and imagequant in process: fit, remap, PNG bytes, the median of 3; "
        "pngquant a whole process, start, read and write included). Default settings for every tool unless "
        "named. RGBA: the worse of a dark and a light background. Methods: `benchmarks/perceptual.py`." + (f" Missing here: {', '.join(missing)}." if missing
                                                                else ""),
        "",
        table(["image, colors", *tools], rows),
        "",
        "Cases won by vqimage (its file no larger, better on both judges) and its largest SSIMULACRA2 deficit:",
        "",
        table(["comparison", "won", "worst SSIMULACRA2 deficit"], summary),
        "",
    ])
    return section, goals


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 images instead of 7")
    args = parser.parse_args(argv)
    section, goals = bench_perceptual(args, lambda m: print(m, file=sys.stderr, flush=True))
    print(section)
    print(table(["goal", "target", "measured", "status"], goals))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
