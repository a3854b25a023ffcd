"""Why the .vq context coder is vqimage's own compiled kernel and not constriction: the measurement in FORMAT.md.

Needs the optional peer: ``.venv/bin/pip install constriction``; then
``XDG_CACHE_HOME=<dir with scipy-data/face.dat> .venv/bin/python -m benchmarks.constriction_check``
(from the repository root).
"""

import time

import constriction
import numpy as np

import vqimage


def main():
    image = vqimage.load_image("face")
    codes = vqimage.encode(image, vqimage.fit(image, 8)).astype(np.int32)
    rows, cols = codes.shape
    k, flat = 8, codes.ravel()

    # 1) An order-0 model: all probabilities known up front, one batch call each way.
    p = np.bincount(flat, minlength=k) / flat.size
    model = constriction.stream.model.Categorical(p, perfect=False)
    start = time.perf_counter()
    encoder = constriction.stream.stack.AnsCoder()
    encoder.encode_reverse(flat, model)
    data = encoder.get_compressed()
    t_enc = time.perf_counter() - start
    start = time.perf_counter()
    decoded = constriction.stream.stack.AnsCoder(data).decode(model, flat.size)
    t_dec = time.perf_counter() - start
    assert np.array_equal(decoded, flat)
    print(f"order-0, batch: {data.nbytes * 8 / flat.size:.3f} bits/pixel, "
          f"encode {t_enc * 1e3:.1f} ms, decode {t_dec * 1e3:.1f} ms")

    # 2) An adaptive (W, N) context model: the decoder knows a pixel's probabilities only
    #    after decoding its neighbours, so it calls the library once per pixel.
    table = np.ones((k, k, k))
    probs = np.empty((flat.size, k))
    for y in range(rows):
        for x in range(cols):
            w = codes[y, x - 1] if x else (codes[y - 1, x] if y else 0)
            n = codes[y - 1, x] if y else w
            counts = table[w, n]
            probs[y * cols + x] = counts / counts.sum()
            counts[codes[y, x]] += 1
    categorical = constriction.stream.model.Categorical(perfect=False)
    start = time.perf_counter()
    encoder = constriction.stream.queue.RangeEncoder()
    encoder.encode(flat, categorical, probs)
    data = encoder.get_compressed()
    t_enc = time.perf_counter() - start
    decoder = constriction.stream.queue.RangeDecoder(data)
    sample = 20_000
    start = time.perf_counter()
    for i in range(sample):
        decoder.decode(categorical, probs[i : i + 1])
    t_dec = (time.perf_counter() - start) / sample * flat.size
    print(f"adaptive (W, N) context: {data.nbytes * 8 / flat.size:.3f} bits/pixel, batch encode "
          f"{t_enc * 1e3:.1f} ms, per-pixel decode {t_dec * 1e3:.0f} ms (extrapolated from {sample:,} pixels)")


if __name__ == "__main__":
    main()
