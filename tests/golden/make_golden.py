"""Writes the golden .vq files. Run by hand ONLY for a deliberate format change:

    .venv/bin/python tests/golden/make_golden.py

tests/pack/test_golden.py decodes the committed files on every run and checks that
today's encoder still writes the same bytes, so an accidental change fails loudly.
"""

from pathlib import Path

import numpy as np

import vqimage
from vqimage.pack.container import CODERS

HERE = Path(__file__).resolve().parent


def golden_image() -> np.ndarray:
    """A deterministic 40x56 uint8 image: smooth gradients, an edge and a little texture."""
    y, x = np.mgrid[0:40, 0:56]
    image = 120 + 90 * np.sin(x / 9.0) * np.cos(y / 7.0) + 40 * (x > 30) + ((x * 7 + y * 13) % 11)
    return np.clip(image, 0, 255).astype(np.uint8)


def golden_color() -> np.ndarray:
    """A deterministic 40x56x3 uint8 RGB image: three phase-shifted gradients and a patch (format 1.1)."""
    gray = golden_image().astype(np.float64)
    y, x = np.mgrid[0:40, 0:56]
    rgb = np.stack([gray, 255 - gray * 0.8, 60 + 0.5 * gray + 40 * np.cos(x / 5.0 + y / 9.0)], axis=-1)
    rgb[10:20, 5:15] = [200, 30, 40]
    return np.clip(rgb, 0, 255).astype(np.uint8)


#: name -> (the image it quantizes: "image.npy" or "color.npy", n_levels, fit options)
CASES = {
    "k2": ("image.npy", 2, {}),
    "k8": ("image.npy", 8, {}),
    "k64": ("image.npy", 64, {}),
    "c16": ("color.npy", 16, {"mode": "color"}),
    "b8": ("image.npy", 8, {"mode": "block", "block": (2, 2)}),
}

if __name__ == "__main__":
    np.save(HERE / "image.npy", golden_image())
    np.save(HERE / "color.npy", golden_color())
    for name, (source, k, options) in CASES.items():
        for coder in CODERS:
            data = vqimage.compress(np.load(HERE / source), k, coder=coder, **options)
            (HERE / f"{name}-{coder}.vq").write_bytes(data)
    print("wrote", sorted(p.name for p in HERE.iterdir()))
