"""Stage 4: standard files from codes and a codebook, chosen by extension.

============  =============================================================
extension     what is written
============  =============================================================
``.vq``       vqimage's own container (FORMAT.md): codes, codebook, CRC.
``.png``      8-bit gray or color codebooks of at most 256 levels: a palette
              PNG (PNG-8) whose palette is the codebook and whose pixels are
              the codes, at the smallest bit depth (1, 2, 4 or 8 bits per
              pixel), with exactly ``n_levels`` palette entries and a tRNS
              chunk when some entry is transparent. 16-bit data: a 16-bit
              gray PNG of the reconstruction. Blocks: an 8-bit gray PNG of
              the reconstruction.
``.gif``      the same palette image as a GIF (palette padded to a power of
              two; one fully transparent entry at most).
``.raw``      an e-paper frame buffer: the codes, 1, 2, 4 or 8 bits each
              (the fewest that hold them), first pixel in the most
              significant bits, rows starting on a byte (see
              :func:`vqimage.pack.palette.epaper`).
``.webp``     the reconstruction, WebP lossless (method 6; 8-bit only).
``.jxl``      the reconstruction, JPEG XL lossless (effort 7; 8 or 16 bits).
``.tif``      the reconstruction (any dtype), zlib-compressed TIFF.
``.tiff``
``.npy``      the codes (uint8 / uint16) as a NumPy file.
============  =============================================================

Reading any of them back with :func:`vqimage.load_image` (or the ``.vq``
with :func:`vqimage.decompress_image`) gives the reconstruction exactly
(``codebook.decode(codes)``); ``.npy`` and ``.raw`` give the codes.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..codebook import Codebook
from ..io import write_atomic

__all__ = ["EXPORT_FORMATS", "export", "export_bytes", "palette_of", "palette_png"]

EXPORT_FORMATS = {
    ".vq": "vq",
    ".png": "png",
    ".gif": "gif",
    ".raw": "raw",
    ".webp": "webp",
    ".jxl": "jxl",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".npy": "npy",
}


def palette_png(codes: np.ndarray, codebook: Codebook) -> bytes:
    """A palette PNG: pixels are the codes, the palette the levels or colors (uint8).

    Written by :func:`vqimage.pack.palette.png8`: the smallest bit depth (1 bit
    for 2 levels, 2 for 4, 4 for 16, else 8), exactly ``n_levels`` palette
    entries, tRNS for transparent ones.

    Examples
    --------
    >>> import numpy as np, vqimage
    >>> image = np.array([[0, 100], [200, 255]], dtype=np.uint8)
    >>> cb = vqimage.fit(image, 4)
    >>> data = palette_png(cb.encode(image), cb)
    >>> data[24:26]    # IHDR bit depth 2, color type 3 (palette)
    b'\\x02\\x03'
    """
    from .palette import png8

    return png8(codes, palette_of(codebook, "PNG"))


def palette_of(codebook: Codebook, what: str) -> np.ndarray:
    """The codebook as a uint8 palette, (k, 3) or (k, 4): gray levels become R = G = B."""
    if codebook.mode == "block":
        raise ValueError(f"{what} needs one code per pixel; block codes are tiles. Write .png, .tif or .npy.")
    if codebook.n_levels > 256:
        raise ValueError(f"{what} holds at most 256 colors; this codebook has {codebook.n_levels}.")
    if codebook.dtype != np.uint8:
        raise ValueError(f"{what} holds 8-bit colors; this codebook was fitted on {codebook.dtype}.")
    levels = codebook.levels_as(np.uint8)
    return np.repeat(levels[:, None], 3, axis=1) if codebook.mode == "gray" else levels


def _raw_bits(n_levels: int) -> int:
    return next(b for b in (1, 2, 4, 8) if 1 << b >= n_levels) if n_levels <= 256 else 16


def export_bytes(fmt: str, codes: np.ndarray, codebook: Codebook, *, coder: str | None = None,
                 image_shape=None) -> tuple[bytes, str]:
    """The bytes of ``fmt`` (a value of :data:`EXPORT_FORMATS`) and a one-line description.

    ``coder`` is the payload coder of the 'vq' format (default: the container's
    default); ``image_shape`` the image's (height, width) for block codebooks.
    """
    if fmt == "vq":
        from .container import DEFAULT_CODER, write_vq

        coder = coder or DEFAULT_CODER
        data = write_vq(codes, codebook, coder=coder, image_shape=image_shape)
        return data, f".vq, {coder} coder, {codebook.n_levels} {_noun(codebook)}"
    if fmt in ("gif", "raw"):
        from . import palette

        _two_d(codes, fmt.upper())
        if fmt == "raw":
            if codebook.mode == "block" or codebook.n_levels > 256:
                raise ValueError("An e-paper buffer holds one code of at most 8 bits per pixel. Write .npy instead.")
            bits = _raw_bits(codebook.n_levels)
            return palette.epaper(codes, bits), f"e-paper buffer, {bits} bit(s) per pixel, MSB first, rows byte-aligned"
        return palette.gif(codes, palette_of(codebook, "GIF")), f"GIF, {codebook.n_levels} {_noun(codebook)}"
    recon_shape = image_shape if codebook.mode == "block" else None
    if fmt == "webp":
        return _webp(codes, codebook, recon_shape), "WebP lossless of the reconstruction"
    if fmt == "jxl":
        return _jxl(codes, codebook, recon_shape), "JPEG XL lossless of the reconstruction"
    if fmt == "npy":
        out = io.BytesIO()
        np.save(out, np.ascontiguousarray(codes), allow_pickle=False)
        return out.getvalue(), f"codes, {codes.dtype} NumPy array"
    if fmt == "tiff":
        import tifffile

        out = io.BytesIO()
        recon = codebook.decode(codes, shape=recon_shape)
        tifffile.imwrite(out, recon, compression="zlib")
        return out.getvalue(), f"reconstruction, {recon.dtype} TIFF"
    if fmt == "png":
        _two_d(codes, "PNG")
        if codebook.mode == "block":
            recon = codebook.decode(codes, shape=recon_shape)
            return _png_gray(recon), f"{recon.dtype.itemsize * 8}-bit gray PNG of the reconstruction"
        if codebook.dtype == np.uint8:
            levels = "gray levels" if codebook.mode == "gray" else "colors"
            alpha = ", tRNS" if codebook.n_components == 4 and (codebook.levels[:, 3] < 255).any() else ""
            return (palette_png(codes, codebook),
                    f"{_raw_bits(codebook.n_levels)}-bit palette PNG, {codebook.n_levels} {levels}{alpha}")
        if codebook.dtype == np.uint16:
            return _png_gray(codebook.decode(codes)), "16-bit gray PNG of the reconstruction"
        raise ValueError(
            f"PNG holds 8- or 16-bit unsigned images; this codebook was fitted on {codebook.dtype}. "
            "Write .tif or .npy instead."
        )
    raise ValueError(f"Unknown export format {fmt!r}; known: {', '.join(sorted(set(EXPORT_FORMATS.values())))}.")


def _noun(codebook: Codebook) -> str:
    return {"gray": "levels", "color": "colors", "block": "blocks"}[codebook.mode]


def _png_gray(image: np.ndarray) -> bytes:
    import imagecodecs

    return imagecodecs.png_encode(image, level=9)


def _two_d(codes: np.ndarray, fmt: str) -> None:
    if codes.ndim != 2:
        raise ValueError(f"{fmt} needs a 2-D image; the codes have shape {codes.shape}. Write .tif or .npy.")


def _webp(codes: np.ndarray, codebook: Codebook, shape=None) -> bytes:
    from PIL import Image

    _two_d(codes, "WebP")
    if codebook.dtype != np.uint8:
        raise ValueError(f"WebP holds 8-bit images; this codebook was fitted on {codebook.dtype}. Write .jxl, .tif or .npy.")
    out = io.BytesIO()
    recon = codebook.decode(codes, shape=shape)
    Image.fromarray(recon).save(out, format="WEBP", lossless=True, quality=100, method=6, exact=True)
    return out.getvalue()


def _jxl(codes: np.ndarray, codebook: Codebook, shape=None) -> bytes:
    import imagecodecs

    _two_d(codes, "JPEG XL")
    if codebook.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"JPEG XL export takes 8- or 16-bit unsigned images; this codebook was fitted on {codebook.dtype}. "
            "Write .tif or .npy instead."
        )
    return imagecodecs.jpegxl_encode(codebook.decode(codes, shape=shape), lossless=True, effort=7)


def export(path, codes: np.ndarray, codebook: Codebook, *, force: bool = False, fmt: str | None = None,
           coder: str | None = None, image_shape=None) -> dict:
    """Write codes (or their reconstruction) to ``path``, format by extension.

    The file is written atomically and an existing file is only replaced with
    ``force=True``. Returns ``{"path", "format", "bytes", "description"}``.
    """
    path = Path(path)
    if fmt is None:
        fmt = EXPORT_FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(
                f"{path}: unknown output extension {path.suffix!r}; use one of "
                f"{', '.join(EXPORT_FORMATS)}."
            )
    data, description = export_bytes(fmt, codes, codebook, coder=coder, image_shape=image_shape)
    write_atomic(path, data, force=force)
    return {"path": str(path), "format": fmt, "bytes": len(data), "description": description}
