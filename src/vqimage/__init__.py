"""vqimage: image compression by vector quantization, done properly.

The pipeline is histogram -> codebook -> map -> pack:

>>> import vqimage
>>> image = vqimage.load_image("camera")
>>> codebook = vqimage.fit(image, 8)            # the optimal 8 gray levels
>>> codes = codebook.encode(image)              # uint8 codes, 0..7
>>> len(vqimage.pack(codes, 8))                 # 3 bits per pixel, exactly
98304
>>> restored = codebook.decode(codes)           # uint8 reconstruction
>>> round(vqimage.metrics.psnr(image, restored), 2)
30.98
"""

from importlib.metadata import PackageNotFoundError, version

from . import metrics
from ._validation import VQError
from .codebook import Codebook, FitWarning, VectorHistogram, fit, from_edges, vector_histogram
from .histogram import Histogram, histogram
from .io import BUILTINS, load_image
from .mapping import decode, encode
from .pack import pack, packed_size, unpack
from .palettes import load_palette, palette_codebook
from .pipeline import compress, decompress, decompress_image, vq_info

try:
    __version__ = version("vqimage")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "BUILTINS",
    "Codebook",
    "FitWarning",
    "Histogram",
    "VQError",
    "VectorHistogram",
    "decode",
    "encode",
    "fit",
    "from_edges",
    "compress",
    "decompress",
    "decompress_image",
    "histogram",
    "load_image",
    "load_palette",
    "metrics",
    "pack",
    "packed_size",
    "palette_codebook",
    "unpack",
    "vector_histogram",
    "vq_info",
]
