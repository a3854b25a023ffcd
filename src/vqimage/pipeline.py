"""The whole pipeline in one call: image -> ``.vq`` bytes -> image.

``compress`` = :func:`vqimage.fit` (or a given codebook) -> encode -> the
``.vq`` container; ``decompress`` reverses the last two steps.
"""

from __future__ import annotations

import numpy as np

from .codebook import Codebook, fit
from .pack.container import DEFAULT_CODER, DEFAULT_MAX_PIXELS, read_info, read_vq, write_vq

__all__ = ["compress", "decompress", "decompress_image", "vq_info"]


def compress(image, n_levels: int | None = None, *, codebook: Codebook | None = None,
             coder: str = DEFAULT_CODER, **fit_options) -> bytes:
    """Quantize ``image`` and store it as the bytes of a ``.vq`` file.

    Parameters
    ----------
    image : array_like
        Any shape, int or float dtype (gray); 8-bit RGB/RGBA with
        ``mode='color'``; 8-bit gray with ``mode='block'``.
    n_levels : int, optional
        Levels to fit (see :func:`vqimage.fit`); not needed with ``codebook``.
    codebook : Codebook, optional
        Use this codebook (for instance one shared by many images) instead of
        fitting one.
    coder : {'context', 'packed'}
        Payload coder: 'context' (adaptive context mixing, near the
        information limit; the default) or 'packed' (exactly
        ``ceil(log2 n_levels)`` bits per pixel).
    **fit_options
        Passed to :func:`vqimage.fit` (mode, strategy, reconstruction, weights, ...).

    Returns
    -------
    bytes

    Examples
    --------
    >>> import vqimage
    >>> image = vqimage.load_image("camera")
    >>> data = vqimage.compress(image, 8, coder="packed")
    >>> codes, codebook = vqimage.decompress(data)
    >>> codes.shape, codebook.n_levels
    ((512, 512), 8)
    """
    if codebook is None:
        if n_levels is None:
            raise TypeError("compress needs n_levels (or a codebook).")
        codebook = fit(image, n_levels, **fit_options)
    elif n_levels is not None or fit_options:
        raise TypeError("compress takes either a codebook or n_levels and fit options, not both.")
    elif not isinstance(codebook, Codebook):
        raise TypeError(f"The 'codebook' parameter of compress must be a Codebook. Got {type(codebook).__name__}.")
    image_shape = np.shape(image) if codebook.mode == "block" else None
    return write_vq(codebook.encode(image), codebook, coder=coder, image_shape=image_shape)


def decompress(data, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, Codebook]:
    """Codes and codebook from ``.vq`` bytes.

    Any input either gives back exactly what was compressed or raises
    :class:`vqimage.VQError` with the reason (damaged, truncated, foreign,
    or declaring more than ``max_pixels`` pixels); nothing is allocated
    before the header has been checked.
    """
    return read_vq(data, max_pixels=max_pixels)


def decompress_image(data, *, dtype=None, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The reconstructed image from ``.vq`` bytes (in the source dtype unless ``dtype``)."""
    codes, codebook, shape = read_vq(data, max_pixels=max_pixels, with_shape=True)
    return codebook.decode(codes, dtype=dtype, shape=shape if codebook.mode == "block" else None)


def vq_info(data, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> dict:
    """Header and sizes of ``.vq`` bytes (checksum verified, payload not decoded).

    Keys: shape (of the codes), image_shape, mode, dtype, n_levels, strategy,
    reconstruction, coder, bytes, payload_bytes, bits_per_pixel (per image
    pixel), original_bytes, ratio.
    """
    return read_info(data, max_pixels=max_pixels)
