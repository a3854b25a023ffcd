"""The Codebook: the one object every stage shares.

A value object: the levels (or codewords), the decision edges of gray
codebooks, the source dtype and how it was made. It imports no stage; the
stages take it as an argument: :func:`vqimage.fit` makes one,
:func:`vqimage.encode` / :func:`vqimage.decode` map with it, and the ``.vq``
container stores its :meth:`Codebook.to_config`.
"""

from __future__ import annotations

import json

import numpy as np

from ._spaces import CHANNELS, SPACES
from ._validation import VQError
from ._vectors import MODES

__all__ = ["MODES", "Codebook", "code_dtype"]

_CONFIG_VERSION = 1
# Vector codewords: colors (3 or 4 components) and blocks of up to 4 x 4 pixels.
_MAX_COMPONENTS = 16


def code_dtype(n_levels: int) -> np.dtype:
    """Smallest unsigned dtype that holds the codes 0 to ``n_levels - 1``."""
    return np.dtype(np.uint8) if n_levels <= 256 else np.dtype(np.uint16)


class Codebook:
    """A codebook: the reconstruction of each code, and how values get their code.

    **Gray** (scalar) codebooks have decision edges: a value ``x`` gets code
    ``i`` when ``edges[i] <= x < edges[i + 1]`` (values below ``edges[1]``
    get 0 and values from ``edges[-2]`` up get ``n_levels - 1``; the outer
    edges are the fitted data's range, as in scikit-learn's
    ``KBinsDiscretizer.bin_edges_``). Code ``i`` decodes to ``levels[i]``.

    **Vector** codebooks (``mode='color'`` or ``'block'``) have one codeword
    per code, ``levels[i]`` of shape ``(d,)``: a color (RGB or RGBA) or a
    block of gray pixels (``block=(rows, cols)``, flattened row by row). A
    vector gets the code of its nearest codeword (least squared Euclidean
    distance, ties to the lowest code); they have no edges. The distance is
    measured in the codebook's ``space`` (see below).

    Make one with :func:`vqimage.fit` or :func:`vqimage.palette_codebook`;
    rebuild one from :meth:`to_config`. Map images with it through
    :func:`vqimage.encode` and :func:`vqimage.decode`.

    Parameters
    ----------
    levels : array_like of float, shape (k,) or (k, d)
        Reconstruction of each code.
    edges : array_like of float, shape (k + 1,), or None
        Non-decreasing bin edges (gray); None for vector codebooks.
    strategy : str
        How the codebook was made ('uniform', 'quantile', 'kmeans',
        'optimal', 'edges' for user-given edges, 'wu', 'palette').
    reconstruction : str
        How the levels were chosen from the data in each bin ('centroid',
        'midpoint' or 'median'; vector codebooks: 'centroid', or 'palette'
        for user-given colors).
    dtype : numpy dtype
        The dtype of the data the codebook was fitted on; :func:`vqimage.decode`
        returns it by default.
    mode : {'gray', 'color', 'block'}, optional
        Default: 'gray' for 1-D levels, 'color' for 2-D levels.
    block : (int, int), optional
        The block shape, for ``mode='block'``.
    space : {'rgb', 'oklab', 'composite'}
        Where the distance to a color codeword is measured: 'rgb'
        (default), squared error in sRGB values, what PSNR measures;
        'oklab' (RGB codebooks), squared error in Oklab (Ottosson 2020),
        closer to what the eye sees; 'composite' (RGBA codebooks), the
        squared error of the colors composited on black plus on white (see
        :mod:`vqimage._spaces`). The levels are sRGB(A) colors either way.
    counts : array_like of float, shape (k,), optional
        The weight (pixel count) of each code in the data the codebook was
        fitted on, when the fit knows it (gray fits do). Shown by the
        notebook display; not part of :meth:`to_config` or of equality.

    Examples
    --------
    >>> import numpy as np, vqimage
    >>> image = np.array([[0, 10, 20], [200, 210, 220]], dtype=np.uint8)
    >>> cb = vqimage.fit(image, 2)
    >>> cb.levels, cb.edges
    (array([ 10., 210.]), array([  0., 110., 220.]))
    >>> codes = vqimage.encode(image, cb)
    >>> codes
    array([[0, 0, 0],
           [1, 1, 1]], dtype=uint8)
    >>> vqimage.decode(codes, cb)
    array([[ 10,  10,  10],
           [210, 210, 210]], dtype=uint8)
    """

    def __init__(self, levels, edges=None, *, strategy: str, reconstruction: str, dtype, mode=None, block=None,
                 space: str = "rgb", counts=None):
        try:
            levels = np.array(levels, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"A codebook's levels must be numbers ({exc}).") from None
        dtype = np.dtype(dtype)
        if dtype.kind not in "uif":
            raise TypeError(f"A codebook's dtype is an integer or float dtype (what it was fitted on). Got {dtype}.")
        if mode is None:
            mode = "gray" if levels.ndim <= 1 else "color"
        if mode not in MODES:
            raise ValueError(f"A codebook's mode is one of {', '.join(MODES)}. Got {mode!r}.")
        if mode == "gray":
            if levels.ndim > 2 or (levels.ndim == 2 and levels.shape[1] != 1):
                raise ValueError(f"A gray codebook's levels have shape (k,) (or (k, 1)). Got shape {levels.shape}.")
            levels = levels.reshape(-1)
            if edges is None:
                raise ValueError("A gray codebook needs edges.")
            edges = np.array(edges, dtype=np.float64).reshape(-1)
        else:
            if levels.ndim != 2 or not 1 <= levels.shape[1] <= _MAX_COMPONENTS:
                raise ValueError(
                    f"A {mode} codebook's levels have shape (k, d) with 1 <= d <= {_MAX_COMPONENTS}. "
                    f"Got shape {levels.shape}."
                )
            if edges is not None:
                raise ValueError(f"A {mode} codebook has no edges (codes go to the nearest codeword).")
        if not 1 <= levels.shape[0] <= 65536:
            raise ValueError(f"A codebook has 1 to 65536 levels. Got {levels.shape[0]}.")
        if mode == "color" and levels.shape[1] not in (3, 4):
            raise ValueError(f"A color codebook has RGB (3) or RGBA (4) levels. Got {levels.shape[1]} components.")
        if mode == "block":
            if not (isinstance(block, tuple | list) and len(block) == 2 and all(
                    isinstance(b, int | np.integer) and not isinstance(b, bool) and b >= 1 for b in block)):
                raise ValueError(f"A block codebook needs block=(rows, cols) of positive ints. Got {block!r}.")
            block = (int(block[0]), int(block[1]))
            if block[0] * block[1] != levels.shape[1]:
                raise ValueError(f"Block {block} has {block[0] * block[1]} pixels; the levels have {levels.shape[1]}.")
        elif block is not None:
            raise ValueError(f"block= is for block codebooks; this one is {mode}.")
        if mode == "gray":
            if edges.size != levels.size + 1:
                raise ValueError(
                    f"A codebook with {levels.size} levels needs {levels.size + 1} edges. Got {edges.size}."
                )
            if not np.isfinite(edges).all():
                raise ValueError("Codebook levels and edges must be finite.")
            if (edges[1:] < edges[:-1]).any():
                raise ValueError("Codebook edges must be non-decreasing.")
            edges.flags.writeable = False
        if not np.isfinite(levels).all():
            raise ValueError("Codebook levels and edges must be finite.")
        if space not in SPACES:
            raise ValueError(f"A codebook's space is one of {', '.join(SPACES)}. Got {space!r}.")
        if space != "rgb" and not (mode == "color" and levels.shape[1] == CHANNELS[space]):
            raise ValueError(f"space={space!r} is for {'RGB' if CHANNELS[space] == 3 else 'RGBA'} color codebooks; "
                             f"this one is {mode} with {1 if levels.ndim == 1 else levels.shape[1]} component(s).")
        if counts is not None:
            counts = np.array(counts, dtype=np.float64)
            if counts.shape != (levels.shape[0],) or not np.isfinite(counts).all() or (counts < 0).any():
                raise ValueError(f"A codebook's counts are {levels.shape[0]} finite weights >= 0, one per level. "
                                 f"Got shape {counts.shape}.")
            counts.flags.writeable = False
        levels.flags.writeable = False
        self.counts = counts
        self.levels = levels
        self.edges = edges
        self.mode = mode
        self.block = block
        self.space = space
        self.strategy = str(strategy)
        self.reconstruction = str(reconstruction)
        self.dtype = dtype
        self._derived: dict = {}

    @property
    def n_levels(self) -> int:
        """Number of codes."""
        return int(self.levels.shape[0])

    @property
    def n_components(self) -> int:
        """Values per codeword: 1 (gray), 3 or 4 (color), rows * cols (block)."""
        return 1 if self.levels.ndim == 1 else int(self.levels.shape[1])

    @property
    def code_dtype(self) -> np.dtype:
        """dtype of the codes: uint8 up to 256 levels, uint16 above."""
        return code_dtype(self.n_levels)

    @property
    def bits(self) -> int:
        """Bits per code when packed: ``ceil(log2(n_levels))``."""
        return int(self.n_levels - 1).bit_length()

    @property
    def thresholds(self) -> np.ndarray:
        """The interior edges of a gray codebook: code ``i`` starts at ``thresholds[i - 1]``."""
        if self.edges is None:
            raise AttributeError(f"A {self.mode} codebook has no thresholds (codes go to the nearest codeword).")
        return self.edges[1:-1]

    def derived(self, key, build):
        """``build(self)``, computed once per ``key`` and kept: the codebook never changes.

        The map stage keeps its look-up tables here (one per image dtype).
        """
        table = self._derived.get(key)
        if table is None:
            table = self._derived[key] = build(self)
        return table

    def levels_as(self, dtype=None) -> np.ndarray:
        """The levels in ``dtype`` (default: the fitted dtype).

        Integer dtypes round half to even and clip to the dtype's range.
        """
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        if dtype.kind in "ui":
            info = np.iinfo(dtype)
            return np.clip(np.rint(self.levels), info.min, info.max).astype(dtype)
        return self.levels.astype(dtype)

    def to_config(self) -> dict:
        """A small JSON-safe dict that :meth:`from_config` turns back into this codebook."""
        if self.mode != "gray":
            config = {
                "type": "vector",
                "version": _CONFIG_VERSION,
                "mode": self.mode,
                "strategy": self.strategy,
                "reconstruction": self.reconstruction,
                "dtype": self.dtype.str,
                "levels": self.levels.tolist(),
            }
            if self.block is not None:
                config["block"] = list(self.block)
            if self.space != "rgb":  # absent: RGB, as in every file written before spaces existed
                config["space"] = self.space
            return config
        return {
            "type": "scalar",
            "version": _CONFIG_VERSION,
            "strategy": self.strategy,
            "reconstruction": self.reconstruction,
            "dtype": self.dtype.str,
            "levels": self.levels.tolist(),
            "edges": self.edges.tolist(),
        }

    @classmethod
    def from_config(cls, config: dict) -> Codebook:
        """Rebuild a codebook from :meth:`to_config`'s dict (or its JSON text).

        Raises
        ------
        VQError
            When the config is not a valid scalar codebook.
        """
        if isinstance(config, str | bytes):
            try:
                config = json.loads(config)
            except (ValueError, RecursionError) as exc:
                raise VQError(f"Codebook config is not valid JSON: {exc}") from None
        if not isinstance(config, dict) or config.get("type") not in ("scalar", "vector"):
            raise VQError("Not a codebook config (missing \"type\": \"scalar\" or \"vector\").")
        if config.get("version") != _CONFIG_VERSION:
            raise VQError(f"Unsupported codebook config version {config.get('version')!r}.")
        try:
            dtype = np.dtype(config["dtype"])
            if dtype.kind not in "uif":
                raise TypeError(f"dtype {dtype} is not numeric")
            if config["type"] == "vector":
                if config.get("mode") not in ("color", "block"):
                    raise ValueError(f"vector mode {config.get('mode')!r} is not 'color' or 'block'")
                levels = np.asarray(config["levels"], dtype=np.float64)
                return cls(levels, None, strategy=config["strategy"], reconstruction=config["reconstruction"],
                           dtype=dtype, mode=config["mode"], block=config.get("block"),
                           space=config.get("space", "rgb"))
            return cls(
                config["levels"],
                config["edges"],
                strategy=config["strategy"],
                reconstruction=config["reconstruction"],
                dtype=dtype,
            )
        except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as exc:
            # OverflowError: a number beyond float64 or int64 (a 400-digit level, an infinite block size)
            raise VQError(f"Invalid codebook config: {exc}") from None

    def __eq__(self, other) -> bool:
        if not isinstance(other, Codebook):
            return NotImplemented
        return self.to_config() == other.to_config()

    __hash__ = None

    def _repr_html_(self) -> str:
        """Jupyter's display: the levels or colors as swatches and, for gray levels, the bins' histogram."""
        from ._display import codebook_html

        return codebook_html(self)

    def __repr__(self) -> str:
        mode = "" if self.mode == "gray" else f"mode={self.mode!r}, n_components={self.n_components}, "
        block = "" if self.block is None else f"block={self.block}, "
        block += "" if self.space == "rgb" else f"space={self.space!r}, "
        return (
            f"Codebook(n_levels={self.n_levels}, {mode}{block}strategy={self.strategy!r}, "
            f"reconstruction={self.reconstruction!r}, dtype={self.dtype})"
        )
