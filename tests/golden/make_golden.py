"""Writes the golden .vq files. Run by hand ONLY for a deliberate format change:

    .venv/bin/python tests/golden/make_golden.py

tests/test_golden.py decodes the committed files on every run and checks that
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


CASES = {"k2": 2, "k8": 8, "k64": 64}

if __name__ == "__main__":
    image = golden_image()
    np.save(HERE / "image.npy", image)
    for name, k in CASES.items():
        for coder in CODERS:
            (HERE / f"{name}-{coder}.vq").write_bytes(vqimage.compress(image, k, coder=coder))
    print("wrote", sorted(p.name for p in HERE.iterdir()))
