"""Helpers shared by the benchmarks: timing, formatting, markdown tables and machine load.

Imported by ``benchmarks.run``, ``benchmarks.color`` and ``benchmarks.dask_bench``;
it imports none of them.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

__all__ = [
    "MIN_SAMPLE_S",
    "CpuSnapshot",
    "Timing",
    "cpu_snapshot",
    "fmt_ratio",
    "fmt_s",
    "other_load",
    "quiet_check",
    "status",
    "table",
    "timeit",
    "wait_for_quiet",
]

MIN_SAMPLE_S = 0.005


# --------------------------------------------------------------------------- timing


class Timing(NamedTuple):
    """Seconds per call: the best and the median sample, and how they were taken."""

    best: float
    median: float
    repeat: int
    number: int

    @property
    def how(self) -> str:
        return f"{self.repeat}x{self.number}" if self.number > 1 else f"{self.repeat}"


def timeit(fn: Callable[[], object], repeat: int, *, number: int | None = None) -> Timing:
    """Time ``fn()``: (best, median) seconds per call over ``repeat`` samples.

    ``fn`` is called once untimed first (warm-up: JIT, caches, allocations).
    Without ``number``, each sample averages as many calls as fill
    ``MIN_SAMPLE_S`` (judged from one more untimed call).
    """
    fn()
    if number is None:
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
        number = max(1, min(1000, int(MIN_SAMPLE_S / max(once, 1e-9))))
    samples = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - start) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    return Timing(min(samples), statistics.median(samples), repeat, number)


def fmt_s(seconds: float) -> str:
    """A duration with a unit that keeps 3 significant digits."""
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def fmt_ratio(ratio: float) -> str:
    return f"{ratio:.3g}x" if ratio < 100 else f"{ratio:.0f}x"


# --------------------------------------------------------------------------- markdown


def table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    """A markdown table; ``align`` is one of 'l'/'r' per column (default: first left)."""
    align = align or "l" + "r" * (len(headers) - 1)
    cells = [[str(c) for c in row] for row in rows]
    rule = ["---" if a == "l" else "--:" for a in align]
    lines = [headers, rule, *cells]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def status(ok_median: bool, ok_best: bool | None = None) -> str:
    """'met' only when both the medians and the best times meet the goal (when both are given)."""
    if ok_best is None or ok_median == ok_best:
        return "met" if ok_median else "**NOT met**"
    return f"**borderline: met on {'medians' if ok_median else 'best times'} only**"


# --------------------------------------------------------------------------- machine load


class CpuSnapshot(NamedTuple):
    """Machine-wide CPU ticks from /proc/stat and this process's own CPU seconds."""

    total: int
    idle: int
    steal: int
    own_s: float


def cpu_snapshot() -> CpuSnapshot | None:
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    own = os.times()
    idle = fields[3] + fields[4]  # idle + iowait
    steal = fields[7] if len(fields) > 7 else 0
    return CpuSnapshot(sum(fields), idle, steal, own.user + own.system + own.children_user
                       + own.children_system)


def other_load(before: CpuSnapshot | None, after: CpuSnapshot | None) -> tuple[float, float] | None:
    """(share of all cores used by other processes, share stolen by the hypervisor) between two snapshots."""
    if before is None or after is None or after.total <= before.total:
        return None
    hz = os.sysconf("SC_CLK_TCK")
    total = (after.total - before.total) / hz
    busy = total - (after.idle - before.idle) / hz - (after.steal - before.steal) / hz
    others = max(0.0, busy - (after.own_s - before.own_s)) / total
    return others, (after.steal - before.steal) / hz / total


def quiet_check(seconds: float = 1.0) -> float | None:
    """Share of the machine other processes use right now (sampled over ``seconds``)."""
    before = cpu_snapshot()
    time.sleep(seconds)
    load = other_load(before, cpu_snapshot())
    return None if load is None else load[0]


def wait_for_quiet(limit_s: float) -> float | None:
    """Sample other processes' CPU share until it is under 5% or ``limit_s`` has passed."""
    deadline = time.monotonic() + limit_s
    busy = quiet_check()
    while busy is not None and busy > 0.05 and time.monotonic() < deadline:
        busy = quiet_check()
    return busy


WIDE_SHAPE = (2048, 3072)
WIDE_SEED = 20240607


def make_wide_image(shape=WIDE_SHAPE, seed=WIDE_SEED) -> np.ndarray:
    """A deterministic, realistic 16-bit image: smooth structure plus shot and read noise.

    Band-limited random fields at three scales (low-resolution noise, blurred
    and upsampled by cubic splines) plus a few Gaussian blobs give the scene;
    it is mapped to ~1,500..61,500 ADU, then photon (Poisson, gain 4 ADU per
    electron) and Gaussian read noise (sigma 20 ADU) are added, as a camera would.
    """
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    h, w = shape
    field = np.zeros(shape)
    for cells, amplitude in ((8, 1.0), (32, 0.35), (128, 0.12)):
        coarse = ndimage.gaussian_filter(rng.standard_normal((cells, cells * w // h)), 1.0, mode="wrap")
        zoom = (h / coarse.shape[0], w / coarse.shape[1])
        up = ndimage.zoom(coarse, zoom, order=3, grid_mode=True, mode="grid-wrap")
        field += amplitude * up / up.std()
    yy = np.arange(h)[:, None] / h
    xx = np.arange(w)[None, :] / h
    for _ in range(6):
        cy, cx, sigma = rng.uniform(0, 1), rng.uniform(0, w / h), rng.uniform(0.03, 0.15)
        gy = np.exp(-((yy - cy) ** 2) / (2 * sigma**2))
        gx = np.exp(-((xx - cx) ** 2) / (2 * sigma**2))
        field += rng.uniform(1, 3) * (gy * gx)
    low, high = np.percentile(field, [0.1, 99.9])
    signal = 1500 + (np.clip(field, low, high) - low) / (high - low) * 60000
    electrons = rng.poisson(signal / 4.0)
    image = electrons * 4.0 + rng.normal(0.0, 20.0, shape)
    return np.rint(np.clip(image, 0, 65535)).astype(np.uint16)
