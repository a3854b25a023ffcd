"""Color palettes: vqimage against Pillow, libimagequant, pngquant and k-means, side by side.

Usage (from the repository root)::

    .venv/bin/pip install -e '.[bench]'     # imagequant (GPL libimagequant: benchmark only)
    apt-get install -y pngquant              # optional: Debian's pngquant command line
    .venv/bin/python -m benchmarks.color [--quick] [--repeat N] [--wait-quiet SECONDS]

Prints two markdown tables (and notes) to stdout, progress to stderr.
scikit-image's bundled ``astronaut``, ``coffee`` and ``chelsea`` (uint8 RGB)
are quantized to 16, 64 and 256 colors by every peer:

- Pillow ``Image.quantize`` with median cut and with fast octree;
- libimagequant through the ``imagequant`` binding;
- Debian's ``pngquant`` command line (a subprocess, PNG file in and out);
- scikit-learn ``KMeans`` on all pixels, and fitted on a 1,000-pixel sample as
  in scikit-learn's gallery example "Color Quantization using K-Means";
- vqimage's color mode (``vqimage.fit(image, k, mode='color')`` + ``vqimage.encode``).

Quality is the RGB PSNR, 10 log10(255^2 / MSE) over all pixels and channels,
of the uint8 image as it would be stored (the palette in uint8) against the
original. Time is the median wall time of fit + remap (palette and index image
from the peer's own input format, converted to beforehand), taken with
``benchmarks.common.timeit``. Table 1 is without dithering; table 2 dithers (Floyd-Steinberg
or the peer's own error diffusion) and adds the size of the palette PNG.
A peer that is missing or fails becomes a note, never a crash.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from benchmarks.common import cpu_snapshot, fmt_s, other_load, table, timeit, wait_for_quiet

IMAGES = ("astronaut", "coffee", "chelsea")
COLORS = (16, 64, 256)
REPEAT, REPEAT_QUICK = 5, 1
GALLERY_SAMPLES = 1000


# --------------------------------------------------------------------------- peers


class Quantized(NamedTuple):
    """A peer's result as it would be stored.

    Attributes
    ----------
    image : ndarray of uint8, shape (H, W, 3)
        The quantized image: every pixel is its palette color.
    colors : int
        Distinct palette entries the index image uses.
    png : bytes
        A palette PNG of it (vqimage.pack.formats.png8 for every peer; pngquant: its own file).
    """

    image: np.ndarray
    colors: int
    png: bytes


class Peer(NamedTuple):
    """One quantizer, split so that only its own work is timed.

    Attributes
    ----------
    name : str
        Column label.
    prepare : callable
        ``prepare(image) -> input``: the image in the peer's input format (untimed).
    quantize : callable
        ``quantize(input, k, dither) -> output``: fit + remap (timed).
    unpack : callable
        ``unpack(output) -> Quantized`` (untimed).
    dithers : bool
        Whether the peer has a dithered mode ('-' in table 2 otherwise).
    """

    name: str
    prepare: Callable[[np.ndarray], object]
    quantize: Callable[[object, int, bool], object]
    unpack: Callable[[object], Quantized]
    dithers: bool = True


def from_palette(codes: np.ndarray, palette: np.ndarray) -> Quantized:
    """The :class:`Quantized` of an index image and its uint8 RGB palette."""
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    palette = np.ascontiguousarray(palette, dtype=np.uint8)
    from vqimage.pack.formats import png8

    return Quantized(palette[codes], len(np.unique(codes)), png8(codes, palette, optimize=True))


def from_pillow(img) -> Quantized:
    """The :class:`Quantized` of a Pillow 'P' image."""
    codes = np.asarray(img)
    palette = np.array(img.getpalette("RGB"), dtype=np.uint8).reshape(-1, 3)
    return from_palette(codes, palette)


def pillow_peers() -> tuple[list[Peer], list[str]]:
    """Pillow's median cut and fast octree.

    Pillow's ``quantize`` ignores ``dither`` unless it is given a palette
    image, so the dithered run is two passes: ``quantize(k, method)`` for the
    palette, then ``quantize(palette=..., dither=FLOYDSTEINBERG)``.
    """
    from PIL import Image

    def peer(name, method):
        def quantize(img, k, dither):
            pal = img.quantize(colors=k, method=method, dither=Image.Dither.NONE)
            return img.quantize(palette=pal, dither=Image.Dither.FLOYDSTEINBERG) if dither else pal

        return Peer(name, Image.fromarray, quantize, from_pillow)

    notes = [
        f"Pillow {Image.__version__}: `Image.quantize(colors=k, method=MEDIANCUT or FASTOCTREE, "
        "dither=NONE)`; its direct result maps each pixel to its median-cut box or octree leaf, "
        "not to the nearest palette color. Pillow ignores `dither=` unless a palette image is "
        "given, so the dithered run remaps with `quantize(palette=<that result>, "
        "dither=FLOYDSTEINBERG)` (both passes timed).",
    ]
    return [peer("Pillow median cut", Image.Quantize.MEDIANCUT),
            peer("Pillow octree", Image.Quantize.FASTOCTREE)], notes


def imagequant_peer() -> tuple[list[Peer], list[str]]:
    """libimagequant through the ``imagequant`` binding (``quantize_raw_rgba_bytes``).

    The binding's ``quantize_pil_image`` builds its RGBA bytes in a Python
    loop over pixels (seconds), so the bytes are made with numpy beforehand.
    It returns the whole 256-entry ``liq_palette`` array, ignoring its
    ``count``; the palette is cut after the last index used.
    """
    import imagequant
    from imagequant import _libimagequant
    from imagequant._libimagequant import lib

    def prepare(image):
        h, w, _ = image.shape
        rgba = np.dstack([image, np.full((h, w), 255, np.uint8)])
        return rgba.tobytes(), w, h

    def quantize(prepared, k, dither):
        data, w, h = prepared
        out, pal = imagequant.quantize_raw_rgba_bytes(data, w, h, dithering_level=1.0 if dither else 0.0,
                                                      max_colors=k, min_quality=0, max_quality=100)
        return out, pal, (h, w)

    def unpack(result):
        out, pal, shape = result
        codes = np.frombuffer(out, np.uint8).reshape(shape)
        palette = np.array(pal, np.uint8).reshape(-1, 4)[: int(codes.max()) + 1]
        if (palette[:, 3] != 255).any():
            raise RuntimeError("libimagequant returned a translucent palette entry for an opaque image")
        return from_palette(codes, palette[:, :3])

    v = lib.liq_version()
    openmp = b"GOMP_" in Path(_libimagequant.__file__).read_bytes()
    notes = [
        f"imagequant {importlib.metadata.version('imagequant')} (libimagequant "
        f"{v // 10000}.{v // 100 % 100}.{v % 100}, GPL, built in {'with' if openmp else 'without'} "
        f"OpenMP{'' if openmp else ': one thread'}): "
        "`quantize_raw_rgba_bytes(rgba, w, h, dithering_level=0.0 or 1.0, max_colors=k, "
        "min_quality=0, max_quality=100)`, default speed 4.",
    ]
    return [Peer("imagequant", prepare, quantize, unpack)], notes


def pngquant_peer(workdir: Path) -> tuple[list[Peer], list[str]]:
    """Debian's ``pngquant`` command line; the input PNG is written beforehand.

    Parameters
    ----------
    workdir : Path
        Directory for its input and output files.
    """
    from PIL import Image

    exe = shutil.which("pngquant")
    if exe is None:
        return [], ["pngquant: not on PATH, left out (Debian: `apt-get install -y pngquant`)."]
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    output = workdir / "pngquant-out.png"

    def prepare(image):
        fd, path = tempfile.mkstemp(suffix=".png", dir=workdir)
        with os.fdopen(fd, "wb") as f:
            Image.fromarray(image).save(f, format="PNG")
        return path

    def quantize(path, k, dither):
        cmd = [exe, *([] if dither else ["--nofs"]), "--force", "--output", str(output), str(k), str(path)]
        subprocess.run(cmd, check=True, capture_output=True)
        return output.read_bytes()

    def unpack(data):
        with Image.open(io.BytesIO(data)) as img:
            if img.mode != "P":
                raise RuntimeError(f"pngquant wrote a {img.mode} PNG, not a palette PNG")
            colors = len(np.unique(np.asarray(img)))
            return Quantized(np.asarray(img.convert("RGB")), colors, data)

    notes = [
        f"pngquant {version} (`{exe}`; Debian builds its libimagequant with OpenMP, so it uses "
        "every core unless `OMP_NUM_THREADS` says otherwise): "
        "`pngquant [--nofs] --force --output OUT.png k IN.png` "
        "(--nofs when not dithering), default speed 4 and quality. Its time includes starting the "
        "process, reading the input PNG and writing the output PNG; its size is its own file's. "
        "While another process holds a core, its spinning OpenMP threads can make it several "
        "times slower (`OMP_WAIT_POLICY=passive` or `OMP_NUM_THREADS=1` avoid that).",
    ]
    return [Peer("pngquant", prepare, quantize, unpack)], notes


def kmeans_peers() -> tuple[list[Peer], list[str]]:
    """scikit-learn ``KMeans`` on all pixels and on a 1,000-pixel sample.

    The palette is ``cluster_centers_`` rounded to uint8, and every pixel goes
    to its nearest rounded center (``predict`` after rounding the centers):
    the image as stored.
    """
    import sklearn
    from sklearn.cluster import KMeans
    from sklearn.utils import shuffle

    def prepare(image):
        return image.shape, image.reshape(-1, 3).astype(np.float64)

    def peer(name, n_samples):
        def quantize(prepared, k, dither):
            shape, pixels = prepared
            train = pixels if n_samples is None else shuffle(pixels, random_state=0, n_samples=n_samples)
            km = KMeans(n_clusters=k, random_state=0).fit(train)
            km.cluster_centers_ = np.clip(np.rint(km.cluster_centers_), 0, 255)
            return km.predict(pixels).reshape(shape[:2]), km.cluster_centers_

        return Peer(name, prepare, quantize, lambda result: from_palette(*result), dithers=False)

    notes = [
        f"scikit-learn {sklearn.__version__}: `KMeans(n_clusters=k, random_state=0)` (defaults: "
        "k-means++, n_init='auto' = 1, max_iter=300) on float64 pixels in [0, 255], fitted on all "
        f"pixels or, as in the gallery example, on `shuffle(pixels, random_state=0, "
        f"n_samples={GALLERY_SAMPLES})`; centers rounded to uint8, then `predict` on all pixels. "
        "No dithering ('-' in table 2).",
    ]
    return [peer("KMeans", None), peer(f"KMeans {GALLERY_SAMPLES // 1000}k sample", GALLERY_SAMPLES)], notes


def vqimage_quantize(image: np.ndarray, k: int, dither: bool):
    """vqimage's color mode: fit a ``k``-color codebook and encode ``image`` with it.

    Parameters
    ----------
    image : ndarray of uint8, shape (H, W, 3)
    k : int
        Palette size.
    dither : bool
        Selective Floyd-Steinberg error diffusion (``vqimage.encode(...,
        dither="floyd-steinberg", selective=True)``), vqimage's recommended mode;
        part 6b of ``benchmarks.run`` measures every method, full strength included.

    Returns
    -------
    (Codebook, ndarray)
        The codebook and the codes.
    """
    import vqimage

    cb = vqimage.fit(image, k, mode="color")
    codes = (vqimage.encode(image, cb, dither="floyd-steinberg", selective=True) if dither
             else vqimage.encode(image, cb))
    return cb, codes


def vqimage_unpack(result) -> Quantized:
    """The :class:`Quantized` of :func:`vqimage_quantize`'s result, through ``vqimage.decode``.

    The palette is read off the decoded image (the color of each code), which
    also checks that decoding is a function of the code alone.
    """
    import vqimage

    cb, codes = result
    decoded = np.asarray(vqimage.decode(codes, cb))
    if decoded.dtype != np.uint8:
        decoded = np.clip(np.rint(decoded), 0, 255).astype(np.uint8)
    codes = np.asarray(codes)
    palette = np.zeros((int(codes.max()) + 1, 3), np.uint8)
    palette[codes.ravel()] = decoded.reshape(-1, 3)
    if not np.array_equal(palette[codes], decoded):
        raise RuntimeError("vqimage.decode gives one code different colors")
    return from_palette(codes, palette)


def vqimage_peer() -> tuple[list[Peer], list[str]]:
    """vqimage's slot (:func:`vqimage_quantize`)."""
    import vqimage

    notes = [f"vqimage {vqimage.__version__}: `cb = vqimage.fit(image, k, mode='color')` then "
             "`vqimage.encode(image, cb)`; dithered: `vqimage.encode(image, cb, dither='floyd-steinberg', "
             "selective=True)` (selective error diffusion, the mode vqimage recommends; part 6b has the "
             "others)."]
    return [Peer("vqimage", lambda image: image, vqimage_quantize, vqimage_unpack)], notes


# --------------------------------------------------------------------------- measuring


def psnr(quantized: np.ndarray, original: np.ndarray) -> float:
    """RGB PSNR in dB: ``10 log10(255^2 / MSE)``, MSE over all pixels and channels."""
    err = np.mean((quantized.astype(np.float64) - original.astype(np.float64)) ** 2)
    return float("inf") if err == 0 else float(10 * np.log10(255.0**2 / err))


def cpu_seconds() -> float:
    """CPU time of this process and its waited-for children (user + system)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def load_images() -> list[tuple[str, np.ndarray]]:
    """scikit-image's bundled RGB test images (no download)."""
    import skimage.data

    return [(name, getattr(skimage.data, name)()) for name in IMAGES]


def all_peers(workdir: Path, log) -> tuple[list[Peer], list[str]]:
    """Every peer that can be set up here, and notes (versions, settings, what is missing)."""
    peers, notes = [], []
    for make, label in [(pillow_peers, "Pillow"), (imagequant_peer, "imagequant"),
                        (lambda: pngquant_peer(workdir), "pngquant"), (kmeans_peers, "scikit-learn"),
                        (vqimage_peer, "vqimage")]:
        try:
            found, found_notes = make()
        except Exception as exc:  # a missing peer is a note, not a crash
            found, found_notes = [], [f"{label}: not available ({type(exc).__name__}: {exc})."]
        peers += found
        notes += found_notes
        log(f"peers: {label}: {', '.join(p.name for p in found) or 'none'}")
    return peers, notes


def measure(peer: Peer, prepared, original: np.ndarray, k: int, dither: bool, repeat: int) -> dict:
    """Time one peer on one image at one palette size; score its stored result.

    Returns
    -------
    dict
        ``psnr`` (dB), ``time`` (:class:`benchmarks.common.Timing`), ``colors`` (entries used),
        ``png_bytes``, and ``wall`` / ``cpu`` seconds over every call made
        (warm-up included), whose ratio is the cores the peer kept busy.
    """
    last = {}

    def call():
        last["output"] = peer.quantize(prepared, k, dither)

    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    timing = timeit(call, repeat, number=1)
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    result = peer.unpack(last["output"])
    if result.image.shape != original.shape or result.image.dtype != np.uint8:
        raise RuntimeError(f"returned a {result.image.dtype} image of shape {result.image.shape}")
    return {"psnr": psnr(result.image, original), "time": timing, "colors": result.colors,
            "png_bytes": len(result.png), "wall": wall, "cpu": cpu}


def run_peer(peer: Peer, name: str, image: np.ndarray, repeat: int, results: dict, failed: dict, log) -> None:
    """Measure one peer on one image at every palette size, dithered (if it can) and not.

    Fills ``results[(name, k, peer.name, dither)]``; the first exception of a
    mode goes to ``failed[(peer.name, dither)]`` and leaves that mode out from
    then on (a failing peer is a note, not a crash).
    """
    modes = [d for d in ((False, True) if peer.dithers else (False,)) if (peer.name, d) not in failed]
    if not modes:
        return
    try:
        prepared = peer.prepare(image)
    except Exception as exc:
        for dither in modes:
            failed[(peer.name, dither)] = f"{type(exc).__name__}: {exc} (preparing {name})"
        return
    for dither in modes:
        for k in COLORS:
            try:
                r = results[(name, k, peer.name, dither)] = measure(peer, prepared, image, k, dither, repeat)
            except Exception as exc:
                failed[(peer.name, dither)] = f"{type(exc).__name__}: {exc} ({name}, k={k})"
                break
            log(f"{name} k={k} {peer.name}{' dithered' if dither else ''}: {r['psnr']:.2f} dB")


def repeat_for(args) -> int:
    """Timed samples per cell: ``args.repeat_color`` when set, else 5 (1 with ``--quick``)."""
    repeat = getattr(args, "repeat_color", None)
    return repeat if repeat is not None else (REPEAT_QUICK if args.quick else REPEAT)


def bench_color(args, log) -> dict:
    """Quantize every image to every palette size with every peer, dithered and not.

    Parameters
    ----------
    args : argparse.Namespace
        ``quick`` (bool) and optionally ``repeat_color`` (int); see :func:`repeat_for`.
    log : callable
        ``log(message)`` for progress.

    Returns
    -------
    dict
        ``results``: ``{(image, k, peer, dither): measure(...) dict}``;
        ``failed``: ``{(peer, dither): reason}`` for peers that raised (left out
        from then on); ``peers``: the peer names in column order;
        ``sections``: the two markdown tables; ``notes``: markdown bullet
        lines (versions, settings, CPU use, caveats).
    """
    repeat = repeat_for(args)
    images = load_images()
    results, failed = {}, {}
    cpu_at_start = cpu_snapshot()
    with tempfile.TemporaryDirectory(prefix="vqimage-color-") as tmp:
        peers, notes = all_peers(Path(tmp), log)
        for name, image in images:
            for peer in peers:
                run_peer(peer, name, image, repeat, results, failed, log)
    names = [p.name for p in peers]
    notes += result_notes(results, failed, names, repeat, other_load(cpu_at_start, cpu_snapshot()))
    return {"results": results, "failed": failed, "peers": names,
            "sections": render_tables(results, names, images, {p.name for p in peers if not p.dithers}),
            "notes": [f"- {n}" for n in notes]}


# --------------------------------------------------------------------------- markdown


def render_tables(results, names, images, no_dither) -> list[str]:
    """Table 1 (no dithering: PSNR, time, vqimage's margins) and table 2 (dithered: + PNG size)."""
    rows1, rows2 = [], []
    for name, image in images:
        n_pixels = image.shape[0] * image.shape[1]
        for k in COLORS:
            plain = {n: results.get((name, k, n, False)) for n in names}
            ours, iq = plain.get("vqimage"), plain.get("imagequant")
            best = max((r["psnr"] for n, r in plain.items() if r and n != "vqimage"), default=None)
            row = [name, k]
            for r in plain.values():
                row += [f"{r['psnr']:.2f}", fmt_s(r["time"].median)] if r else ["n/a", "n/a"]
            row.append(f"{ours['psnr'] - best:+.2f}" if ours and best is not None else "n/a")
            row.append(f"{ours['time'].median / iq['time'].median:.3g}" if ours and iq else "n/a")
            rows1.append(row)
            row = [name, k]
            for n in names:
                r = results.get((name, k, n, True))
                if n in no_dither or r is None:
                    row += ["-" if n in no_dither else "n/a"] * 3
                else:
                    row += [f"{r['psnr']:.2f}", f"{8 * r['png_bytes'] / n_pixels:.3f}",
                            fmt_s(r["time"].median)]
            rows2.append(row)
    header1 = ["image", "k", *(f"{n} {f}" for n in names for f in ("dB", "time")),
               "vqimage dB − best peer", "vqimage time / imagequant time"]
    header2 = ["image", "k", *(f"{n} {f}" for n in names for f in ("dB", "bits/px", "time"))]
    return [
        "\n".join([
            "## Color palettes without dithering",
            "",
            "RGB PSNR (dB) of the stored uint8 image and median time of fit + remap. "
            "'vqimage dB − best peer' is vqimage's PSNR minus the best other peer's in the row; "
            "'n/a': not measured (see the notes).",
            "",
            table(header1, rows1, "ll" + "r" * (len(header1) - 2)),
        ]),
        "\n".join([
            "## Color palettes with dithering",
            "",
            "RGB PSNR (dB), size of the palette PNG in bits per pixel (file bytes x 8 / pixels; "
            "one PNG writer for every peer, vqimage.pack.formats.png8; pngquant its own file) and median "
            "time of fit + dithered "
            "remap. '-': the peer does not dither.",
            "",
            table(header2, rows2, "ll" + "r" * (len(header2) - 2)),
        ]),
    ]


def result_notes(results, failed, names, repeat, load) -> list[str]:
    """Notes drawn from the run: failures, palettes short of k, cores used, machine load, method."""
    notes = [f"{peer}{' (dithered)' if dither else ''}: not measured: {reason}"
             for (peer, dither), reason in failed.items()]
    short = [f"{peer} {name} k={k}{' dithered' if dither else ''}: {r['colors']}"
             for (name, k, peer, dither), r in results.items() if r["colors"] < k]
    notes.append("Palettes using fewer than k colors: " + ("; ".join(short) if short else "none") + ".")
    cores = []
    for n in names:
        wall = sum(r["wall"] for (_, _, p, _), r in results.items() if p == n)
        cpu = sum(r["cpu"] for (_, _, p, _), r in results.items() if p == n)
        if wall > 0:
            cores.append(f"{n} {cpu / wall:.2f}")
    notes.append(f"Cores kept busy on average (CPU time / wall time over all calls, this machine has "
                 f"{os.cpu_count()}): {', '.join(cores)}.")
    if load is not None:
        notes.append(f"{'**Disturbed run:** ' if load[0] > 0.05 else ''}Other processes used "
                     f"{load[0]:.0%} of this machine's cores during the run (the hypervisor stole "
                     f"{load[1]:.1%}); the multi-threaded peers (KMeans, pngquant) lose most from that.")
    notes.append(f"Time: each cell is called once untimed, then {repeat} timed call(s); the median is "
                 "shown. Converting the image to the peer's input format (PIL image, RGBA bytes, "
                 "PNG file, float64 pixels) is done before and not timed; reading results back "
                 "and writing the PNG are not timed either (except pngquant's own file I/O).")
    return notes


def parse_args(argv):
    """Command-line options: ``--quick``, ``--repeat`` and ``--wait-quiet``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{REPEAT_QUICK} timed call per cell (a smoke run)")
    parser.add_argument("--repeat", type=int, default=None, dest="repeat_color", metavar="N",
                        help=f"timed calls per cell (default {REPEAT}, {REPEAT_QUICK} with --quick)")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="first wait up to SECONDS for other processes to leave the CPUs idle")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run :func:`bench_color` and print its markdown to stdout."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    wait_for_quiet(args.wait_quiet)
    started = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - started:6.1f} s] {msg}", file=sys.stderr)

    out = bench_color(args, log)
    print("\n\n".join(out["sections"]))
    print("\n### Notes\n")
    print("\n".join(out["notes"]))
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
