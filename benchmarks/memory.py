"""Part 11: peak memory of the command line, whole processes on large and hostile images.

Users meet memory as the peak resident size of the process they run, so every
number here is the ``ru_maxrss`` of one ``vqimage`` process (``os.wait4`` on
that child alone), with default options unless the row says otherwise:

- ``vqimage quantize IN -k 8 -o OUT.png`` on gray images and ``-k 64`` on
  color ones (Oklab palette, adaptive dithering, the metrics it prints), also
  with ``--ssim`` (SSIM is skipped unasked above 4 M values);
- ``vqimage compress IN -k K -o OUT.vq`` and ``vqimage decompress OUT.vq -o OUT.png``;
- the hostile case: a valid 62 KB PNG of 8000x8000 zeros, ``quantize -k 8``.

Images: scikit-image's astronaut upscaled with Lanczos to 12 MP (4000x3000)
and 64 MP (8000x8000), plus Gaussian noise (sigma 4, seeded), written as PNG;
its BT.601 gray version; and an RGBA version whose top third is clear and
the next sixth an alpha ramp (palettes fitted on the error composited on
black and white). The budget of each run: 12 times the decoded image's bytes
(for ``decompress``: the image it restores), plus 300 MB for the interpreter
and its libraries.

Usage (from the repository root)::

    .venv/bin/python -m benchmarks.memory [--quick] [--no-write]

writes its section into ``benchmarks/RESULTS.md`` in place of the previous
one (the rest of the file is left as it is) and prints it; ``--quick`` leaves
out the 64 MP images. ``python -m benchmarks.run`` runs it as part 11.
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import status, table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
VQIMAGE = Path(sys.executable).parent / "vqimage"
HEADING = "## 11. Memory: peak RSS of whole command-line processes"
INTERPRETER_MB = 300
FACTOR = 12
SIZES = {"12 MP": (3000, 4000), "64 MP": (8000, 8000)}
SEED = 20250101


def make_images(folder: Path, sizes) -> dict[tuple[str, str], tuple[Path, int]]:
    """The test PNGs: {(size, kind): (path, decoded bytes)}, kinds 'gray', 'RGB', 'RGBA'."""
    from PIL import Image
    from skimage import data

    base = Image.fromarray(data.astronaut())
    rng = np.random.default_rng(SEED)
    images = {}
    for size in sizes:
        h, w = SIZES[size]
        rgb = np.asarray(base.resize((w, h), Image.LANCZOS)).copy()
        step = max(1, (1 << 22) // (3 * w))
        for start in range(0, h, step):  # the noise band by band: no float copy of the whole image
            band = rgb[start : start + step]
            noise = rng.standard_normal(band.shape, dtype=np.float32) * 4
            band[...] = np.clip(band + noise, 0, 255).astype(np.uint8)
        stem = size.replace(" ", "")
        images[(size, "RGB")] = _save(Image.fromarray(rgb), folder / f"rgb{stem}.png", rgb.nbytes)
        gray = Image.fromarray(rgb).convert("L")
        images[(size, "gray")] = _save(gray, folder / f"gray{stem}.png", h * w)
        alpha = np.full((h, w, 1), 255, np.uint8)
        alpha[: h // 3] = 0
        alpha[h // 3 : h // 2] = np.linspace(0, 255, w).astype(np.uint8)[None, :, None]
        rgba = Image.fromarray(np.concatenate([rgb, alpha], axis=2))
        del rgb, alpha, gray
        images[(size, "RGBA")] = _save(rgba, folder / f"rgba{stem}.png", 4 * h * w)
        del rgba
        gc.collect()
    zeros = Image.fromarray(np.zeros((8000, 8000), np.uint8))
    images[("64 MP", "zeros")] = _save(zeros, folder / "zeros.png", 8000 * 8000, optimize=True)
    return images


def _save(image, path: Path, decoded: int, **options) -> tuple[Path, int]:
    image.save(path, compress_level=1, **options)
    return path, decoded


# Run by a small Python in between: Linux counts the RSS a process had before exec in its child's
# ru_maxrss, so a child forked straight from this (large) process would report at least its size.
_WRAPPER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, code, usage = os.wait4(proc.pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(code))
"""


def peak_rss(argv: list[str]) -> tuple[int, float, int, str]:
    """(peak RSS in bytes, seconds, exit code, last line of stderr) of one process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *argv], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    kb, code = (int(v) for v in done.stdout.split())
    lines = done.stderr.strip().splitlines()
    return kb * 1024, seconds, code, lines[-1] if lines else ""


def cases(images, folder: Path, sizes):
    """(label, size, kind, decoded bytes, argv) in the order they must run (compress before decompress)."""
    out = []
    cli = [str(VQIMAGE)]
    for size in sizes:
        for kind, k in (("gray", 8), ("RGB", 64)):
            path, decoded = images[(size, kind)]
            vq = folder / f"{path.stem}.vq"
            png = str(folder / "out.png")
            out += [
                (f"quantize -k {k}", size, kind, decoded, [*cli, "quantize", str(path), "-k", str(k), "-o", png,
                                                            "--force"]),
                (f"quantize -k {k} --ssim", size, kind, decoded, [*cli, "quantize", str(path), "-k", str(k), "-o",
                                                                   png, "--force", "--ssim"]),
                (f"compress -k {k}", size, kind, decoded, [*cli, "compress", str(path), "-k", str(k), "-o", str(vq),
                                                            "--force"]),
                ("decompress", size, kind, decoded, [*cli, "decompress", str(vq), "-o", png, "--force"]),
            ]
        path, decoded = images[(size, "RGBA")]
        out.append(("quantize -k 64", size, "RGBA", decoded,
                    [*cli, "quantize", str(path), "-k", "64", "-o", str(folder / "out.png"), "--force"]))
    if "64 MP" in sizes:
        path, decoded = images[("64 MP", "zeros")]
        out.append(("quantize -k 8", "64 MP", f"zeros ({path.stat().st_size // 1000} KB PNG)", decoded,
                    [*cli, "quantize", str(path), "-k", "8", "-o", str(folder / "out.png"), "--force"]))
    return out


def bench_memory(args, log):
    """Return (markdown section, goal rows)."""
    sizes = ["12 MP"] if args.quick else list(SIZES)
    rows, fails = [], []
    with tempfile.TemporaryDirectory(prefix="vqimage-memory-") as name:
        folder = Path(name)
        images = make_images(folder, sizes)
        log("part 11: images written")
        bare, _, _, _ = peak_rss([str(VQIMAGE), "--help"])
        for label, size, kind, decoded, argv in cases(images, folder, sizes):
            peak, seconds, code, last = peak_rss(argv)
            budget = FACTOR * decoded + INTERPRETER_MB * 1e6
            ok = code == 0 and peak <= budget
            if not ok:
                fails.append(f"{label} ({size} {kind})")
            rows.append([f"`{label}`", size, kind, f"{decoded / 1e6:,.0f}", f"{peak / 1e6:,.0f}",
                         f"{budget / 1e6:,.0f}", f"{peak / decoded:.1f}x", f"{seconds:.1f} s",
                         "pass" if ok else f"**FAIL**{'' if code == 0 else f' (exit {code}: {last})'}"])
            log(f"part 11: {label} {size} {kind}: {peak / 1e6:,.0f} MB in {seconds:.1f} s")
    within = f"{len(rows) - len(fails)} of {len(rows)} within" + (f"; over: {', '.join(fails)}" if fails else "")
    goals = [[f"memory: peak RSS of every CLI path ({', '.join(sizes)})",
              f"<= {FACTOR}x decoded bytes + {INTERPRETER_MB} MB", within, status(not fails)]]
    intro = (
        f"Peak resident memory (`ru_maxrss`) of each whole `vqimage` process, default options unless shown; "
        f"budget = {FACTOR} x the decoded image's bytes + {INTERPRETER_MB} MB (`vqimage --help` alone peaks at "
        f"{bare / 1e6:.0f} MB). Images: scikit-image's astronaut upscaled (Lanczos) to 4000x3000 and 8000x8000 "
        "with Gaussian noise (sigma 4), as 8-bit PNG; gray is its BT.601 luma; RGBA has a clear top third and an "
        "alpha ramp below it; zeros is a valid PNG of 8000x8000 zero pixels. `decompress` restores the `.vq` "
        "file the `compress` row above it wrote. Peak/decoded includes the interpreter. Methods and the command "
        "to reproduce: `benchmarks/memory.py` (`python -m benchmarks.memory`)."
    )
    section = "\n".join([
        HEADING,
        "",
        intro,
        "",
        table(["command", "image", "kind", "decoded MB", "peak MB", "budget MB", "peak/decoded", "time", "status"],
              rows, "lllrrrrrl"),
        "",
    ])
    return section, goals


def replace_section(text: str, section: str) -> str:
    """``text`` (RESULTS.md) with this part's section replaced, or inserted before the Method section."""
    lines = text.split("\n")
    if HEADING in lines:
        start = lines.index(HEADING)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    else:
        start = end = lines.index("## Method") if "## Method" in lines else len(lines)
    return "\n".join(lines[:start] + section.rstrip("\n").split("\n") + [""] + lines[end:])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 12 MP images only")
    parser.add_argument("--no-write", action="store_true", help=f"print only; leave {RESULTS.name} as it is")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - started:6.1f} s] {msg}", file=sys.stderr, flush=True)

    section, goals = bench_memory(args, log)
    print(section)
    print(table(["goal", "target", "measured", "status"], goals))
    if not args.no_write and RESULTS.exists():
        tmp = RESULTS.with_name(RESULTS.name + ".tmp")
        tmp.write_text(replace_section(RESULTS.read_text(encoding="utf-8"), section), encoding="utf-8")
        tmp.replace(RESULTS)
        log(f"wrote its section into {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
