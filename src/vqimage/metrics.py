"""Quality and size metrics: what quantization cost, in numbers.

Differences are taken in float64, never in the images' own dtype. The peak
of PSNR and SSIM is an explicit ``data_range``, or for integer images the
full range of their dtype (255 for uint8, 65535 for uint16); float images
must say theirs. ``psnr`` never guesses a range from the data.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_image

__all__ = ["mse", "psnr", "ssim", "max_error", "bits_per_pixel", "entropy", "peak"]


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
    diff = reference.astype(np.float64) - test.astype(np.float64)
    return float(np.mean(diff * diff))


def max_error(reference, test) -> float:
    """Largest absolute difference between two images.

    Examples
    --------
    >>> import numpy as np
    >>> max_error(np.array([0, 10], np.uint8), np.array([1, 7], np.uint8))
    3.0
    """
    reference, test = _pair(reference, test, "max_error")
    return float(np.max(np.abs(reference.astype(np.float64) - test.astype(np.float64))))


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
    top = peak(reference, data_range)
    error = mse(reference, test)
    return float("inf") if error == 0 else float(10 * np.log10(top * top / error))


def ssim(reference, test, *, data_range=None, channel_axis=None) -> float:
    """Structural similarity (scikit-image's ``structural_similarity``, default window).

    Gray images of any dimension; ``data_range`` as for :func:`psnr`. Color
    images: pass ``channel_axis=-1`` to average the channels' SSIM.
    Images smaller than the 7-pixel window fall back to the largest odd window
    that fits.
    """
    from skimage.metrics import structural_similarity

    reference, test = _pair(reference, test, "ssim")
    if channel_axis is not None:
        top = peak(reference, data_range)
        return float(np.mean([
            ssim(np.take(reference, c, axis=channel_axis), np.take(test, c, axis=channel_axis), data_range=top)
            for c in range(reference.shape[channel_axis])
        ]))
    top = peak(reference, data_range)
    smallest = min(reference.shape)
    window = 7 if smallest >= 7 else max(smallest - (1 - smallest % 2), 1)
    if window < 3:
        # Too small for a window: SSIM of the whole image as one window.
        a, b = reference.astype(np.float64).ravel(), test.astype(np.float64).ravel()
        c1, c2 = (0.01 * top) ** 2, (0.03 * top) ** 2
        cov = np.mean((a - a.mean()) * (b - b.mean()))
        return float(
            (2 * a.mean() * b.mean() + c1) * (2 * cov + c2)
            / ((a.mean() ** 2 + b.mean() ** 2 + c1) * (a.var() + b.var() + c2))
        )
    return float(
        structural_similarity(
            reference.astype(np.float64), test.astype(np.float64), data_range=top, win_size=window
        )
    )


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
