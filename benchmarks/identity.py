"""Bit-identical outputs across kernel rewrites: hashes of codes, levels, palettes and file bytes.

Every compiled kernel is exercised on the test and benchmark images (counting,
the optimal DP, table and comparison maps, the exact nearest color, box
splits, Ward merges, Lloyd and Hartigan, dithering, bit packing and the
context-mixing coder), and the SHA-256 of each output is compared with
``benchmarks/identity.json``, written once by the kernels being replaced.

Usage (from the repository root)::

    .venv/bin/python -m benchmarks.identity            # check against identity.json
    .venv/bin/python -m benchmarks.identity --write    # record the current outputs
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import vqimage
from benchmarks.common import make_wide_image
from vqimage.io import FaceUnavailable

MANIFEST = Path(__file__).resolve().parent / "identity.json"
GRAY = ("camera", "face", "moon", "coins")
COLOR = ("astronaut", "coffee", "chelsea")
DITHERS = ("floyd-steinberg", "atkinson", "sierra", "ordered")


def digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(f"{part.dtype.str}{part.shape}".encode())
            h.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, bytes):
            h.update(part)
        else:
            h.update(json.dumps(part, sort_keys=True).encode())
    return h.hexdigest()


def cases():
    """(name, function returning the parts to hash) for every output checked."""
    images = {}
    for name in GRAY + COLOR:
        try:
            images[name] = vqimage.load_image(name, gray=name in GRAY)
        except FaceUnavailable:
            print(f"note: {name} is not available offline; its cases are skipped", file=sys.stderr)
    wide = make_wide_image((512, 768))
    out = []

    def gray_case(name, image, strategy, k):
        cb = vqimage.fit(image, k, strategy=strategy)
        codes = vqimage.encode(image, cb)
        return cb.to_config(), codes, vqimage.decode(codes, cb), vqimage.pack(codes, k)

    for name in GRAY:
        if name not in images:
            continue
        image = images[name]
        for strategy in ("uniform", "quantile", "kmeans", "optimal"):
            for k in (2, 8, 16, 64, 256):
                out.append((f"gray {name} {strategy} {k}", lambda i=image, s=strategy, k=k, n=name: gray_case(n, i, s, k)))
        for k in (2, 4, 8, 16, 64):
            for coder in ("context", "packed"):
                out.append((f"vq {name} {k} {coder}",
                            lambda i=image, k=k, c=coder: (vqimage.compress(i, k, coder=c),)))
        out.append((f"histogram {name}", lambda i=image: (vqimage.histogram(i).counts,)))
    out.append(("gray wide optimal 256", lambda: gray_case("wide", wide, "optimal", 256)))
    out.append(("gray wide optimal 300", lambda: gray_case("wide", wide, "optimal", 300)))
    out.append(("vq wide 64 context", lambda: (vqimage.compress(wide, 64),)))
    out.append(("vq wide 300 context", lambda: (vqimage.compress(wide, 300),)))

    def color_case(image, k, **options):
        cb = vqimage.fit(image, k, mode="color", **options)
        codes = vqimage.encode(image, cb)
        return cb.levels, codes, vqimage.compress(image, codebook=cb)

    for name in COLOR:
        image = images[name]
        h = vqimage.vector_histogram(image)
        out.append((f"vector histogram {name}", lambda h=h: (h.vectors, h.counts, h.cell_start, h.cell_ids)))
        for strategy in ("kmeans", "wu"):
            for k in (16, 64, 256):
                out.append((f"color {name} {strategy} {k}", lambda i=image, s=strategy, k=k: color_case(i, k, strategy=s)))
        out.append((f"color {name} k-means++ 32", lambda i=image: color_case(i, 32, init="k-means++",
                                                                             random_state=3)))
        out.append((f"color {name} fixed 16", lambda i=image: color_case(
            i, 16, fixed=np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8))))
    astronaut = images["astronaut"]
    rgba = np.dstack([astronaut, np.where(astronaut[..., 0] > 200, 0, 255).astype(np.uint8)])
    rgba[::7, ::5, 3] = 128
    out.append(("color rgba 64", lambda: color_case(rgba, 64)))
    weights = np.linspace(0.5, 2.0, astronaut.shape[0] * astronaut.shape[1]).reshape(astronaut.shape[:2])
    out.append(("color weighted 32", lambda: color_case(astronaut, 32, weights=weights)))
    out.append(("color 1000 colors", lambda: color_case(astronaut, 1000)))
    camera = images["camera"]
    for block, k in (((2, 2), 256), ((4, 4), 64), ((2, 3), 32)):
        for strategy in ("kmeans", "wu"):
            def block_case(block=block, k=k, strategy=strategy):
                cb = vqimage.fit(camera, k, mode="block", block=block, strategy=strategy)
                codes = vqimage.encode(camera, cb)
                return cb.levels, codes, vqimage.decode(codes, cb, shape=camera.shape)
            out.append((f"block {block} {k} {strategy}", block_case))

    def dither_case(image, codebook, method, selective, strength=1.0, serpentine=True):
        return (vqimage.encode(image, codebook, dither=method, selective=selective, dither_strength=strength,
                               serpentine=serpentine),)

    gray4 = vqimage.fit(camera, 4)
    palette16 = vqimage.fit(astronaut, 16, mode="color")
    epaper = vqimage.palette_codebook("epaper7")
    wide_cb = vqimage.fit(wide, 8)
    for method in DITHERS:
        for selective in (False, True):
            out.append((f"dither gray {method} {selective}", lambda m=method, s=selective: dither_case(camera, gray4, m, s)))
            out.append((f"dither color {method} {selective}",
                        lambda m=method, s=selective: dither_case(astronaut, palette16, m, s)))
            out.append((f"dither epaper7 {method} {selective}",
                        lambda m=method, s=selective: dither_case(images["coffee"], epaper, m, s)))
            out.append((f"dither wide {method} {selective}", lambda m=method, s=selective: dither_case(wide, wide_cb, m, s)))
    out.append(("dither color half linear", lambda: dither_case(astronaut, palette16, "floyd-steinberg", False, 0.5,
                                                                 False)))
    out.append(("dither rgba", lambda: dither_case(rgba, vqimage.fit(rgba, 16, mode="color"), "sierra", True)))
    out.append(("dither gray palette", lambda: dither_case(camera, vqimage.palette_codebook("gray4", mode="gray"),
                                                           "atkinson", False)))
    for k in (2, 3, 5, 8, 17, 200, 300, 4000, 65536):
        def pack_case(k=k):
            rng = np.random.default_rng(k)
            codes = rng.integers(0, k, (37, 53)).astype(np.uint8 if k <= 256 else np.uint16)
            data = vqimage.pack(codes, k)
            return data, vqimage.unpack(data, k, codes.shape)
        out.append((f"pack {k}", pack_case))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="record the current outputs in identity.json")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, run in cases():
            found[name] = digest(*run())
    if args.write:
        MANIFEST.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(found)} hashes to {MANIFEST} in {time.perf_counter() - start:.1f} s")
        return 0
    expected = json.loads(MANIFEST.read_text())
    differ = sorted(name for name in found if name in expected and expected[name] != found[name])
    missing = sorted(set(expected) - set(found))
    for name in differ:
        print(f"DIFFERS: {name}")
    for name in missing:
        print(f"not run: {name}")
    same = sum(1 for name in found if expected.get(name) == found[name])
    print(f"{same} of {len(expected)} outputs identical, {len(differ)} differ, {len(missing)} not run "
          f"({time.perf_counter() - start:.1f} s)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
