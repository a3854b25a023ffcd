"""vqimage: image compression by vector quantization, done properly.

One call does the whole job:

>>> import vqimage
>>> result = vqimage.quantize("camera", 8)      # the optimal 8 gray levels
>>> result.codes.dtype, result.codebook.n_levels
(dtype('uint8'), 8)
>>> round(result.metrics.psnr, 2)
30.98

The pipeline behind it is histogram -> codebook -> map -> pack, each stage a
function of its own:

>>> image = vqimage.load_image("camera")
>>> codebook = vqimage.fit(image, 8)            # stage 2, on the image's histogram (stage 1)
>>> codes = vqimage.encode(image, codebook)     # stage 3: uint8 codes, 0..7
>>> len(vqimage.pack(codes, 8))                 # stage 4: 3 bits per pixel, exactly
98304
>>> restored = vqimage.decode(codes, codebook)  # uint8 reconstruction
>>> round(vqimage.metrics.psnr(image, restored), 2)
30.98

``vqimage.sklearn``, ``vqimage.distributed``, ``vqimage.report``,
``vqimage.batch``, ``vqimage.compare`` and ``vqimage.targets`` load when first
used; the first three need extras (``pip install 'vqimage[sklearn]'``,
``[dask]``, ``[report]``, or ``[all]``).
"""

from importlib import import_module

from . import metrics
from ._validation import ConflictError, FitWarning, VQError
from ._version import __version__
from .codebook import Codebook
from .histogram import Histogram, VectorHistogram, histogram, vector_histogram
from .io import BUILTINS, ImageMeta, load_image, read_image
from .mapping import decode, encode
from .pack import pack, packed_size, unpack
from .palettes import load_palette, palette_codebook
from .pipeline import Quantized, compress, decompress, decompress_image, quantize, vq_info
from .solvers import fit, from_edges
from .targets import TargetError

__all__ = [
    "BUILTINS",
    "Codebook",
    "ConflictError",
    "FitWarning",
    "Histogram",
    "ImageMeta",
    "Quantized",
    "TargetError",
    "VQError",
    "VectorHistogram",
    "compress",
    "decode",
    "decompress",
    "decompress_image",
    "encode",
    "fit",
    "from_edges",
    "histogram",
    "load_image",
    "load_palette",
    "metrics",
    "pack",
    "packed_size",
    "palette_codebook",
    "quantize",
    "read_image",
    "unpack",
    "vector_histogram",
    "vq_info",
]

_LAZY = ("sklearn", "distributed", "report", "batch", "compare", "targets", "dither", "solvers")


def __getattr__(name):
    if name in _LAZY:
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'vqimage' has no attribute {name!r}")
