#!/usr/bin/env python3
"""Regenerate tests/data/quant_legacy_gguf.bin: Q8_0 / Q4_0 / Q4_1 blocks made by gguf-py.

gguf-py (PyPI `gguf`, llama.cpp's own Python package, used by its converters) quantizes with
numpy ports of ggml's reference quantizers; its Q8_0 is documented bit-exact with
ggml-quants.c. tests/check_quant_legacy.c checks that lmrt writes the same bytes and reads
them back to the same floats, at every kernel level.

File layout (little-endian): b"LMQG", u32 version 1, u32 n_blocks, then
  f32 x[n_blocks * 32]                      the input rows
  Q8_0 blocks, Q4_0 blocks, Q4_1 blocks     gguf.quants.quantize(x)  (34, 18, 20 bytes each)
  f32 Q8_0, Q4_0, Q4_1 dequantized values  gguf.quants.dequantize(blocks)

Usage: pip install gguf numpy && python3 tools/gen_quant_legacy_golden.py
"""
import struct
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

OUT = "tests/data/quant_legacy_gguf.bin"


def reciprocal_blocks(rng, count):
    """Blocks where Q8_0's x * (1/d) and x / d round to different codes: ggml multiplies by
    the reciprocal, and these pin that down. Each block: amax first, then such values."""
    out = []
    while len(out) < count:
        amax = np.float32(rng.uniform(0.5, 2.0))
        d = np.float32(amax / np.float32(127))
        inv = np.float32(np.float32(1) / d)
        x = ((rng.integers(-126, 126, 4096).astype(np.float32) + np.float32(0.5)) * d).astype(
            np.float32)
        x = np.concatenate([x, np.nextafter(x, np.float32(np.inf))])
        a = np.abs((x * inv).astype(np.float32))
        b = np.abs((x / d).astype(np.float32))
        hit = x[(np.abs(x) < amax) & (np.trunc(a.astype(np.float64) + 0.5) != np.trunc(b.astype(np.float64) + 0.5))]
        if hit.size:
            blk = np.resize(hit, 32)
            blk[0] = amax
            out.append(blk)
    return np.concatenate(out)


def main():
    rng = np.random.default_rng(20261122)
    rows = []
    for scale in (1e-5, 2e-3, 0.05, 1.0, 300.0, 5000.0):
        rows.append(rng.standard_normal(32 * 8) * scale)
        rows.append(rng.uniform(-0.3, 1.0, 32 * 8) * scale)  # skewed: Q4_0's sign, Q4_1's min
    rows.append(rng.integers(-254, 255, 32 * 8) / 2.0)  # exact .5 ties for Q8_0 rounding
    rows.append(rng.integers(-8, 8, 32 * 8) * 0.125)  # exact codes and ties for Q4_x
    rows.append(reciprocal_blocks(rng, 8))
    x = np.concatenate(rows).astype(np.float32)
    n_blocks = x.size // 32
    out = [b"LMQG", struct.pack("<II", 1, n_blocks), x.tobytes()]
    blocks = {}
    for t in (T.Q8_0, T.Q4_0, T.Q4_1):
        blocks[t] = quants.quantize(x.reshape(1, -1), t)
        out.append(blocks[t].tobytes())
    for t in (T.Q8_0, T.Q4_0, T.Q4_1):
        out.append(quants.dequantize(blocks[t], t).astype(np.float32).tobytes())
    with open(OUT, "wb") as f:
        f.write(b"".join(out))
    print(f"{OUT}: {n_blocks} blocks", file=sys.stderr)


if __name__ == "__main__":
    main()
