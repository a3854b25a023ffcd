"""vqimage against its peers, measured side by side in one run.

Usage (from the repository root; the benchmarks are a package, run as modules)::

    make bench                                   # or:
    .venv/bin/python -m benchmarks.run [--quick] [--output PATH] [--wait-quiet SECONDS]

Writes a markdown report (default ``benchmarks/RESULTS.md``) and prints it.
The parts, each with its goal from the design:

1. ``face`` at 8 levels: ``fit`` + ``encode`` per strategy against
   scikit-learn's ``KBinsDiscretizer`` (kmeans, also limited to one thread, and
   uniform), with the MSE of each reconstruction.
2. A synthetic 16-bit 2048x3072 image at 256 levels: histogram, fit, encode;
   and the optimal DP alone on full 65,536-bin and 256-bin histograms.
3. Encode/decode throughput beside ``np.copy`` and numpy look-up baselines.
4. Exact bit packing: size and pack/unpack time.
5. Storage: bits per pixel and encode/decode time of ``.vq`` (each payload coder)
   against palette PNG, WebP lossless, JPEG XL lossless (effort 7 and 9) and
   zstd -19 of the codes, with the codes' order-0 entropy, for face and camera
   at 2, 4, 8, 16 and 64 optimal levels.
6. Color palettes against Pillow, libimagequant, pngquant and k-means
   (``benchmarks.color``), and what each dithering method costs.
7. Targets (the search against a brute-force sweep) and batch throughput.
8. Bigger than memory: a 1 GiB zarr array (``benchmarks.dask_bench``), against
   plain Dask reading it twice.
9. The command line as users run it: whole processes against pngquant 3 and
   2.17, imports, and the first run after installing a wheel
   (``benchmarks.cli_bench``).
11. Memory: peak RSS of whole ``vqimage`` processes (quantize, compress,
    decompress) on 12 MP and 64 MP images and a hostile PNG, against a budget
    of 12x the decoded bytes + 300 MB (``benchmarks.memory``; it also runs
    alone and then replaces only its own section of RESULTS.md).

The helpers all parts share (timing, tables, machine load) are in
``benchmarks.common``.

Every timed function is called once first (imports, first-touch allocations) and that call is not counted. Then ``repeat`` samples
are taken with ``time.perf_counter`` and the garbage collector off; a sample
is the mean of ``number`` back-to-back calls, with ``number`` chosen so that a
sample lasts at least ~5 ms (1 for anything slower). Ratios use medians; a
goal is reported as met only when the best times and the medians agree. The
report also says how much CPU other processes took during the run, since on a
shared machine that inflates the multi-threaded peers' times most.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import io
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import vqimage
from benchmarks.cli_bench import bench_cli
from benchmarks.color import COLORS, IMAGES, bench_color
from benchmarks.common import (
    WIDE_SEED,
    WIDE_SHAPE,
    cpu_snapshot,
    fmt_ratio,
    fmt_s,
    make_wide_image,
    other_load,
    status,
    table,
    timeit,
    wait_for_quiet,
)
from benchmarks.dask_bench import bench_dask
from benchmarks.memory import bench_memory
from benchmarks.perceptual import bench_perceptual
from vqimage.io import FaceUnavailable
from vqimage.metrics import mse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUTPUT = HERE / "RESULTS.md"

FACE_LEVELS = 8
WIDE_LEVELS = 256
DP_SMALL_KS = (2, 8, 64, 128, 255)
STRATEGIES = ("optimal", "uniform", "quantile", "kmeans")
LOAD_AT_START = os.getloadavg() if hasattr(os, "getloadavg") else None


# --------------------------------------------------------------------------- formatting


def gbps(n_bytes: int, seconds: float) -> str:
    return f"{n_bytes / seconds / 1e9:.2f}"


# --------------------------------------------------------------------------- environment


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(argv: list[str]) -> list[tuple[str, str]]:
    import Cython  # noqa: F401  (only its version: the build's, from the bench extra)
    import PIL
    import imagecodecs
    import scipy
    import sklearn

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    try:
        mem_kb = next(
            int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        memory = "unknown"
    command = " ".join(["XDG_CACHE_HOME=<dir holding scipy-data/face.dat>", ".venv/bin/python",
                        "-m", "benchmarks.run", *argv])
    return [
        ("Date", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{cpu_model()}, {os.cpu_count()} logical cores ({usable} usable), {memory} RAM"),
        ("OS", platform.platform()),
        ("Load average at start", " ".join(f"{v:.2f}" for v in LOAD_AT_START) if LOAD_AT_START else "n/a"),
        ("Python", platform.python_version()),
        ("Versions", f"vqimage {vqimage.__version__} (kernels compiled ahead of time by Cython; Cython "
                     f"{Cython.__version__} here), numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
                     f"scipy {scipy.__version__}, Pillow {PIL.__version__}, imagecodecs {imagecodecs.__version__}"),
        ("Command", f"`make bench`, or `{command}`"),
    ]


def thread_pools() -> str:
    """The native thread pools scikit-learn used (after it has run)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    pools = {f"{p['internal_api']}: {p['num_threads']}" for p in threadpool_info()}
    return ", ".join(sorted(pools)) or "none loaded"


def cold_start(face_name: str) -> tuple[float, float] | None:
    """In a fresh interpreter: ``import vqimage`` and the first fit+encode."""
    code = (
        "import time; t0 = time.perf_counter(); import vqimage; t1 = time.perf_counter();"
        f"im = vqimage.load_image({face_name!r}); t2 = time.perf_counter();"
        f"vqimage.encode(im, vqimage.fit(im, {FACE_LEVELS})); t3 = time.perf_counter();"
        "print(t1 - t0, t3 - t2)"
    )
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, timeout=120).stdout
        first_import, first_call = (float(v) for v in out.split())
    except (subprocess.SubprocessError, ValueError):
        return None
    return first_import, first_call


# --------------------------------------------------------------------------- images


def load_face() -> tuple[np.ndarray, str, str]:
    """The raccoon face, or scikit-image's camera when face is not available offline."""
    try:
        return vqimage.load_image("face"), "face", ""
    except FaceUnavailable as exc:
        note = (f"**`face` was unavailable ({str(exc).rstrip('.')}); this run uses `camera` (512x512) instead, "
                "so the face-specific MSE goals do not apply.**")
        return vqimage.load_image("camera"), "camera", note




def describe(image: np.ndarray) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()[:16]
    return (f"{image.shape[0]}x{image.shape[1]} {image.dtype}, {image.nbytes:,} bytes, "
            f"values {int(image.min())}..{int(image.max())}, "
            f"{np.unique(image).size:,} distinct, sha256 {digest}…")


# --------------------------------------------------------------------------- 1. face


def kbins(n_bins: int, strategy: str):
    from sklearn.preprocessing import KBinsDiscretizer

    return KBinsDiscretizer(n_bins=n_bins, encode="ordinal", strategy=strategy,
                            subsample=200_000, random_state=0)


def sklearn_row(image, n_bins, strategy, repeat, *, threads=None):
    """Time KBinsDiscretizer.fit_transform as in the seed; MSE of its inverse_transform.

    ``threads=1`` limits scikit-learn's native thread pools (OpenMP, BLAS) to one thread
    (a single-thread reference); by default they use every core.
    """
    from threadpoolctl import threadpool_limits

    column = image.reshape(-1, 1)
    with warnings.catch_warnings(), threadpool_limits(limits=threads):
        warnings.simplefilter("ignore")
        timing = timeit(lambda: kbins(n_bins, strategy).fit_transform(column), repeat, number=1)
        encoder = kbins(n_bins, strategy)
        codes = encoder.fit_transform(column)
        centers = encoder.inverse_transform(codes).reshape(image.shape)
    info = np.iinfo(image.dtype)
    rounded = np.clip(np.rint(centers), info.min, info.max).astype(image.dtype)
    return {
        "name": f"KBinsDiscretizer {strategy}" + (f" ({threads} thread)" if threads else ""),
        "timing": timing,
        "mse_int": mse(image, rounded), "mse_float": mse(image, centers),
        "levels": len(encoder.bin_edges_[0]) - 1, "codes_bytes": codes.nbytes,
    }


def vqimage_row(image, n_levels, strategy, repeat):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        codebook = vqimage.fit(image, n_levels, strategy=strategy)
    codes = vqimage.encode(image, codebook)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timing = timeit(lambda: vqimage.encode(image, vqimage.fit(image, n_levels, strategy=strategy)),
                        repeat)
    return {
        "name": f"vqimage {strategy}", "timing": timing,
        "mse_int": mse(image, vqimage.decode(codes, codebook)),
        "mse_float": mse(image, vqimage.decode(codes, codebook, dtype=np.float64)),
        "levels": codebook.n_levels, "codes_bytes": codes.nbytes,
        "warnings": [str(w.message) for w in caught],
    }


def bench_face(image, name, args):
    rows = [vqimage_row(image, FACE_LEVELS, s, args.repeat_fast) for s in STRATEGIES]
    peers = {
        "kmeans": sklearn_row(image, FACE_LEVELS, "kmeans", args.repeat_slow),
        "kmeans1": sklearn_row(image, FACE_LEVELS, "kmeans", args.repeat_slow, threads=1),
        "uniform": sklearn_row(image, FACE_LEVELS, "uniform", args.repeat_fast),
    }
    rows += [peers["kmeans"], peers["kmeans1"], peers["uniform"]]
    body = []
    for r in rows:
        t = r["timing"]
        body.append([
            r["name"], fmt_s(t.best), fmt_s(t.median), t.how, r["levels"],
            f"{r['mse_int']:.2f}", f"{r['mse_float']:.2f}",
            fmt_ratio(peers["kmeans"]["timing"].median / t.median),
            fmt_ratio(peers["uniform"]["timing"].median / t.median),
        ])
    headers = ["method (fit + encode)", "best", "median", "samples", "levels",
               f"MSE {image.dtype}", "MSE float", "KBins kmeans / this", "KBins uniform / this"]
    notes = [r for r in rows if r.get("warnings")]
    text = [
        f"## 1. `{name}` at {FACE_LEVELS} levels: vqimage vs scikit-learn",
        "",
        f"Image: {describe(image)}.",
        "",
        "vqimage: `codebook = fit(image, 8, strategy=...)` then `encode(image, codebook)` (a new codebook, "
        "hence new encode tables, every call). scikit-learn: "
        "`KBinsDiscretizer(n_bins=8, encode=\"ordinal\", strategy=..., subsample=200_000, "
        "random_state=0).fit_transform(image.reshape(-1, 1))`, as in the Vector Quantization "
        "Example. MSE: vqimage decodes with `decode(codes, codebook)` (the image dtype, levels "
        "rounded half to even) and with `dtype=np.float64` (exact levels); scikit-learn's "
        "reconstruction is `inverse_transform` (bin centres), in float and rounded to the "
        "image dtype. Speed ratios divide the peer's median time by the row's median time "
        "(> 1: the row is faster).",
        "",
        table(headers, body),
    ]
    for r in notes:
        text += ["", f"{r['name']} warned: " + " ".join(r["warnings"])]
    steps, _ = breakdown(image, FACE_LEVELS, args.repeat_fast, args.repeat_fast)
    text += ["", "Where vqimage optimal's time goes:", "", steps]
    result = {"rows": {r["name"]: r for r in rows}, "name": name}
    return "\n".join(text), result


# --------------------------------------------------------------------------- 2. 16-bit + DP


def breakdown(image, n_levels, repeat, repeat_fit):
    """Optimal fit + encode split into its stages; returns (markdown table, end-to-end Timing)."""
    from vqimage import Codebook

    hist = vqimage.histogram(image)
    codebook = vqimage.fit(hist, n_levels)
    config = codebook.to_config()
    table_kind = ("threshold table" if n_levels <= 16
                  else f"{1 << (8 * image.dtype.itemsize):,}-entry look-up table")
    parts = [
        ("`histogram(image)`", timeit(lambda: vqimage.histogram(image), repeat)),
        (f"`fit(hist, {n_levels})` (optimal DP on {hist.n_values:,} values)",
         timeit(lambda: vqimage.fit(hist, n_levels), repeat_fit)),
        (f"`encode(image, codebook)`, new codebook (builds its {table_kind})",
         timeit(lambda: vqimage.encode(image, Codebook.from_config(config)), repeat)),
    ]
    cached = timeit(lambda: vqimage.encode(image, codebook), repeat)
    total = timeit(lambda: vqimage.encode(image, vqimage.fit(image, n_levels)), repeat_fit)
    body = [[label, fmt_s(t.best), fmt_s(t.median), t.how] for label, t in parts]
    parts_sum = sum(t.median for _, t in parts)
    body.append(["sum of the three parts (medians)", "", fmt_s(parts_sum), ""])
    body.append([f"**`fit(image, {n_levels})` + `encode(image, codebook)`, end to end**",
                 f"**{fmt_s(total.best)}**", f"**{fmt_s(total.median)}**", total.how])
    body.append(["(`encode(image, codebook)` again, table cached on the codebook)",
                 fmt_s(cached.best), fmt_s(cached.median), cached.how])
    return table(["step", "best", "median", "samples"], body), total


def bench_wide(image, args):
    hist = vqimage.histogram(image)
    codebook = vqimage.fit(hist, WIDE_LEVELS)
    codes = vqimage.encode(image, codebook)
    steps, total = breakdown(image, WIDE_LEVELS, args.repeat_fast, args.repeat_dp)

    peers = [sklearn_row(image, WIDE_LEVELS, s, args.repeat_peer_wide) for s in ("kmeans", "uniform")]
    quality = [["vqimage optimal", fmt_s(total.median), codebook.n_levels,
                f"{mse(image, vqimage.decode(codes, codebook)):.1f}",
                f"{mse(image, vqimage.decode(codes, codebook, dtype=np.float64)):.1f}", "1x"]]
    for p in peers:
        quality.append([p["name"], fmt_s(p["timing"].median), p["levels"], f"{p['mse_int']:.1f}",
                        f"{p['mse_float']:.1f}", fmt_ratio(p["timing"].median / total.median)])
    text = [
        f"## 2. 16-bit image at {WIDE_LEVELS} levels",
        "",
        f"Image: `make_wide_image()` in this file (seed {WIDE_SEED}): {describe(image)}. "
        "Smooth band-limited structure at three scales plus Gaussian blobs, photon (Poisson) "
        "and read noise.",
        "",
        steps,
        "",
        "The same image against scikit-learn at 256 bins (same `KBinsDiscretizer` parameters as "
        "part 1, fit on a 200,000-pixel subsample; vqimage fits all pixels, exactly):",
        "",
        table(["method (fit + encode)", "median", "levels", f"MSE {image.dtype}", "MSE float",
               "time / vqimage optimal"], quality),
    ]
    return "\n".join(text), {"total": total, "hist": hist}


def full_histogram(image: np.ndarray, n_bins: int) -> vqimage.Histogram:
    """The image's histogram with one extra count on every value: all n_bins occupied."""
    every = np.arange(n_bins, dtype=image.dtype)
    hist = vqimage.histogram(np.concatenate([image.reshape(-1), every]))
    assert hist.n_values == n_bins, hist
    return hist


def bench_dp(face, wide, args):
    from vqimage.solvers._dp import optimal_partition

    def row(hist, k, repeat):
        fit = timeit(lambda: vqimage.fit(hist, k), repeat)
        dp = timeit(lambda: optimal_partition(hist.values, hist.counts, k), repeat)
        table_mib = 4 * (k + 1) * (hist.n_values + 1) / 2**20
        return [f"{hist.n_values:,}", k, fmt_s(dp.best), fmt_s(dp.median), fmt_s(fit.best),
                fmt_s(fit.median), f"{table_mib:.2f}"], dp, fit

    big = full_histogram(wide, 65536)
    small = full_histogram(face, 256)
    rows, results = [], {}
    cells, dp, fit = row(big, 256, args.repeat_dp)
    rows.append(cells)
    results[(65536, 256)] = (dp, fit)
    for k in DP_SMALL_KS:
        cells, dp, fit = row(small, k, args.repeat_fast)
        rows.append(cells)
        results[(256, k)] = (dp, fit)
    text = [
        "## 2b. The optimal DP alone",
        "",
        "Histograms with every value occupied: the 16-bit image's counts + 1 on each of the "
        "65,536 values, and the face's counts + 1 on each of the 256 values. \"DP kernel\" is "
        "`vqimage.solvers._dp.optimal_partition` (the compiled kernel, private); `fit(hist, k)` is "
        "the public call (validation, DP, centroids, codebook).",
        "",
        table(["values", "k", "DP kernel best", "DP kernel median", "`fit(hist, k)` best",
               "`fit(hist, k)` median", "argmin table MiB"], rows),
    ]
    return "\n".join(text), results


# --------------------------------------------------------------------------- 3. throughput


def throughput_rows(label, image, codebook, repeat):
    """Encode and decode passes over one image, beside np.copy and numpy LUT baselines."""
    n_values = 1 << (8 * image.dtype.itemsize)
    lut = vqimage.encode(np.arange(n_values, dtype=image.dtype), codebook)  # the codebook's own LUT
    codes = vqimage.encode(image, codebook)
    levels = codebook.levels_as(None)
    levels_f = codebook.levels_as(np.float64)
    cases = [
        ("`np.copy(image)`", image.nbytes, lambda: np.copy(image)),
        ("**`encode(image, codebook)`**", image.nbytes, lambda: vqimage.encode(image, codebook)),
        ("`np.take(lut, image)`", image.nbytes, lambda: np.take(lut, image)),
        ("`lut[image]`", image.nbytes, lambda: lut[image]),
        ("`np.copy(codes)`", codes.nbytes, lambda: np.copy(codes)),
        (f"**`decode(codes, codebook)`** → {image.dtype}", codes.nbytes,
         lambda: vqimage.decode(codes, codebook)),
        (f"`np.take(levels, codes)` → {image.dtype}", codes.nbytes, lambda: np.take(levels, codes)),
        (f"`levels[codes]` → {image.dtype}", codes.nbytes, lambda: levels[codes]),
        ("**`decode(codes, codebook, dtype=np.float64)`**", codes.nbytes,
         lambda: vqimage.decode(codes, codebook, dtype=np.float64)),
        ("`np.take(levels_f64, codes)`", codes.nbytes, lambda: np.take(levels_f, codes)),
    ]
    rows, results = [], {}
    copy_time = {}
    for name, n_bytes, fn in cases:
        t = timeit(fn, repeat)
        results[name] = t
        if name.startswith("`np.copy"):
            copy_time = t.median
        rows.append([name, label, f"{n_bytes:,}", fmt_s(t.best), fmt_s(t.median),
                     gbps(n_bytes, t.median), fmt_ratio(t.median / copy_time)])
    return rows, results


def bench_throughput(face, face_codebook, wide, wide_codebook, args):
    rows_a, res_a = throughput_rows(f"{face.shape[0]}x{face.shape[1]} {face.dtype}", face,
                                    face_codebook, args.repeat_fast)
    rows_b, res_b = throughput_rows(f"{wide.shape[0]}x{wide.shape[1]} {wide.dtype}", wide,
                                    wide_codebook, args.repeat_fast)
    text = [
        "## 3. Encode / decode throughput",
        "",
        f"Codebooks: optimal, {face_codebook.n_levels} levels on the face and "
        f"{wide_codebook.n_levels} on the 16-bit image, encode tables already built (steady "
        "state; up to 16 levels vqimage counts thresholds instead of looking up). `lut` is the "
        "look-up table (`encode(np.arange(2**bits), codebook)`); `levels` is "
        "`codebook.levels_as(None)`. GB/s = input bytes (image for encode, codes for decode) / "
        "median time; the last column is time relative to `np.copy` of the same input.",
        "",
        table(["pass", "image", "input bytes", "best", "median", "GB/s", "time / copy"],
              rows_a + rows_b),
    ]
    return "\n".join(text), (res_a, res_b)


# --------------------------------------------------------------------------- 4. packing


def pack_rows(label, image, codebook, repeat, sklearn_bytes=None):
    codes = vqimage.encode(image, codebook)
    k = codebook.n_levels
    packed = vqimage.pack(codes, k)
    assert np.array_equal(vqimage.unpack(packed, k, codes.shape), codes)
    t_pack = timeit(lambda: vqimage.pack(codes, k), repeat)
    t_unpack = timeit(lambda: vqimage.unpack(packed, k, codes.shape), repeat)
    bits = int(k - 1).bit_length()
    return [
        label, k, bits, f"{len(packed):,}", f"{len(packed) / image.nbytes:.4g}",
        f"{sklearn_bytes / len(packed):.1f}x" if sklearn_bytes else "",
        fmt_s(t_pack.median), f"{codes.size / t_pack.median / 1e6:.0f}",
        fmt_s(t_unpack.median), f"{codes.size / t_unpack.median / 1e6:.0f}",
    ], len(packed)


def bench_pack(face, face_codebook, wide, wide_codebook, sklearn_bytes, args):
    row_a, face_size = pack_rows(f"{face.shape[0]}x{face.shape[1]} {face.dtype}", face,
                                 face_codebook, args.repeat_fast, sklearn_bytes)
    row_b, _ = pack_rows(f"{wide.shape[0]}x{wide.shape[1]} {wide.dtype}", wide, wide_codebook,
                         args.repeat_fast)
    text = [
        "## 4. Exact bit packing",
        "",
        "`vqimage.pack(codes, k)`: ceil(log2 k) bits per code, no header; checked to round-trip "
        "through `vqimage.unpack`. Size relative to the original image's bytes; the seed's "
        f"`KBinsDiscretizer` codes are float64 ({sklearn_bytes:,} bytes for the face).",
        "",
        table(["codes", "k", "bits", "packed bytes", "/ original", "float64 codes / packed",
               "pack median", "Mcodes/s", "unpack median", "Mcodes/s"], [row_a, row_b]),
    ]
    return "\n".join(text), face_size


# --------------------------------------------------------------------------- 5. storage


STORAGE_LEVELS = (2, 4, 8, 16, 64)


def storage_methods(codes, codebook):
    """name -> (encode() -> bytes, decode(bytes) -> array) for the codes of one image."""
    import imagecodecs
    from PIL import Image

    from vqimage.pack.coders import CODERS
    from vqimage.pack.container import read_vq, write_vq
    from vqimage.pack.formats import export_bytes, palette_of, png8

    recon = vqimage.decode(codes, codebook)

    def pillow_decode(data):
        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(img)

    methods = {f".vq {coder}": (lambda coder=coder: write_vq(codes, codebook, coder=coder),
                                lambda data: read_vq(data)[0]) for coder in CODERS}
    methods |= {
        "PNG (palette, png8)": (lambda: png8(codes, palette_of(codebook, "PNG"), optimize=True), pillow_decode),
        "WebP lossless (method 6)": (lambda: export_bytes("webp", codes, codebook)[0], pillow_decode),
        "JPEG XL lossless e7": (lambda: imagecodecs.jpegxl_encode(recon, lossless=True, effort=7),
                                imagecodecs.jpegxl_decode),
        "JPEG XL lossless e9": (lambda: imagecodecs.jpegxl_encode(recon, lossless=True, effort=9),
                                imagecodecs.jpegxl_decode),
        "zstd -19 of the codes": (
            lambda: imagecodecs.zstd_encode(codes.tobytes(), level=19),
            lambda data: np.frombuffer(imagecodecs.zstd_decode(data), codes.dtype).reshape(codes.shape),
        ),
    }
    return methods


def bench_storage(images, args, log):
    """Bits per pixel and encode/decode time of .vq against the standard lossless formats."""
    rows, results = [], {}
    for name, image in images:
        for k in STORAGE_LEVELS:
            codebook = vqimage.fit(image, k)
            codes = vqimage.encode(image, codebook)
            recon = vqimage.decode(codes, codebook)
            entropy = vqimage.metrics.entropy(codes)
            for method, (encode, decode) in storage_methods(codes, codebook).items():
                data = encode()
                decoded = np.asarray(decode(data))  # codes (.vq, zstd, palette PNG) or the image
                exact = np.array_equal(decoded, codes) or np.array_equal(vqimage.io.to_gray(decoded), recon)
                slow = method.startswith(("WebP", "JPEG XL lossless e9"))
                t_enc = timeit(encode, 1 if slow or args.quick else 3, number=1)
                t_dec = timeit(lambda data=data: decode(data), 3 if args.quick else 5)
                bpp = 8 * len(data) / image.size
                results[(name, k, method)] = (bpp, t_enc, t_dec)
                rows.append([name, k, method, f"{bpp:.4f}", fmt_s(t_enc.median), fmt_s(t_dec.median),
                             "yes" if exact else "**NO**"])
            rows.append([name, k, "order-0 entropy of the codes", f"{entropy:.4f}", "", "", ""])
            log(f"storage {name} k={k}")
    text = [
        "## 5. Storing the codes: .vq against standard lossless formats",
        "",
        "Optimal codebooks; every format stores the same quantized image (the codes, or their "
        "reconstruction for the image formats) and is checked to decode to it exactly. Bits per "
        "pixel = file bytes x 8 / pixels (the .vq figure includes its header, codebook and CRC). "
        "Times are medians (encode: one sample for WebP and JPEG XL e9, which take seconds).",
        "",
        table(["image", "k", "format", "bits/pixel", "encode", "decode", "exact"], rows, "lrlrrrl"),
    ]
    return "\n".join(text), results


def storage_goals(results, face_name) -> list[list[str]]:
    from vqimage.pack.coders import DEFAULT_CODER

    coder = ".vq " + DEFAULT_CODER
    bpp, t_enc, t_dec = results[(face_name, 8, coder)]
    jxl_bpp, jxl_enc, jxl_dec = results[(face_name, 8, "JPEG XL lossless e9")]
    jxl_dec_fast = results[(face_name, 8, "JPEG XL lossless e7")][2]
    beaten = [(n, k) for (n, k, m) in results if m == coder
              and results[(n, k, m)][0] < results[(n, k, "JPEG XL lossless e9")][0]]
    cases = sorted({(n, k) for (n, k, _) in results})
    return [
        [f"{face_name}, 8 levels: {coder} size", "<= 0.70 bits/pixel, < JPEG XL e9",
         f"{bpp:.4f} (JPEG XL e9 {jxl_bpp:.4f})", status(bpp <= 0.70 and bpp < jxl_bpp)],
        [f"{face_name}, 8 levels: {coder} encode", "<= 1/10 of JPEG XL e9's time",
         f"{fmt_s(t_enc.median)} vs {fmt_s(jxl_enc.median)} ({jxl_enc.median / t_enc.median:.3g}x)",
         status(t_enc.median * 10 <= jxl_enc.median)],
        [f"{face_name}, 8 levels: {coder} decode", "<= 50 ms", fmt_s(t_dec.median),
         status(t_dec.median <= 0.05)],
        [f"{face_name}, 8 levels: {coder} decode vs JPEG XL's decode of the same image", "<= 1x (e9 and e7 files)",
         f"{fmt_s(t_dec.median)} vs {fmt_s(jxl_dec.median)} (e9), {fmt_s(jxl_dec_fast.median)} (e7): "
         f"{t_dec.median / jxl_dec.median:.2f}x, {t_dec.median / jxl_dec_fast.median:.2f}x",
         status(t_dec.median <= min(jxl_dec.median, jxl_dec_fast.median),
                t_dec.best <= min(jxl_dec.best, jxl_dec_fast.best))],
        [f"{coder} smaller than JPEG XL e9", f"all {len(cases)} image/level cases",
         f"{len(beaten)} of {len(cases)}", status(len(beaten) == len(cases))],
    ]


# --------------------------------------------------------------------------- goals


def goal_rows(face, wide, dp, packed_size) -> list[list[str]]:
    opt = face["rows"]["vqimage optimal"]
    km = face["rows"]["KBinsDiscretizer kmeans"]
    un = face["rows"]["KBinsDiscretizer uniform"]
    vs_km = km["timing"].median / opt["timing"].median
    vs_km_best = km["timing"].best / opt["timing"].best
    vs_km1 = face["rows"]["KBinsDiscretizer kmeans (1 thread)"]["timing"].median / opt["timing"].median
    vs_un = un["timing"].median / opt["timing"].median
    vs_un_best = un["timing"].best / opt["timing"].best
    is_face = face["name"] == "face"
    rows = [
        [f"{face['name']}: optimal fit+encode vs KBinsDiscretizer kmeans", ">= 100x faster",
         f"{fmt_ratio(vs_km)} (medians), {fmt_ratio(vs_km_best)} (best); "
         f"{fmt_ratio(vs_km1)} against its 1-thread run", status(vs_km >= 100, vs_km_best >= 100)],
        [f"{face['name']}: optimal fit+encode vs KBinsDiscretizer uniform", "faster (> 1x)",
         f"{fmt_ratio(vs_un)} (medians), {fmt_ratio(vs_un_best)} (best)",
         status(vs_un > 1, vs_un_best > 1)],
    ]
    if is_face:
        ok = abs(opt["mse_float"] - 63.32) < 0.01 and abs(opt["mse_int"] - 63.41) < 0.01
        rows.append(["face: optimal MSE float / uint8 (vs KBins kmeans ~74.3)", "63.32 / 63.41",
                     f"{opt['mse_float']:.2f} / {opt['mse_int']:.2f} (KBins kmeans "
                     f"{km['mse_float']:.2f})", status(ok and opt["mse_float"] < km["mse_float"])])
        rows.append(["face: `pack(codes, 8)` size", "294,912 bytes (0.375)",
                     f"{packed_size:,} bytes ({packed_size / 786432:.4g})",
                     status(packed_size == 294912)])
    total = wide["total"]
    rows.append([f"16-bit {WIDE_SHAPE[0]}x{WIDE_SHAPE[1]}, {WIDE_LEVELS} levels: fit + encode",
                 "< 1 s", f"{fmt_s(total.median)} (median), {fmt_s(total.best)} (best)",
                 status(total.median < 1, total.best < 1)])
    big_dp, big_fit = dp[(65536, 256)]
    rows.append(["optimal DP, 65,536 values, k=256", "~0.6 s (<= 0.66 s)",
                 f"kernel {fmt_s(big_dp.median)} (median), {fmt_s(big_dp.best)} (best); "
                 f"`fit` {fmt_s(big_fit.median)} (median)",
                 status(big_dp.median <= 0.66, big_dp.best <= 0.66)])
    worst_dp = max(dp[(256, k)][0].median for k in DP_SMALL_KS)
    worst_dp_best = max(dp[(256, k)][0].best for k in DP_SMALL_KS)
    worst_fit = max(dp[(256, k)][1].median for k in DP_SMALL_KS)
    rows.append([f"optimal DP, 256 values, k in {{{', '.join(map(str, DP_SMALL_KS))}}}", "< 0.5 ms each",
                 f"slowest: kernel {fmt_s(worst_dp)} (median), {fmt_s(worst_dp_best)} (best); "
                 f"`fit` {fmt_s(worst_fit)} (median)",
                 status(worst_dp < 5e-4, worst_dp_best < 5e-4)])
    return rows


# --------------------------------------------------------------------------- part 6: colors


COLOR_PEERS_FOR_GOAL = ("KMeans", "imagequant", "pngquant")


def bench_colors(args, log):
    """Part 6 (benchmarks.color): color palettes against Pillow, libimagequant, pngquant, KMeans."""
    res = bench_color(args, log)
    results = res["results"]
    margins, ratios, missing = [], [], []
    for name in IMAGES:
        for k in COLORS:
            ours = results.get((name, k, "vqimage", False))
            peers = {p: results.get((name, k, p, False)) for p in COLOR_PEERS_FOR_GOAL}
            if ours is None or any(r is None for r in peers.values()):
                missing.append(f"{name} {k}")
                continue
            best_name, best = max(((p, r["psnr"]) for p, r in peers.items()), key=lambda pr: pr[1])
            margins.append((ours["psnr"] - best, f"{name} {k} vs {best_name}"))
            iq = peers["imagequant"]["time"]
            ratios.append((ours["time"].median / iq.median, ours["time"].best / iq.best, f"{name} {k}"))
    goals = []
    note = f"; not measured: {', '.join(missing)}" if missing else ""
    if margins:
        worst = min(margins)
        goals.append(["colors, no dithering: PSNR >= KMeans (all pixels), imagequant and pngquant",
                      f"{len(IMAGES) * len(COLORS)} of {len(IMAGES) * len(COLORS)} cases",
                      f"{sum(m >= 0 for m, _ in margins)}/{len(margins)}; smallest margin "
                      f"{worst[0]:+.3f} dB ({worst[1]}){note}",
                      status(all(m >= 0 for m, _ in margins) and not missing)])
    if ratios:
        worst = max(ratios)
        goals.append(["colors, no dithering: fit + remap time <= imagequant's", "ratio <= 1 in every case",
                      f"{sum(r <= 1 for r, _, _ in ratios)}/{len(ratios)} (medians); largest "
                      f"{worst[0]:.2f} (median), {worst[1]:.2f} (best) ({worst[2]}){note}",
                      status(all(r <= 1 for r, _, _ in ratios) and not missing,
                             all(b <= 1 for _, b, _ in ratios) and not missing)])
    section = "\n\n".join(res["sections"])
    return section, goals, res["notes"]


def bench_dither(args, log):
    """Part 6b: what dithering costs in PSNR, vqimage's 64-color astronaut palette."""
    from skimage import data

    from vqimage.pack.formats import export_bytes

    image = data.astronaut()
    codebook = vqimage.fit(image, 64, mode="color")
    rows, psnrs = [], {}
    for label, options in (("none", {}), ("floyd-steinberg, selective", {"dither": "floyd-steinberg", "selective": True}),
                           ("floyd-steinberg", {"dither": "floyd-steinberg"}), ("atkinson", {"dither": "atkinson"}),
                           ("sierra", {"dither": "sierra"}), ("ordered", {"dither": "ordered"})):
        codes = vqimage.encode(image, codebook, **options)
        t = timeit(lambda options=options: vqimage.encode(image, codebook, **options), 3 if args.quick else 7)
        psnrs[label] = vqimage.metrics.psnr(image, vqimage.decode(codes, codebook))
        png = len(export_bytes("png", codes, codebook)[0])
        rows.append([label, f"{psnrs[label]:.2f}", f"{psnrs[label] - psnrs['none']:+.2f}",
                     f"{8 * png / (image.shape[0] * image.shape[1]):.3f}", fmt_s(t.median)])
    log("part 6b done")
    cost = psnrs["none"] - psnrs["floyd-steinberg, selective"]
    section = "\n".join([
        "## Dithering: what it costs (astronaut, vqimage's 64 colors)",
        "",
        "PSNR against the original, its change from no dithering, the palette PNG's size and "
        "the time of the remap alone (the palette is fitted once).",
        "",
        table(["dither", "PSNR dB", "vs none", "PNG bits/px", "remap time"], rows, "lrrrr"),
    ])
    goal = ["astronaut, 64 colors: selective dithering's PSNR cost", "<= 1 dB", f"{cost:.2f} dB",
            status(cost <= 1)]
    return section, [goal]


# --------------------------------------------------------------------------- part 7: targets, batch


def bench_targets(images, args, log):
    """Part 7a: a target search (``vqimage.quantize(image, target_psnr=...)``) against the brute-force sweep."""
    repeat = 1 if args.quick else 3
    rows, goals_ok = [], True
    for name, image in images:
        for label, target in (("PSNR >= 35 dB", {"target_psnr": 35.0}), ("max error <= 4", {"max_error": 4.0})):
            search = timeit(lambda target=target: vqimage.quantize(image, **target), repeat)
            chosen = vqimage.quantize(image, **target).n_levels

            def brute(target=target):
                met = []
                for k in range(2, 257):  # the whole curve, as a user reading it off a sweep would
                    cb = vqimage.fit(image, k)
                    recon = vqimage.decode(vqimage.encode(image, cb), cb)
                    if "target_psnr" in target:
                        met.append(vqimage.metrics.psnr(image, recon) >= target["target_psnr"])
                    else:
                        met.append(vqimage.metrics.max_error(image, recon) <= target["max_error"])
                return next((k for k, ok in zip(range(2, 257), met) if ok), None)

            swept = timeit(brute, repeat)
            first = brute()
            agree = chosen == first if "target_psnr" in target else chosen <= first
            goals_ok &= agree
            rows.append([name, label, str(chosen), str(first), fmt_s(search.median), fmt_s(swept.median),
                         fmt_ratio(swept.median / search.median)])
    log("part 7a done")
    section = "\n".join([
        "## 7a. Targets: the search against a brute-force sweep",
        "",
        "`vqimage.quantize(image, target_psnr=...)` (the search, the codes and their report: PSNR, SSIM, max "
        "error, packed size) against a brute-force "
        "sweep of the optimal strategy at k = 2..256 (fit, encode, decode, measure). PSNR: the same count "
        "(the search reads PSNR off the histogram, level by level). Max error: the exact covering needs no "
        "search and may need fewer levels than the optimal (least-squares) codebooks of the sweep.",
        "",
        table(["image", "target", "levels chosen", "sweep's first", "search", "sweep", "sweep / search"], rows,
              "llrrrrr"),
    ])
    goal = ["targets: --target-psnr equals the sweep's choice; --max-error never needs more", "all cases",
            f"{len(rows)} cases" + ("" if goals_ok else " (a mismatch: see 7a)"), status(goals_ok)]
    return section, [goal]


def bench_unreachable(args, log):
    """Part 7c: an unreachable target fails fast, timed as whole command-line processes."""
    import tempfile

    exe = str(Path(sys.executable).parent / "vqimage")
    cases = {"-k 256": ["-k", "256"], "--target-psnr 99": ["--target-psnr", "99"]}
    times: dict = {label: [] for label in cases}
    codes: dict = {}
    with tempfile.TemporaryDirectory(prefix="vqimage-target-") as tmp:
        for _ in range(1 if args.quick else 3):  # interleaved, so that load hits both alike
            for label, extra in cases.items():
                start = time.perf_counter()
                done = subprocess.run([exe, "quantize", "astronaut", *extra, "-o", f"{tmp}/a.png", "--force", "-q"],
                                      capture_output=True, text=True)
                times[label].append(time.perf_counter() - start)
                codes[label] = done.returncode
    median = {label: statistics.median(t) for label, t in times.items()}
    ratio = median["--target-psnr 99"] / median["-k 256"]
    ok = codes == {"-k 256": 0, "--target-psnr 99": 3} and ratio <= 3.0
    log("part 7c done")
    rows = [[f"`vqimage quantize astronaut {label} -o a.png`", str(codes[label]), fmt_s(median[label])]
            for label in cases]
    section = "\n".join([
        "## 7c. An unreachable target fails fast",
        "",
        "Whole processes (interpreter start, imports, loading the image included), median of "
        f"{len(times['-k 256'])} interleaved runs. A target is first tried at the most levels allowed, so one that "
        "no codebook meets exits 3 after one quantization.",
        "",
        table(["command", "exit code", "time"], rows, "lrr"),
    ])
    goal = ["unreachable target: exit 3 in <= 3x the time of -k 256 (whole process)", "<= 3.0",
            f"{ratio:.2f}", status(ok)]
    return section, [goal]


def bench_batch(args, log):
    """Part 7b: batch throughput on a folder of generated images, 1 and 2 workers."""
    import tempfile

    from PIL import Image
    from skimage import data

    from vqimage.cli import main as cli_main

    count = 20 if args.quick else 100
    sources = [data.camera(), data.astronaut(), data.coffee(), data.chelsea(), data.moon(), data.coins()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="vqimage-batch-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        rng = np.random.default_rng(0)
        total_bytes = 0
        for i in range(count):
            image = sources[i % len(sources)]
            y, x = rng.integers(0, image.shape[0] - 256), rng.integers(0, image.shape[1] - 256)
            crop = image[y : y + 256, x : x + 256]
            Image.fromarray(crop).save(folder / f"img{i:03d}.png")
            total_bytes += crop.nbytes
        for workers in (1, 2):
            out = Path(tmp) / f"out{workers}"
            argv = ["quantize", str(folder), "-k", "16", "-o", str(out), "-j", str(workers), "-q", "--force"]
            assert cli_main(argv) == 0
            t = timeit(lambda argv=argv: cli_main(argv), 1 if args.quick else 3)
            rows.append([str(workers), str(count), fmt_s(t.median), f"{count / t.median:.1f}",
                         f"{total_bytes / t.median / 1e6:.1f}"])
    log("part 7b done")
    return "\n".join([
        "## 7b. Batch: a folder of images, 1 and 2 workers",
        "",
        f"`vqimage quantize DIR -k 16 -o OUT -j N` on {count} PNG files (256x256 crops of scikit-image's camera, "
        "astronaut, coffee, chelsea, moon and coins; color ones stay color): reading, fitting, encoding and "
        "writing palette PNGs, in-process (no interpreter start).",
        "",
        table(["workers", "files", "time", "files/s", "MB/s of pixels"], rows, "rrrrr"),
    ])


# --------------------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"markdown report to write (default: {DEFAULT_OUTPUT.relative_to(ROOT)})")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="first wait up to SECONDS for other processes to leave the CPUs idle")
    args = parser.parse_args(argv)
    args.repeat_fast = 5 if args.quick else 20   # sub-second calls
    args.repeat_slow = 3 if args.quick else 10   # KBinsDiscretizer kmeans on the face
    args.repeat_dp = 2 if args.quick else 5      # ~0.5 s calls
    args.repeat_peer_wide = 1 if args.quick else 3
    return args


def run_benchmarks(args, log):
    """Run parts 1-9; return their markdown sections and the numbers the goals need."""
    face, face_name, face_note = load_face()
    log(f"{face_name}: {face.shape} {face.dtype}")
    start = time.perf_counter()
    wide = make_wide_image()
    make_s = time.perf_counter() - start
    log(f"16-bit image made in {make_s:.1f} s")

    face_md, face_res = bench_face(face, face_name, args)
    log("part 1 done")
    wide_md, wide_res = bench_wide(wide, args)
    log("part 2 done")
    dp_md, dp_res = bench_dp(face, wide, args)
    log("part 2b done")
    face_cb = vqimage.fit(face, FACE_LEVELS)
    wide_cb = vqimage.fit(wide_res["hist"], WIDE_LEVELS)
    tp_md, _ = bench_throughput(face, face_cb, wide, wide_cb, args)
    log("part 3 done")
    sk_bytes = face_res["rows"]["KBinsDiscretizer kmeans"]["codes_bytes"]
    pack_md, packed_size = bench_pack(face, face_cb, wide, wide_cb, sk_bytes, args)
    log("part 4 done")
    storage_images = [(face_name, face)] + ([("camera", vqimage.load_image("camera"))] if face_name != "camera" else [])
    storage_md, storage_res = bench_storage(storage_images, args, log)
    log("part 5 done")
    color_md, color_goals, color_notes = bench_colors(args, log)
    log("part 6 done")
    dither_md, dither_goals = bench_dither(args, log)
    target_md, target_goals = bench_targets(storage_images, args, log)
    batch_md = bench_batch(args, log)
    unreachable_md, unreachable_goals = bench_unreachable(args, log)
    dask_md, dask_goals = bench_dask(args, log)
    log("part 8 done")
    cli_md, cli_goals = bench_cli(args, log)
    log("part 9 done")
    perceptual_md, perceptual_goals = bench_perceptual(args, log)
    log("part 10 done")
    memory_md, memory_goals = bench_memory(args, log)
    log("part 11 done")
    return {
        "sections": [face_md, wide_md, dp_md, tp_md, pack_md, storage_md, color_md, dither_md, target_md, batch_md,
                     unreachable_md, dask_md, cli_md, perceptual_md, memory_md],
        "goals": goal_rows(face_res, wide_res, dp_res, packed_size) + storage_goals(storage_res, face_name)
        + color_goals + dither_goals + target_goals + unreachable_goals + dask_goals + cli_goals
        + perceptual_goals + memory_goals,
        "color_notes": color_notes,
        "face_name": face_name, "face_note": face_note, "make_s": make_s,
    }


def method_notes(results, args, cold, busy_before, load, elapsed) -> list[str]:
    notes = [
        "- Each timed call is made once first and not counted (lazy imports, first-touch "
        "allocations). A sample is the mean of `number` back-to-back calls (the "
        "\"samples\" column reads `repeat`x`number`; just `repeat` when `number` is 1), with "
        "`number` chosen so a sample lasts >= 5 ms. Garbage collection is off while timing. "
        "Ratios and GB/s use medians.",
        f"- Native thread pools scikit-learn used: {thread_pools()}. vqimage counts the "
        "histogram of images over 256K pixels and runs the color fit's assignment passes on all "
        "cores (OpenMP, compiled ahead of time by Cython); its other kernels are single-threaded.",
    ]
    if cold:
        notes.append(f"- Cold start, excluded above (fresh interpreter): "
                     f"`import vqimage` {fmt_s(cold[0])}; first `fit` + `encode` on "
                     f"{results['face_name']} {fmt_s(cold[1])}.")
    if load is not None:
        notes.append(
            f"- Other processes on this machine used {busy_before or 0:.0%} of its cores in the "
            f"second before the run and {load[0]:.0%} during it; the hypervisor stole "
            f"{load[1]:.1%}. vqimage's gray kernels are single-threaded and notice a busy machine less; "
            "its color kernels (OpenMP prange) and scikit-learn's two-thread OpenMP k-means do (a thread "
            "descheduled at a barrier stalls the other), which the single-thread KBinsDiscretizer row makes "
            "visible.")
    notes += ["- Colors (parts 6, 6b):", *[f"  {line}" for line in results["color_notes"]]]
    notes.append(f"- Generating the 16-bit image took {results['make_s']:.1f} s (not timed above); "
                 f"the whole run took {elapsed:.0f} s{' (--quick)' if args.quick else ''}.")
    return notes


def render(results, env, notes, disturbed) -> str:
    face_note = results["face_note"]
    return "\n".join([
        "# vqimage benchmarks",
        "",
        "Generated by `python -m benchmarks.run`; every number below comes from one run on one machine, "
        "peers measured side by side. Re-run to refresh; do not edit by hand.",
        "",
        *[f"- **{k}:** {v}" for k, v in env],
        *(["", face_note] if face_note else []),
        *(["", "**Warning: other processes were busy during this run (see Method); peer timings, "
                "scikit-learn's k-means above all, are inflated. Re-run on a quiet machine.**"]
          if disturbed else []),
        "",
        "## Goals",
        "",
        table(["goal", "target", "measured", "status"], results["goals"], "llll"),
        "",
        *[line for section in results["sections"] for line in (section, "")],
        "## Method",
        "",
        *notes,
        "",
    ])


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    busy_before = wait_for_quiet(args.wait_quiet)
    started = time.perf_counter()
    cpu_at_start = cpu_snapshot()

    def log(msg):
        print(f"[{time.perf_counter() - started:6.1f} s] {msg}", file=sys.stderr)

    results = run_benchmarks(args, log)
    load = other_load(cpu_at_start, cpu_snapshot())
    cold = cold_start(results["face_name"])  # after the timings: a subprocess is load too
    elapsed = time.perf_counter() - started
    disturbed = load is not None and max(load[0], busy_before or 0) > 0.05
    text = render(results, environment(argv), method_notes(results, args, cold, busy_before, load, elapsed),
                  disturbed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.output)
    print(text)
    log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
