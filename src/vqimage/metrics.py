"""Quality and size metrics: what quantization cost, in numbers.

Differences are taken in float64, never in the images' own dtype. The peak
of PSNR and SSIM is an explicit ``data_range``, or for integer images the
full range of their dtype (255 for uint8, 65535 for uint16); float images
must say theirs. ``psnr`` never guesses a range from the data. MSE, PSNR,
max error and SSIM read the images in place or convert them in pieces of at
most :data:`_PIECE_VALUES` values (SSIM: bands of rows with the rows below
that its window reaches): no float64 copy of a whole image is made.

:class:`Evaluation` is the one record of what a quantization cost (MSE,
PSNR, SSIM, max error, bytes and bits per pixel): :func:`vqimage.quantize`,
the command line, the target search, comparisons and the report all measure
through :func:`evaluate` (pixels) or :func:`evaluate_histogram` (exact, from
a histogram, without a pass over the pixels).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ._validation import check_image

__all__ = [
    "Evaluation",
    "SSIM_CHEAP_VALUES",
    "evaluate",
    "evaluate_histogram",
    "mse",
    "psnr",
    "ssim",
    "ssimulacra2",
    "butteraugli",
    "max_error",
    "bits_per_pixel",
    "entropy",
    "peak",
]


@dataclass(frozen=True)
class Evaluation:
    """What a quantization cost.

    Attributes
    ----------
    mse, max_error : float
        Mean squared and largest absolute error (float64 differences).
    psnr : float or None
        In dB (``inf`` when lossless); None for a float image without a
        ``data_range``.
    ssim : float or None
        Structural similarity (the channels' mean for colors); None when not
        asked for, skipped or not defined (float images without a range,
        images thinner than 2 pixels, RGBA, whose clear pixels do not count).
    ssim_skipped : bool
        SSIM was left out because the image is large (see :func:`evaluate`).
    ssimulacra2 : float or None
        The perceptual score of :func:`ssimulacra2` (higher is better, 90
        visually lossless); None when not asked for (it takes ~0.3 s per
        megapixel, so only when asked: see :func:`evaluate`).
    bytes : int or None
        Size of the output in format ``fmt``, when measured.
    bits_per_pixel : float or None
        ``8 * bytes / pixels`` (a color pixel counts once).
    fmt : str or None
        The format ``bytes`` measures ('vq', 'png', ...; 'packed' for the
        codes at exactly ``ceil(log2 k)`` bits each).
    """

    mse: float
    psnr: float | None
    ssim: float | None
    max_error: float
    bytes: int | None = None
    bits_per_pixel: float | None = None
    fmt: str | None = None
    ssim_skipped: bool = False
    ssimulacra2: float | None = None

    def with_size(self, n_bytes: int, pixels: int, fmt: str) -> Evaluation:
        """This record with the size of an output of ``n_bytes`` for ``pixels`` pixels."""
        return dataclasses.replace(self, bytes=int(n_bytes), bits_per_pixel=bits_per_pixel(n_bytes, (pixels,)),
                                   fmt=fmt)

    def as_dict(self) -> dict:
        """The fields as a JSON-safe dict."""
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        parts = [f"MSE {self.mse:.2f}"]
        if self.psnr is not None:
            parts.append(f"PSNR {self.psnr:.2f} dB")
        if self.ssim is not None:
            parts.append(f"SSIM {self.ssim:.4f}")
        elif self.ssim_skipped:
            parts.append("SSIM skipped (a large image: ask for it)")
        if self.ssimulacra2 is not None:
            parts.append(f"SSIMULACRA2 {self.ssimulacra2:.1f}")
        parts.append(f"max error {self.max_error:g}")
        if self.bytes is not None:
            parts.append(f"{self.bytes:,} bytes ({self.fmt}, {self.bits_per_pixel:.3f} bits/pixel)")
        return ", ".join(parts)


#: Up to this many values (pixels times channels) SSIM is cheap enough to compute unasked (~25 ms).
SSIM_CHEAP_VALUES = 1 << 22


def evaluate(reference, test, *, data_range=None, color: bool = False, ssim: bool | None = None,
             ssimulacra2: bool = False) -> Evaluation:
    """The :class:`Evaluation` of ``test`` against ``reference`` (sizes left to :meth:`Evaluation.with_size`).

    Parameters
    ----------
    reference, test : ndarray
        Same shape.
    data_range : float, optional
        Peak of PSNR and SSIM (see :func:`peak`); without it, float images get
        no PSNR or SSIM.
    color : bool
        The last axis holds the channels of a color image: SSIM is the
        channels' mean, and for RGBA only pixels with alpha > 0 count (the
        colors of clear pixels are invisible), with no SSIM.
    ssim : bool or None
        Compute SSIM (the slowest metric: ~3 ms for 512x512 gray, ~20 ms for
        color). None: only when cheap, up to :data:`SSIM_CHEAP_VALUES` values;
        the record says when it was skipped.
    ssimulacra2 : bool
        Also compute :func:`ssimulacra2` (8-bit images; needs the
        ``[perceptual]`` extra). It is never computed unasked: about 0.33 s
        for a 512x512 color image, as long as the whole quantization.

    Examples
    --------
    >>> import numpy as np
    >>> e = evaluate(np.array([[0, 10], [20, 30]], np.uint8), np.array([[1, 10], [20, 27]], np.uint8))
    >>> e.mse, round(e.psnr, 2), e.max_error
    (2.5, 44.15, 3.0)
    """
    reference, test = _pair(reference, test, "evaluate")
    try:
        top = peak(reference, data_range)
    except ValueError:
        if data_range is not None:
            raise
        top = None
    if ssimulacra2 and not color and reference.ndim != 2:
        raise ValueError(f"SSIMULACRA2 scores 2-D gray or color images; this gray image has shape {reference.shape}.")
    full_reference, full_test = reference, test
    defined = top is not None and reference.ndim in (2, 3) and min(reference.shape[:2]) >= 2
    wanted = ssim if ssim is not None else reference.size <= SSIM_CHEAP_VALUES
    windowed = defined and wanted
    if color and reference.shape[-1] == 4:
        defined = False
        visible = reference[..., 3] > 0
        reference, test = reference[visible], test[visible]
        windowed = False
    error, largest = _errors(reference, test)
    return Evaluation(
        mse=error,
        psnr=None if top is None else _psnr(error, top),
        ssim=_ssim(reference, test, top, -1 if color else None) if windowed else None,
        max_error=largest,
        ssim_skipped=defined and ssim is None and not wanted,
        ssimulacra2=_perceptual(full_reference, full_test) if ssimulacra2 else None,
    )


def evaluate_histogram(values, counts, decoded, *, data_range=None, dtype=None) -> Evaluation:
    """The :class:`Evaluation` of an image known by its histogram (no SSIM).

    ``values`` are the distinct values, ``counts`` their weights and
    ``decoded`` what each decodes to: exactly what encoding and decoding every
    pixel gives, without a pass over the pixels. ``dtype`` (the image's) gives
    the peak of integer images when ``data_range`` is None.

    Examples
    --------
    >>> import numpy as np
    >>> e = evaluate_histogram([0, 10, 20, 30], [1, 1, 1, 1], [1, 10, 20, 27], dtype=np.uint8)
    >>> e.mse, round(e.psnr, 2), e.max_error
    (2.5, 44.15, 3.0)
    """
    values = np.asarray(values, np.float64)
    counts = np.asarray(counts, np.float64)
    error = values - np.asarray(decoded, np.float64)
    squared = float(np.sum(counts * error * error) / np.sum(counts))
    top = None
    if data_range is not None or (dtype is not None and np.dtype(dtype).kind in "ui"):
        top = peak(np.zeros(0, dtype or np.float64), data_range)
    return Evaluation(mse=squared, psnr=None if top is None else _psnr(squared, top), ssim=None,
                      max_error=float(np.abs(error).max()))


def _errors(reference: np.ndarray, test: np.ndarray) -> tuple[float, float]:
    """(MSE, largest absolute difference): exact integer sums for 8/16-bit images, float64 otherwise.

    Both go through the images in pieces of at most :data:`_PIECE_VALUES`
    values, so that no float64 copy of a whole image is made.
    """
    if reference.size == 0:
        return 0.0, 0.0
    if reference.dtype == test.dtype and reference.dtype in (np.uint8, np.uint16):
        from ._metrics_kernels import squared_error

        total = largest = 0
        for a, b in _pieces(reference, test, _PIECE_VALUES):
            part, top = squared_error(a, b)
            total, largest = total + part, max(largest, top)
        return total / reference.size, float(largest)
    total, largest = 0.0, 0.0
    for a, b in _pieces(reference, test, _PIECE_VALUES):
        diff = np.subtract(a, b, dtype=np.float64)  # cast value by value: one float64 piece, not three
        largest = max(largest, float(diff.max()), -float(diff.min()))
        np.multiply(diff, diff, out=diff)
        total += float(np.sum(diff))
        del diff  # before the next piece is made
    return total / reference.size, largest


#: Values per piece or band where the metrics convert to float64 (8 MiB of float64 each).
_PIECE_VALUES = 1 << 20


def _pieces(a: np.ndarray, b: np.ndarray, limit: int):
    """Matching pieces of two same-shape arrays, each at most ``limit`` values (views where possible)."""
    if a.size <= limit or a.ndim == 0:
        yield a, b
    elif a.ndim == 1 or (a.flags.c_contiguous and b.flags.c_contiguous):
        a, b = a.reshape(-1), b.reshape(-1)
        for start in range(0, a.size, limit):
            yield a[start : start + limit], b[start : start + limit]
    else:
        per = a[0].size
        if per > limit:
            for i in range(a.shape[0]):
                yield from _pieces(a[i], b[i], limit)
            return
        step = limit // per
        for start in range(0, a.shape[0], step):
            yield a[start : start + step], b[start : start + step]


def _psnr(error: float, top: float) -> float:
    return float("inf") if error == 0 else float(10 * math.log10(top * top / error))


def _pair(reference, test, caller):
    reference = check_image(reference, caller=caller, name="reference")
    test = check_image(test, caller=caller, name="test")
    if reference.shape != test.shape:
        raise ValueError(
            f"{caller}: the images must have the same shape. Got {reference.shape} and {test.shape}."
        )
    return reference, test


def peak(image, data_range=None) -> float:
    """The peak used by :func:`psnr` / :func:`ssim`: ``data_range`` or the integer dtype's range.

    Examples
    --------
    >>> import numpy as np
    >>> peak(np.zeros(3, np.uint8)), peak(np.zeros(3, np.uint16)), peak(np.zeros(3), 1.0)
    (255.0, 65535.0, 1.0)
    """
    if data_range is not None:
        value = float(data_range)
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"The 'data_range' parameter must be a positive finite float. Got {data_range!r}.")
        return value
    dtype = np.asarray(image).dtype
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return float(info.max) - float(info.min)
    raise ValueError(
        f"Float images ({dtype}) have no natural peak value: pass data_range "
        "(--data-range on the command line; e.g. 1.0 for images in [0, 1])."
    )


def mse(reference, test) -> float:
    """Mean squared error, computed in float64.

    Examples
    --------
    >>> import numpy as np
    >>> mse(np.array([0, 10], np.uint8), np.array([1, 7], np.uint8))
    5.0
    """
    reference, test = _pair(reference, test, "mse")
    return _errors(reference, test)[0]


def max_error(reference, test) -> float:
    """Largest absolute difference between two images.

    Examples
    --------
    >>> import numpy as np
    >>> max_error(np.array([0, 10], np.uint8), np.array([1, 7], np.uint8))
    3.0
    """
    reference, test = _pair(reference, test, "max_error")
    return _errors(reference, test)[1]


def psnr(reference, test, *, data_range=None) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(peak**2 / mse)``.

    The peak is ``data_range`` or, for integer images, the dtype's range
    (see :func:`peak`). Identical images give ``inf``.

    Examples
    --------
    >>> import numpy as np
    >>> round(psnr(np.array([0, 10], np.uint8), np.array([1, 7], np.uint8)), 3)
    41.141
    """
    reference, test = _pair(reference, test, "psnr")
    return _psnr(mse(reference, test), peak(reference, data_range))


def ssim(reference, test, *, data_range=None, channel_axis=None) -> float:
    """Structural similarity: scikit-image's ``structural_similarity`` with its default window.

    Gray images of any dimension; ``data_range`` as for :func:`psnr`. Color
    images: pass ``channel_axis=-1`` to average the channels' SSIM.
    Images smaller than the 7-pixel window fall back to the largest odd window
    that fits. Computed with running sums, without importing scipy, and
    without float64 copies of the images: 8/16-bit and float images are read
    in place, other dtypes converted in bands (see ``_ssim``).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(64, dtype=np.uint8).reshape(8, 8)
    >>> round(ssim(a, a // 8 * 8), 4)
    0.9857
    """
    reference, test = _pair(reference, test, "ssim")
    return _ssim(reference, test, peak(reference, data_range), channel_axis)


def ssimulacra2(reference, test) -> float:
    """SSIMULACRA2, the perceptual score of JPEG XL's tools: 100 is identical, 90 visually lossless, 70 high quality.

    Computed by the ``ssimulacra2`` package (a Python port of libjxl's tool;
    ``pip install 'vqimage[perceptual]'``) on 8-bit sRGB images. Gray
    images are scored as RGB. RGBA images are composited on a dark (10%
    gray) and on a light (90% gray) background, and the lower score counts,
    as libjxl's tool does (the package itself would drop the alpha).

    Parameters
    ----------
    reference, test : ndarray of uint8, (H, W), (H, W, 3) or (H, W, 4)
        The same shape, at least 8x8 pixels.

    Returns
    -------
    float
        Higher is better; a large loss can score below 0.
    """
    from ._optional import require

    package = require("ssimulacra2", "SSIMULACRA2")
    reference, test = _pair(reference, test, "ssimulacra2")
    return min(float(package.compute_ssimulacra2(_png(ref), _png(dist)))
               for ref, dist in _views(reference, test, "ssimulacra2"))


def butteraugli(reference, test) -> float:
    """Butteraugli, Google's perceptual distance: 0 is identical, about 1 just noticeable, lower is better.

    There is no Python package of it, so this runs the ``butteraugli`` tool
    (Apache 2.0; Debian: ``apt-get install butteraugli``) on 8-bit sRGB
    images written to temporary PNG files. It reports the worst region, so
    one badly matched spot decides the score. Gray images are scored as RGB;
    RGBA images are composited on a dark (10% gray) and on a light (90%)
    background, as :func:`ssimulacra2` does, and the worse distance counts.
    About 1 s for a 512x512 image. ``reference`` and ``test`` are as
    :func:`ssimulacra2` takes them; the distance is returned as a float.

    Raises
    ------
    FileNotFoundError
        When the tool is not installed (the message says how to install it).
    """
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    reference, test = _pair(reference, test, "butteraugli")
    views = _views(reference, test, "butteraugli")
    tool = shutil.which("butteraugli")
    if tool is None:
        raise FileNotFoundError("butteraugli needs the butteraugli tool, which is not on PATH: "
                                "apt-get install butteraugli (Debian, Ubuntu).")
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="vqimage-butteraugli-") as folder:
        a, b = Path(folder) / "reference.png", Path(folder) / "test.png"
        for ref, dist in views:
            a.write_bytes(_png(ref).getvalue())
            b.write_bytes(_png(dist).getvalue())
            out = subprocess.run([tool, str(a), str(b)], capture_output=True, text=True, check=True).stdout
            worst = max(worst, float(out.split()[0]))
    return worst


def _views(reference, test, caller):
    """The (reference, test) pairs of 8-bit RGB images a viewer sees: RGBA on a dark and on a light background."""
    if reference.dtype != np.uint8 or reference.ndim not in (2, 3) or (
            reference.ndim == 3 and reference.shape[2] not in (3, 4)):
        raise ValueError(
            f"The 'reference' parameter of {caller} must be an 8-bit gray, RGB or RGBA image (uint8; (H, W), "
            f"(H, W, 3) or (H, W, 4)). Got {reference.dtype} of shape {reference.shape}."
        )
    if min(reference.shape[:2]) < 8:
        raise ValueError(f"{caller} needs images of at least 8x8 pixels. Got {reference.shape[:2]}.")
    if reference.ndim == 2:
        return [(np.repeat(reference[..., None], 3, axis=2), np.repeat(test[..., None], 3, axis=2))]
    if reference.shape[2] == 3:
        return [(reference, test)]
    return [(_composite(reference, bg), _composite(test, bg)) for bg in (0.1, 0.9)]


def _perceptual(reference, test) -> float:
    return ssimulacra2(reference, test)  # evaluate's flag of the same name hides the function there


def _composite(rgba: np.ndarray, background: float) -> np.ndarray:
    alpha = rgba[..., 3:].astype(np.float64) / 255.0
    return np.rint(rgba[..., :3] * alpha + 255.0 * background * (1.0 - alpha)).astype(np.uint8)


def _png(rgb: np.ndarray):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG", compress_level=0)
    buffer.seek(0)
    return buffer


def _ssim(reference, test, top, channel_axis, band=None) -> float:
    """SSIM with no float64 copy of the images: read in place, or converted ``band`` rows of windows at a time.

    scikit-image's ``structural_similarity`` (uniform window, sample
    covariance) filters whole images (edges reflected) and averages S over
    the pixels at least ``(window - 1) / 2`` from every edge: exactly the
    windows that fit inside, which running sums give. Importing
    ``skimage.metrics`` (scipy.ndimage) took 0.36 s and computing 0.14 s of a
    0.7 s ``vqimage quantize`` of a 512x512 photo, and its float64 filters
    take ~40 bytes per pixel; the compiled kernel agrees with it to 1e-13
    (tests/test_metrics.py). ``band`` (tests) sets the rows of windows per
    band; by default bands hold :data:`_PIECE_VALUES` values where a dtype
    has to be converted, and the whole image where it is read in place.
    """
    if channel_axis is not None:  # each channel is a view, not a copy
        axis = channel_axis % reference.ndim
        at = (slice(None),) * axis
        return float(np.mean([_ssim(reference[at + (c,)], test[at + (c,)], top, None, band)
                              for c in range(reference.shape[axis])]))
    smallest = min(reference.shape)
    window = 7 if smallest >= 7 else max(smallest - (1 - smallest % 2), 1)
    c1, c2 = (0.01 * top) ** 2, (0.03 * top) ** 2
    if window < 3:
        return _whole_ssim(reference, test, c1, c2)
    # Both images are centred on the reference's mean, which leaves every variance and covariance
    # unchanged and keeps the sums of squares small. Neither needs a copy: 8/16-bit sums are exact.
    if reference.dtype.kind in "ui" and reference.dtype.itemsize <= 2:
        shift = int(np.sum(reference, dtype=np.int64)) / reference.size
    else:
        shift = float(np.mean(reference, dtype=np.float64))
    if reference.ndim == 2:
        total = _ssim_rows(reference, test, window, c1, c2, shift, band)
    else:
        total = _ssim_volume(reference, test, window, c1, c2, shift, band)
    return float(total / math.prod(n - window + 1 for n in reference.shape))


def _whole_ssim(x, y, c1, c2) -> float:
    """SSIM of an image too thin for a 3-pixel window: the whole image as one window (population moments).

    Two passes over pieces (means, then centred moments) instead of float64 copies.
    """
    n = x.size
    sx = sy = 0.0
    for a, b in _pieces(x, y, _PIECE_VALUES):
        sx += float(np.sum(a, dtype=np.float64))
        sy += float(np.sum(b, dtype=np.float64))
    mx, my = sx / n, sy / n
    vx = vy = cov = 0.0
    for a, b in _pieces(x, y, _PIECE_VALUES):
        a, b = np.subtract(a, mx, dtype=np.float64), np.subtract(b, my, dtype=np.float64)
        vx += float(np.sum(a * a))
        vy += float(np.sum(b * b))
        cov += float(np.sum(a * b))
    return float((2 * mx * my + c1) * (2 * cov / n + c2) / ((mx * mx + my * my + c1) * (vx / n + vy / n + c2)))


def _ssim_rows(x, y, window, c1, c2, shift, band) -> float:
    """Sum of SSIM over the windows of 2-D images, by the compiled running sums, ``band`` rows of windows at a time.

    8/16-bit and float images are read in place (a channel of a color image
    as a strided view); other dtypes are converted band by band, each band
    with the ``window - 1`` rows below it that its windows reach.
    """
    from ._metrics_kernels import ssim_sum

    native = x.dtype == y.dtype and x.dtype in (np.uint8, np.uint16, np.float32, np.float64)
    rows = x.shape[0] - window + 1
    if band is None:
        band = rows if native else max(1, _PIECE_VALUES // x.shape[1])
    total = 0.0
    for start in range(0, rows, band):
        a, b = x[start : start + band + window - 1], y[start : start + band + window - 1]
        if not native:
            a, b = a.astype(np.float64), b.astype(np.float64)
        total += ssim_sum(a, b, window, c1, c2, shift)
        del a, b
    return total


def _ssim_volume(x, y, window, c1, c2, shift, band) -> float:
    """Sum of SSIM over the windows of an n-D volume, in slabs of ``band`` windows along the first axis.

    Each slab, with the ``window - 1`` planes below it that its windows
    reach, is converted to float64 and box-filtered by running sums in numpy.
    """
    rows = x.shape[0] - window + 1
    if band is None:
        band = max(1, _PIECE_VALUES // math.prod(x.shape[1:]))
    n = window**x.ndim
    cov_norm = n / (n - 1)
    total = 0.0
    for start in range(0, rows, band):
        a = x[start : start + band + window - 1].astype(np.float64) - shift
        b = y[start : start + band + window - 1].astype(np.float64) - shift
        ux, uy = _box_mean(a, window), _box_mean(b, window)
        vx = cov_norm * (_box_mean(a * a, window) - ux * ux)
        vy = cov_norm * (_box_mean(b * b, window) - uy * uy)
        vxy = cov_norm * (_box_mean(a * b, window) - ux * uy)
        ux, uy = ux + shift, uy + shift
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        total += float(s.sum(dtype=np.float64))
    return total


def _box_mean(a: np.ndarray, window: int) -> np.ndarray:
    """Mean of every window**ndim box that fits inside ``a`` (the 'valid' region), by running sums."""
    for axis in range(a.ndim):
        sums = np.cumsum(a, axis=axis)
        first = [slice(None)] * a.ndim
        first[axis] = slice(window - 1, window)
        later, earlier = list(first), list(first)
        later[axis], earlier[axis] = slice(window, None), slice(None, -window)
        a = np.concatenate([sums[tuple(first)], sums[tuple(later)] - sums[tuple(earlier)]], axis=axis)
    return a / window**a.ndim


def bits_per_pixel(n_bytes: int, shape) -> float:
    """Storage cost in bits per pixel of ``n_bytes`` for an image of ``shape``.

    Examples
    --------
    >>> bits_per_pixel(294_912, (768, 1024))
    3.0
    """
    pixels = int(np.prod(shape))
    if pixels <= 0:
        raise ValueError(f"bits_per_pixel: the shape {shape!r} has no pixels.")
    return 8.0 * n_bytes / pixels


def entropy(codes) -> float:
    """Order-0 (empirical) entropy of the codes in bits per pixel.

    The size an ideal memoryless coder would reach; codes that depend on
    their neighbours can go below it.

    Examples
    --------
    >>> import numpy as np
    >>> entropy(np.array([0, 1, 2, 3]))
    2.0
    """
    codes = np.asarray(codes).reshape(-1)
    if codes.dtype.kind not in "ui":
        raise TypeError(f"entropy: codes must be integers. Got dtype {codes.dtype}.")
    if codes.size == 0:
        raise ValueError("entropy: no codes.")
    _, counts = np.unique(codes, return_counts=True)
    p = counts / codes.size
    return float(max(-(p * np.log2(p)).sum(), 0.0))
