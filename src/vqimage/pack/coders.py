"""Stage 4: the payload coders of the ``.vq`` container, behind one small codec contract.

In the spirit of numcodecs: a codec is configured by a small JSON-safe dict
(``get_config`` / :func:`from_config`), ``encode`` turns a 2-D array of codes
into bytes and ``decode(data, out=None)`` turns them back, into ``out`` when
given (the container allocates it, after checking the header). A codec knows
the number of levels and the raster shape it codes, which the container
stores in its header.

========  ===================================================================
id        payload
========  ===================================================================
context   adaptive context-mixing arithmetic code (:mod:`.entropy`): near
          the information limit, no stored tables; the default
packed    exactly ``ceil(log2 n_levels)`` bits per code (:mod:`.bits`)
========  ===================================================================
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from .._validation import Interval, Options, check_param, check_raster
from ..codebook import code_dtype

__all__ = ["CODERS", "DEFAULT_CODER", "Codec", "ContextCodec", "PackedCodec", "get_codec", "from_config"]


class Codec(ABC):
    """Codes of a ``shape`` raster with ``n_levels`` levels <-> payload bytes.

    Parameters
    ----------
    n_levels : int in [1, 65536]
    shape : (int, int)
        ``(rows, cols)`` of the codes (the container's 2-D view of them).
    """

    codec_id: ClassVar[str]

    def __init__(self, n_levels: int, shape):
        check_param("n_levels", n_levels, Interval(int, 1, 65536), caller=type(self).__name__)
        self.n_levels = int(n_levels)
        self.shape = check_raster(shape, caller=type(self).__name__)

    @property
    def dtype(self) -> np.dtype:
        """dtype of the decoded codes: uint8 up to 256 levels, uint16 above."""
        return code_dtype(self.n_levels)

    def encode(self, codes) -> bytes:
        """The payload of ``codes`` (shape :attr:`shape`, every value < :attr:`n_levels`)."""
        codes = np.asarray(codes)
        if codes.shape != self.shape:
            raise ValueError(f"The 'codes' parameter of {type(self).__name__}.encode must have shape {self.shape}. "
                             f"Got {codes.shape}.")
        return self._encode(codes)

    @abstractmethod
    def _encode(self, codes: np.ndarray) -> bytes:
        """The payload of checked codes."""

    @abstractmethod
    def decode(self, data, out: np.ndarray | None = None) -> np.ndarray:
        """The codes of ``data``; written into ``out`` (shape :attr:`shape`, :attr:`dtype`) when given.

        Raises
        ------
        VQError
            When ``data`` is not a valid payload for this codec.
        """

    def _out(self, out):
        if out is None:
            return np.zeros(self.shape, self.dtype)
        if out.shape != self.shape or out.dtype != self.dtype or not out.flags.c_contiguous:
            raise ValueError(f"The 'out' parameter of {type(self).__name__}.decode must be a C-contiguous "
                             f"{self.dtype} array of shape {self.shape}. Got {out.dtype} of shape {out.shape}.")
        return out

    def get_config(self) -> dict:
        """``{"id", "n_levels", "shape"}``: what :func:`from_config` rebuilds this codec from."""
        return {"id": self.codec_id, "n_levels": self.n_levels, "shape": list(self.shape)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_levels={self.n_levels}, shape={self.shape})"


class ContextCodec(Codec):
    """Adaptive context mixing and binary range coding (:mod:`vqimage.pack.entropy`).

    Examples
    --------
    >>> import numpy as np
    >>> codec = ContextCodec(4, (2, 3))
    >>> data = codec.encode(np.array([[0, 1, 2], [3, 2, 1]], np.uint8))
    >>> codec.decode(data)
    array([[0, 1, 2],
           [3, 2, 1]], dtype=uint8)
    """

    codec_id = "context"

    def _encode(self, codes):
        from .entropy import encode_codes

        return encode_codes(codes, self.n_levels)

    def decode(self, data, out=None):
        from .entropy import decode_codes

        return decode_codes(data, self.n_levels, self.shape, out=None if out is None else self._out(out))


class PackedCodec(Codec):
    """Exactly ``ceil(log2 n_levels)`` bits per code (:func:`vqimage.pack`).

    Examples
    --------
    >>> import numpy as np
    >>> codec = PackedCodec(8, (1, 8))
    >>> codec.encode(np.arange(8, dtype=np.uint8).reshape(1, 8)).hex()
    '053977'
    """

    codec_id = "packed"

    def _encode(self, codes):
        from .bits import pack

        return pack(codes, self.n_levels)

    def decode(self, data, out=None):
        from .bits import unpack

        out = self._out(out)
        out[...] = unpack(data, self.n_levels, self.shape)
        return out


#: Payload coders by id, the default first.
CODERS = {codec.codec_id: codec for codec in (ContextCodec, PackedCodec)}
DEFAULT_CODER = next(iter(CODERS))


def get_codec(coder: str, n_levels: int, shape, *, caller: str = "get_codec") -> Codec:
    """The codec ``coder`` (an id of :data:`CODERS`) for ``n_levels`` levels and a ``shape`` raster."""
    check_param("coder", coder, Options(CODERS), caller=caller)
    return CODERS[coder](n_levels, shape)


def from_config(config: dict) -> Codec:
    """Rebuild a codec from :meth:`Codec.get_config`'s dict."""
    return get_codec(config["id"], config["n_levels"], config["shape"], caller="from_config")
